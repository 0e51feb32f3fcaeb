/// Whether the firmware puts the device behind any IOMMU.
public struct IOMMUCoverageCheck: Check {
    public static let descriptor = CheckDescriptor(
        id: "device.iommu-coverage",
        title: "The firmware puts the device behind an IOMMU",
        category: .device,
        rationale:
            "A device is translated only if a DRHD (VT-d) covers its segment with INCLUDE_PCI_ALL or names it or a bridge above it, or an IVHD (AMD-Vi) names its requester id. A device no unit claims has no IOMMU group and can only be used in no-IOMMU mode.",
        remedy: "Update the firmware so its DMAR/IVRS covers every PCI segment, or move the device to a covered segment.",
        looksAt: ["DMAR DRHD INCLUDE_PCI_ALL and scopes", "IVRS IVHD device entries"],
        examples: [
            .pass("intel-vfio-ready", device: "0000:01:00.0"), .fail("rmrr-direct", device: "0001:01:00.0"),
            .pass("amd-host", device: "0000:03:00.0"),
        ])

    public static func evaluate(_ context: CheckContext) -> [Finding] {
        let host = context.host
        guard let c = host.firmware.coverage else { return [] }
        return host.selectedDevices.map { d in
            let s = Subject.device(d.address)
            if c.covers(d, physfn: d.physfn.flatMap(host.device)) {
                return finding(.pass, s, d.isVF ? "covered by the \(c.source), through its PF" : "covered by the \(c.source)")
            }
            return finding(
                .fail, s,
                "no \(c.source == "DMAR" ? "DRHD" : "IVHD") covers it (segment \(hex(d.address.domain, 4))): the firmware puts it behind no IOMMU",
                evidence: [
                    Evidence(
                        "/sys/firmware/acpi/tables/\(c.source)",
                        "segments covered whole: \(c.wholeSegments.sorted().map { hex($0, 4) }.joined(separator: " "))")
                ],
                impacts: Impact.blocks(
                    Mode.iommuBacked, "\(d.bdf) is behind no IOMMU according to the \(c.source)", fix: [descriptor.remedy]))
        }
    }
}
