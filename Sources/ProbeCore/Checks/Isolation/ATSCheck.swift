/// Address Translation Services: a device that caches the IOMMU's translations.
public struct ATSCheck: Check {
    public static let descriptor = CheckDescriptor(
        id: "device.ats",
        title: "Address Translation Services (ATS) on the device",
        category: .device,
        rationale:
            "A device with ATS enabled (the ATS extended capability, control bit 15; pci_enable_ats, which the IOMMU driver calls when it supports the device's ATC) asks the IOMMU for translations, caches them, and then issues requests marked as translated, which the IOMMU passes without checking again; the kernel invalidates the cache on every unmap. The device is trusted to use only what it was given: the kernel refuses ATS to untrusted (external-facing) devices (pci_ats_supported), and pci=noats refuses it to all and also turns on ACS Translation Blocking on every port (pci_std_enable_acs). Below a port with ACS Direct Translated P2P, translated requests go peer-to-peer unchecked.",
        remedy:
            "Nothing is needed for a device you trust with its firmware; to stop the device bypassing the IOMMU with translated requests, boot with pci=noats (the kernel then also blocks translated requests at ACS ports).",
        looksAt: ["config space: ATS extended capability (id 0x0f, control +6)", "/proc/cmdline (pci=noats)"],
        examples: [.info("ats-enabled", device: "0000:01:00.0"), .pass("ats-enabled", device: "0000:01:00.1")],
        decides: false)

    public static func evaluate(_ context: CheckContext) -> [Finding] {
        let host = context.host
        let noats = (host.cmdline?.options("pci") ?? []).contains("noats")
        return host.selectedDevices.compactMap { d -> Finding? in
            let s = Subject.device(d.address)
            guard d.configComplete else { return skipped(s, "only 64 bytes of config space could be read (run as root)") }
            // No ATS capability: every request it makes is translated; nothing to say (a finding
            // per function of a 4096-function host would say only that).
            guard let ats = d.capabilities.first(where: { $0.space == .extended && $0.id == PCICapability.atsExtended }) else {
                return nil
            }
            let ev = Evidence(
                "/sys/bus/pci/devices/\(d.bdf)/config",
                "ATS capability at 0x\(String(ats.offset, radix: 16)), control \(ats.word(at: 6).map { "0x" + String($0, radix: 16) } ?? "unread")"
            )
            guard let ctrl = ats.word(at: 6) else { return skipped(s, "its ATS capability is cut short") }
            let enabled = ctrl & 0x8000 != 0  // PCI_ATS_CTRL_ENABLE
            if !enabled {
                return finding(
                    .pass, s,
                    noats
                        ? "ATS capable, kept off by pci=noats: every request is translated by the IOMMU"
                        : "ATS capable but not enabled (the IOMMU driver did not turn it on): every request is translated by the IOMMU",
                    evidence: [ev])
            }
            if noats {
                return finding(
                    .warn, s, "ATS is enabled although pci=noats is on the command line: something other than the kernel turned it on",
                    detail:
                        "pci=noats makes pci_ats_supported refuse every device; an enabled ATS control bit was set behind the kernel's back (firmware or a userspace tool).",
                    evidence: [ev])
            }
            return finding(
                .info, s,
                "ATS is enabled: the device caches IOMMU translations and its translated requests pass the IOMMU unchecked (the kernel trusts it: it is not marked untrusted)",
                detail:
                    "With ACS on the ports above, translated requests still go upstream unless Direct Translated P2P is on; boot with pci=noats to turn ATS off for every device.",
                evidence: [ev])
        }
    }
}
