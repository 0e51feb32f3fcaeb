/// Did the kernel register IOMMU hardware?
public struct IOMMUUnitsCheck: Check {
    public static let descriptor = CheckDescriptor(
        id: "iommu.units",
        title: "The kernel registered IOMMU units",
        category: .iommu,
        rationale:
            "/sys/class/iommu lists the IOMMUs the kernel drives (dmarN, ivhdN, virtio, SMMU). Tables in firmware with no unit here mean the kernel left the IOMMU off.",
        remedy: "Turn the IOMMU on in the kernel: intel_iommu=on (Intel), remove amd_iommu=off / iommu=off (AMD).",
        looksAt: ["/sys/class/iommu/*", "/sys/class/iommu/*/intel-iommu/{cap,ecap}", "/sys/class/iommu/*/amd-iommu/features"],
        examples: [
            .pass("intel-vfio-ready"), .pass("amd-host"),
            .fail("intel-iommu-off", remedy: Actions.kernelParameter(replace: "intel_iommu=off", with: "intel_iommu=on")),
            .info("noiommu-enabled"), .pass("container"),
        ])

    public static func evaluate(_ context: CheckContext) -> [Finding] {
        let host = context.host
        let tables = host.firmware.present.value ?? []
        switch host.iommuUnits {
        case .unreadable(let why):
            return [skipped(why.description)]
        case .value(let units) where !units.isEmpty:
            let list = units.map { "\($0.name) (\(kindName($0.kind)))" }.joined(separator: ", ")
            return [
                finding(
                    .pass, "\(units.count) IOMMU unit\(units.count == 1 ? "" : "s"): \(list)",
                    evidence: units.map { Evidence("/sys/class/iommu/\($0.name)", kindName($0.kind)) })
            ]
        default:
            if !tables.isEmpty {
                let action = host.iommuEnableAction
                let why = host.iommuDisablingParameter.map { " (\($0) on the command line)" } ?? ""
                return [
                    finding(
                        .fail, "firmware has \(tables.joined(separator: ", ")) but the kernel registered no IOMMU\(why)",
                        remedy: action,
                        evidence: [Evidence("/sys/class/iommu", "empty")],
                        impacts: Impact.blocks(
                            Mode.iommuBacked, "the IOMMU is in firmware but the kernel did not enable it\(why)", fix: [action]))
                ]
            }
            return [finding(.info, "no IOMMU units (none described by firmware)", evidence: [Evidence("/sys/class/iommu", "empty")])]
        }
    }

    static func kindName(_ k: IOMMUUnit.Kind) -> String {
        switch k {
        case .intel: "Intel VT-d"
        case .amd: "AMD-Vi"
        case .virtio: "virtio-iommu"
        case .arm: "Arm SMMU"
        case .other: "IOMMU"
        }
    }
}
