/// The address width the firmware declares.
public struct FirmwareAddressWidthCheck: Check {
    public static let descriptor = CheckDescriptor(
        id: "firmware.address-width",
        title: "Firmware DMA address width suits IOVA-as-VA",
        category: .firmware,
        rationale:
            "IVRS's virtual address size bounds the IOVAs AMD-Vi translates; below 48 bits, user virtual addresses used as IOVAs (DPDK's and SPDK's default) may not fit. DMAR's host address width (HAW) is the platform's DMA physical addressability, not the IOVA width (that is the unit's MGAW, which iommu.address-width checks): typical Xeons have HAW 46 and a 48-bit MGAW, so HAW is shown, not judged.",
        remedy: "Use IOVA-as-PA (DPDK --iova-mode=pa); for a VM, a wider vIOMMU (QEMU intel-iommu,aw-bits=48).",
        looksAt: ["DMAR host address width", "IVRS IVinfo VA size"],
        examples: [.info("intel-vfio-ready"), .info("intel-no-ir"), .pass("amd-host")], decides: false)

    public static func evaluate(_ context: CheckContext) -> [Finding] {
        let fw = context.host.firmware
        if let d = fw.dmar {
            let ev = [Evidence("/sys/firmware/acpi/tables/DMAR", "HAW field \(d.hostAddressWidth - 1) (\(d.hostAddressWidth) bits)")]
            return [
                finding(
                    .info,
                    "DMAR host address width \(d.hostAddressWidth) bits (DMA physical addressability; the IOVA width is the unit's MGAW)",
                    evidence: ev)
            ]
        }
        if let i = fw.ivrs {
            let ev = [
                Evidence(
                    "/sys/firmware/acpi/tables/IVRS",
                    "IVinfo 0x\(hex(i.ivinfo, 8)): VA \(i.virtualAddressSize), PA \(i.physicalAddressSize)")
            ]
            if i.virtualAddressSize == 0 {
                // QEMU's emulated AMD-Vi leaves the field at 0: not reported, not zero bits.
                return [
                    finding(.info, "IVRS does not report a virtual address size (physical \(i.physicalAddressSize) bits)", evidence: ev)
                ]
            }
            if i.virtualAddressSize < 48 {
                return [finding(.warn, "IVRS virtual address size is \(i.virtualAddressSize) bits, below 48", evidence: ev)]
            }
            return [
                finding(.pass, "IVRS virtual address size \(i.virtualAddressSize) bits, physical \(i.physicalAddressSize)", evidence: ev)
            ]
        }
        return []
    }
}
