/// Kernel DMA protection (the DMAR platform opt-in).
public struct DMAProtectionCheck: Check {
    public static let descriptor = CheckDescriptor(
        id: "firmware.dma-protection",
        title: "Kernel DMA protection opt-in",
        category: .firmware,
        rationale:
            "DMAR flag DMA_CTRL_PLATFORM_OPT_IN says the firmware kept the IOMMU protecting memory through boot (Thunderbolt/USB4 \"kernel DMA protection\"); the kernel then forces the IOMMU on even without intel_iommu=on.",
        remedy: "Nothing for VFIO; it only tells why the IOMMU is on.",
        looksAt: ["DMAR flags (bit 2)"],
        examples: [.info("intel-vfio-ready")], decides: false)

    public static func evaluate(_ context: CheckContext) -> [Finding] {
        guard let d = context.host.firmware.dmar else { return [] }
        let ev = [Evidence("/sys/firmware/acpi/tables/DMAR", "flags 0x\(hex(d.flags, 2))")]
        return [
            finding(
                .info,
                d.dmaControlPlatformOptIn
                    ? "DMA_CTRL_PLATFORM_OPT_IN set: the kernel forces the IOMMU on (kernel DMA protection)"
                    : "DMA_CTRL_PLATFORM_OPT_IN not set", evidence: ev)
        ]
    }
}
