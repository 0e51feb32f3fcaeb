/// Mediated devices: parents, types and instances.
public struct MdevCheck: Check {
    public static let descriptor = CheckDescriptor(
        id: "vfio.mdev",
        title: "Mediated devices",
        category: .vfio,
        rationale:
            "An mdev parent (a vGPU, a crypto accelerator, the mtty sample) offers types; each instance is a VFIO device in its own IOMMU group, isolated by the parent driver rather than the IOMMU.",
        remedy: "Create an instance: echo $(uuidgen) > /sys/class/mdev_bus/PARENT/mdev_supported_types/TYPE/create",
        looksAt: ["/sys/class/mdev_bus/*/mdev_supported_types/*", "/sys/bus/mdev/devices/*"],
        examples: [.info("intel-vfio-ready"), .info("intel-no-ir")], decides: false)

    public static func evaluate(_ context: CheckContext) -> [Finding] {
        let host = context.host
        guard case .value(let parents) = host.mdevParents else {
            if case .unreadable(let why) = host.mdevParents { return [skipped(why.description)] }
            return [finding(.info, "no mediated-device parents")]
        }
        let devices = host.mdevs.value ?? []
        var lines: [String] = []
        for p in parents {
            let types = p.types.map { t in
                "\(t.id)\(t.name.map { " (\($0))" } ?? ""): \(t.availableInstances.map(String.init) ?? "?") available"
            }
            lines.append("\(p.name): \(types.joined(separator: "; "))")
        }
        for d in devices {
            lines.append(
                "mdev \(d.uuid) on \(d.parent ?? "?") type \(d.type ?? "?"), group \(d.iommuGroup.map(String.init) ?? "none"), driver \(d.driver ?? "none")"
            )
        }
        return [
            finding(
                .info,
                "\(parents.count) mdev parent\(parents.count == 1 ? "" : "s"), \(devices.count) instance\(devices.count == 1 ? "" : "s")",
                detail: lines.joined(separator: "\n"),
                evidence: parents.map { Evidence("/sys/class/mdev_bus/\($0.name)", $0.types.map(\.id).joined(separator: " ")) })
        ]
    }
}
