/// Are there real IOMMU groups, not only no-IOMMU stand-ins?
public struct IOMMUGroupsCheck: Check {
    public static let descriptor = CheckDescriptor(
        id: "iommu.groups",
        title: "IOMMU groups exist",
        category: .iommu,
        rationale:
            "VFIO hands out devices by IOMMU group. No groups means no device is behind an active IOMMU; groups named vfio-noiommu are made by VFIO itself — stand-ins for no-IOMMU mode, or the emulated-IOMMU groups of mdev instances — and prove nothing about the IOMMU (DPDK and SPDK test only that the folder is non-empty).",
        remedy: "Enable the IOMMU (firmware setting and kernel command line); see the firmware and IOMMU findings.",
        looksAt: ["/sys/kernel/iommu_groups/*", "/sys/kernel/iommu_groups/*/name"],
        examples: [
            .pass("intel-vfio-ready"), .fail("intel-iommu-off"), .fail("noiommu-enabled"), .pass("amd-host"), .fail("mdev-no-iommu"),
        ])

    public static func evaluate(_ context: CheckContext) -> [Finding] {
        let host = context.host
        // Group numbers by kind (a large host has thousands of groups: no group is copied or sorted).
        var real: [Int] = [], fake: [Int] = [], emulated: [Int] = []
        for (id, g) in host.groups {
            switch g.kind {
            case .iommu: real.append(id)
            case .noIOMMU: fake.append(id)
            case .emulatedIOMMU: emulated.append(id)
            }
        }
        real.sort()
        fake.sort()
        emulated.sort()
        func plural(_ n: Int, _ what: String) -> String { "\(n) \(what)\(n == 1 ? "" : "s")" }
        var made: [String] = []
        if !fake.isEmpty { made.append(plural(fake.count, "no-IOMMU group")) }
        if !emulated.isEmpty { made.append(plural(emulated.count, "mdev group") + " (emulated IOMMU)") }
        let scoped = host.scope != .all
        let what = scoped ? "the selected devices' groups" : "/sys/kernel/iommu_groups"
        if !real.isEmpty {
            var s =
                scoped
                ? "the selected devices are in IOMMU group\(real.count == 1 ? "" : "s") \(real.map(String.init).joined(separator: ", "))"
                : "\(real.count) IOMMU group\(real.count == 1 ? "" : "s")"
            if !made.isEmpty { s += ", and " + made.joined(separator: " and ") }
            return [finding(.pass, s, evidence: [Evidence("/sys/kernel/iommu_groups", "\(real.count) real")])]
        }
        if scoped, host.iommuActive == true {
            return [finding(.info, "an IOMMU is active, but none of the selected devices is in an IOMMU group")]
        }
        if case .unreadable(let why) = host.groupCount, host.groups.isEmpty {
            var f = skipped(why.description)
            // Whether an IOMMU translates decides every mode (no-IOMMU applies only outside groups).
            if host.iommuActive == nil {
                f.impacts = Impact.undecided(
                    Mode.usable, "cannot tell whether an IOMMU is active (\(why))",
                    ["run vfio-probe as root on the host, with /sys mounted whole (sys/kernel/iommu_groups and sys/class/iommu)"])
            }
            return [f]
        }
        if !fake.isEmpty || !emulated.isEmpty {
            let own = fake + emulated
            let ids = own.map(String.init).joined(separator: ", ")
            return [
                finding(
                    .fail,
                    "no IOMMU groups: no PCI device is behind an active IOMMU (group\(own.count == 1 ? "" : "s") \(ids) \(own.count == 1 ? "is" : "are") VFIO's own: \(made.joined(separator: ", ")))",
                    evidence: own.map { Evidence("/sys/kernel/iommu_groups/\($0)/name", "vfio-noiommu") },
                    impacts: Impact.blocks(Mode.iommuBacked, "no device is behind an active IOMMU (only vfio-noiommu groups)"))
            ]
        }
        return [
            finding(
                .fail, "no IOMMU groups in \(what): no device is behind an active IOMMU",
                evidence: [Evidence("/sys/kernel/iommu_groups", "empty")],
                impacts: Impact.blocks(Mode.iommuBacked, "no IOMMU groups: no device is behind an active IOMMU"))
        ]
    }
}
