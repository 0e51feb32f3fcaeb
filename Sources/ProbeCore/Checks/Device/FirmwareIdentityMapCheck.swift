/// RMRR and IVMD regions mapped to the devices they name.
public struct FirmwareIdentityMapCheck: Check {
    public static let descriptor = CheckDescriptor(
        id: "device.firmware-identity-map",
        title: "No firmware identity mapping (RMRR/IVMD) names the device",
        category: .device,
        rationale:
            "An RMRR (VT-d) or IVMD (AMD-Vi) names memory the firmware keeps using for DMA on a device's behalf (management controllers, shared NIC ports, USB legacy emulation). The kernel refuses to attach such a device to a VFIO domain; VT-d relaxes it only for USB and graphics. Read from the tables, this is known before anyone binds the device.",
        remedy: ReservedRegionsCheck.descriptor.remedy,
        looksAt: ["DMAR RMRR scopes, resolved through bridge secondary bus numbers", "IVRS IVMD 20h/21h/22h"],
        examples: [
            .fail("rmrr-direct", device: "0000:01:00.0"), .pass("rmrr-direct", device: "0000:01:00.1"),
            // IVMD unity map: allowed before 6.6 (amd-host runs 6.1), refused since (require_direct).
            .info("amd-host", device: "0000:04:00.3"), .fail("amd-host-6.12", device: "0000:04:00.3"),
            .pass("amd-host", device: "0000:03:00.0"),
            .skip("intel-nonroot", device: "0000:01:00.0"),
        ])

    public static func evaluate(_ context: CheckContext) -> [Finding] {
        let host = context.host
        let fw = host.firmware
        let tables = (fw.present.value ?? []).filter { $0 == "DMAR" || $0 == "IVRS" }
        guard !tables.isEmpty else { return [] }
        let readable = tables.allSatisfy { fw.decoded[$0] != nil }
        return host.selectedDevices.map { d in
            let s = Subject.device(d.address)
            guard readable else { return skipped(s, "\(tables.joined(separator: ", ")) readable only by root") }
            let hits = fw.identityMaps.filter { $0.covers(d) }
            guard !hits.isEmpty else { return finding(.pass, s, "no RMRR or IVMD names it") }
            let ev = hits.map { Evidence("/sys/firmware/acpi/tables/\($0.source == .rmrr ? "DMAR" : "IVRS")", $0.description) }
            // VT-d lets USB and graphics devices with RMRRs attach (device_rmrr_is_relaxable).
            let relaxable = hits.allSatisfy { $0.source == .rmrr } && (d.baseClass == 0x03 || d.classCode >> 8 == 0x0c03)
            if relaxable {
                return finding(
                    .info, s, "\(hits.map(\.description).joined(separator: ", ")) names it, but VT-d relaxes RMRRs for USB and graphics",
                    evidence: ev)
            }
            let rule = host.directMappingRule
            if !rule.refuses {
                return finding(
                    .info, s, "\(hits.map(\.description).joined(separator: ", ")) names it, which this kernel allows: \(rule.rule)",
                    evidence: ev)
            }
            return finding(
                .fail, s, "the firmware requires an identity mapping for it: \(hits.map(\.description).joined(separator: ", "))",
                evidence: ev,
                impacts: Impact.blocks(
                    Mode.iommuBacked,
                    "\(d.bdf) has a firmware identity mapping (\(hits.map(\.description).joined(separator: ", "))): the kernel refuses it a VFIO domain",
                    fix: [descriptor.remedy]))
        }
    }
}
