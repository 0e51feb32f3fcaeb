/// mdev parents as scalable functions: their types, capacity and instances, and whether they
/// could sit behind PASIDs (Scalable IOV).
public struct ScalableFunctionsCheck: Check {
    public static let descriptor = CheckDescriptor(
        id: "vfio.scalable-functions",
        title: "Scalable functions (mdev types, instances and capacity)",
        category: .vfio,
        rationale:
            "A parent device shares itself out as mediated devices: each type has a capacity (available_instances) and instances, each a VFIO device. On Scalable IOV hardware (Intel DSA/IAA through idxd, for one) each instance's DMA can carry a PASID of its own, translated by an IOMMU in scalable mode; otherwise it carries the parent's requester ID and the parent driver keeps the instances apart. Which a parent driver does is not in sysfs: only a parent with PASID enabled behind an IOMMU that gives PASIDs can do the former.",
        remedy: "Create an instance: echo $(uuidgen) > /sys/class/mdev_bus/PARENT/mdev_supported_types/TYPE/create",
        looksAt: ["/sys/class/mdev_bus/*/mdev_supported_types/*", "/sys/bus/mdev/devices/*", "the parent's PASID capability"],
        examples: [.info("pasid-sm"), .info("intel-no-ir")], decides: false)

    public static func evaluate(_ context: CheckContext) -> [Finding] {
        let host = context.host
        guard case .value(let parents) = host.mdevParents, !parents.isEmpty else { return [] }
        let instances = host.mdevs.value ?? []
        return parents.map { p in
            let (behind, why) = PASIDRule.mdevBehindPASID(p, host: host)
            let mine = instances.filter { $0.parent == p.name }
            var lines = p.types.map { t in
                "type \(t.id)\(t.name.map { " (\($0))" } ?? ""): \(t.instances.count) instance\(t.instances.count == 1 ? "" : "s"), room for \(t.availableInstances.map(String.init) ?? "?") more"
            }
            lines += mine.map { "instance \($0.uuid): type \($0.type ?? "?"), driver \($0.driver ?? "none")" }
            lines.append(why)
            let pasid =
                switch behind {
                case true?: "behind PASID"
                case false?: "not behind PASID"
                case nil: "behind PASID: cannot tell"
                }
            let driver = PCIAddress(p.name).flatMap { host.device($0)?.driver }.map { " [\($0)]" } ?? ""
            return finding(
                .info,
                "\(p.name)\(driver): \(p.types.count) type\(p.types.count == 1 ? "" : "s"), \(mine.count) instance\(mine.count == 1 ? "" : "s"); \(pasid)",
                detail: lines.joined(separator: "\n"),
                evidence: [Evidence("/sys/class/mdev_bus/\(p.name)/mdev_supported_types", p.types.map(\.id).joined(separator: " "))])
        }
    }
}
