/// Is the device behind an IOMMU?
public struct DeviceIOMMUGroupCheck: Check {
    public static let descriptor = CheckDescriptor(
        id: "device.iommu-group",
        title: "Device is in an IOMMU group",
        category: .device,
        rationale:
            "VFIO with isolation works only for a device in an IOMMU group; vfio-pci refuses a device without one unless no-IOMMU mode is on, and then puts it in a vfio-noiommu stand-in group. A device outside every group on a host with an IOMMU is not covered by the firmware's tables.",
        remedy: "Check that the firmware's DMAR/IVRS scopes cover the device's segment and bus (see firmware findings).",
        looksAt: ["/sys/bus/pci/devices/BDF/iommu_group", "/sys/kernel/iommu_groups/N/name"],
        examples: [
            .pass("intel-vfio-ready", device: "0000:01:00.0"), .info("noiommu-enabled", device: "0000:00:03.0"),
            .info("noiommu-not-compiled", device: "0000:00:03.0"),
        ])

    public static func evaluate(_ context: CheckContext) -> [Finding] {
        let host = context.host
        return host.selectedDevices.map { d in
            let s = Subject.device(d.address)
            var link: String { "/sys/bus/pci/devices/\(d.bdf)/iommu_group" }
            // Unread is not absent: a device whose group cannot be told has no mode yet.
            func undecided(_ why: String) -> Finding {
                var f = skipped(s, why)
                f.impacts = Impact.undecided(
                    Mode.usable, "cannot tell whether \(d.bdf) is behind an IOMMU (\(why))",
                    ["run vfio-probe as root on the host, with /sys mounted whole"])
                return f
            }
            if d.unreadable.contains("iommu_group") { return undecided("\(link) is unreadable") }
            if let g = host.group(of: d), let why = g.nameProblem {
                return undecided("whether group \(g.id) is a no-IOMMU stand-in: \(why)")
            }
            guard let g = host.group(of: d) else {
                if host.iommuActive == true {
                    return finding(
                        .fail, s, "not in any IOMMU group although an IOMMU is active", evidence: [Evidence(link, "missing")],
                        impacts: Impact.blocks(Mode.iommuBacked, "\(d.bdf) is not behind any IOMMU"))
                }
                return finding(
                    .info, s, "no IOMMU group (no IOMMU is active): usable only in no-IOMMU mode", evidence: [Evidence(link, "missing")],
                    impacts: Impact.blocks(Mode.iommuBacked, "\(d.bdf) is not behind an IOMMU"))
            }
            let members = g.memberCount
            if g.isNoIOMMU {
                return finding(
                    .info, s, "vfio-noiommu group \(g.id): bound in no-IOMMU mode, with no isolation",
                    evidence: [Evidence("/sys/kernel/iommu_groups/\(g.id)/name", "vfio-noiommu")],
                    impacts: Impact.blocks(Mode.iommuBacked, "\(d.bdf) is in a no-IOMMU stand-in group"))
            }
            return finding(
                .pass, s, "IOMMU group \(g.id)\(members > 1 ? " with \(members - 1) other device\(members == 2 ? "" : "s")" : ", alone")",
                evidence: [Evidence(link, "\(g.id)")],
                impacts: [
                    .blocks(
                        .noiommu, "\(d.bdf) is behind an IOMMU (group \(g.id)); no-IOMMU mode applies only to devices outside every group")
                ])
        }
    }
}
