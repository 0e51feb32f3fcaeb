/// Are there real IOMMU groups, not only no-IOMMU stand-ins?
public struct IOMMUGroupsCheck: Check {
    public static let descriptor = CheckDescriptor(
        id: "iommu.groups",
        title: "IOMMU groups exist",
        category: .iommu,
        rationale: "VFIO hands out devices by IOMMU group. No groups means no device is behind an active IOMMU; groups named vfio-noiommu are stand-ins created for no-IOMMU mode and prove nothing (DPDK and SPDK test only that the folder is non-empty).",
        remedy: "Enable the IOMMU (firmware setting and kernel command line); see the firmware and IOMMU findings.",
        looksAt: ["/sys/kernel/iommu_groups/*", "/sys/kernel/iommu_groups/*/name"],
        examples: [.pass("intel-vfio-ready"), .fail("intel-iommu-off"), .fail("noiommu-enabled"), .pass("amd-host")])

    public static func evaluate(_ context: CheckContext) -> [Finding] {
        let host = context.host
        let groups = host.groups.values.sorted { $0.id < $1.id }
        let real = groups.filter { !$0.isNoIOMMU }
        let fake = groups.filter(\.isNoIOMMU)
        let scoped = host.scope != .all
        let what = scoped ? "the selected devices' groups" : "/sys/kernel/iommu_groups"
        if !real.isEmpty {
            var s = scoped ? "the selected devices are in IOMMU group\(real.count == 1 ? "" : "s") \(real.map { String($0.id) }.joined(separator: ", "))"
                           : "\(real.count) IOMMU group\(real.count == 1 ? "" : "s")"
            if !fake.isEmpty { s += ", and \(fake.count) vfio-noiommu group\(fake.count == 1 ? "" : "s")" }
            return [finding(.pass, s, evidence: [Evidence("/sys/kernel/iommu_groups", "\(real.count) real")])]
        }
        if scoped, host.iommuActive == true {
            return [finding(.info, "an IOMMU is active, but none of the selected devices is in an IOMMU group")]
        }
        if case .unreadable(let why) = host.groupCount, groups.isEmpty { return [skipped(why)] }
        if !fake.isEmpty {
            return [finding(.fail, "only vfio-noiommu groups (\(fake.map { String($0.id) }.joined(separator: ", "))): stand-ins for no-IOMMU mode, not IOMMU groups",
                            evidence: fake.map { Evidence("/sys/kernel/iommu_groups/\($0.id)/name", "vfio-noiommu") },
                            impacts: [.blocks(.vfio, "no device is behind an active IOMMU (only vfio-noiommu groups)")])]
        }
        return [finding(.fail, "no IOMMU groups in \(what): no device is behind an active IOMMU",
                        evidence: [Evidence("/sys/kernel/iommu_groups", "empty")],
                        impacts: [.blocks(.vfio, "no IOMMU groups: no device is behind an active IOMMU")])]
    }
}
