/// The kernel messages that explain a VFIO or IOMMU outcome: one entry per kind of message, with
/// the kernel function that prints it, what it means and what to do. Pure and table-driven: a
/// record matches a kind when its message holds every one of the kind's `all` strings and, when
/// `any` is given, one of those.
public struct KernelLogKind: Sendable, Equatable {
    /// A short name ("dmar-fault"): the JSON `kind`.
    public var id: String
    public var title: String
    /// `.warn` for what went wrong, `.info` for what the kernel did.
    public var severity: Status
    /// The kernel function (and file) the message comes from.
    public var source: String
    public var meaning: String
    public var remedy: String?
    var all: [String]
    var any: [String] = []

    func matches(_ message: String) -> Bool {
        all.allSatisfy { message.contains($0) } && (any.isEmpty || any.contains { message.contains($0) })
    }
}

/// A kind's records about one subject (a function, or the host): how many, the first and the last.
public struct KernelLogEntry: Sendable, Equatable {
    public var kind: KernelLogKind
    public var device: PCIAddress?
    public var count: Int
    public var first: KernelLog.Record
    public var last: KernelLog.Record

    /// "[   12.345678] message", and how often it repeated.
    public var line: String {
        first.stamp + " " + first.message + (count > 1 ? " (×\(count), last \(last.stamp))" : "")
    }
}

public enum KernelLogMatcher {
    static let irRemedy =
        "Turn interrupt remapping on (firmware: VT-d / AMD-Vi interrupt remapping; kernel: drop intremap=off; a QEMU guest: -device intel-iommu,intremap=on with -machine kernel-irqchip=split). Accepting that a device may forge MSIs: echo 1 > /sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts"

    /// Every kind, in report order. The strings are the 6.12 kernel's (older forms noted).
    public static let kinds: [KernelLogKind] = [
        // dmar_fault_do_one (drivers/iommu/intel/dmar.c); before 5.x "[DMA Read] Request device [3b:00.0] PASID ffffffff fault addr".
        KernelLogKind(
            id: "dmar-fault", title: "VT-d DMA fault", severity: .warn,
            source: "dmar_fault_do_one (drivers/iommu/intel/dmar.c)",
            meaning:
                "the device did DMA to an address its IOMMU domain does not map (the fault reason says how): its driver, or the guest it was assigned to, gave it an address that was never mapped or was unmapped while it was in use",
            remedy:
                "Find who drove the device at that time (the time stamp against the guest's start); in a guest, a driver fault or a vIOMMU without caching mode; a device with firmware-reserved memory (RMRR: USB, integrated GPU) faults when that region is not mapped",
            all: ["Request device ["], any: ["[DMA Read", "[DMA Write"]),
        // dmar_fault_do_one (drivers/iommu/intel/dmar.c), fault_type INTR_REMAP.
        KernelLogKind(
            id: "dmar-ir-fault", title: "VT-d interrupt-remapping fault", severity: .warn,
            source: "dmar_fault_do_one (drivers/iommu/intel/dmar.c)",
            meaning: "the device sent an interrupt its remapping table entry does not allow: a stale or blocked MSI, or one it forged",
            remedy: "Check the device's MSI/MSI-X set-up in the driver or guest that owned it at that time",
            all: ["[INTR-REMAP] Request device ["]),
        // amd_iommu_report_page_fault (drivers/iommu/amd/iommu.c).
        KernelLogKind(
            id: "amd-io-page-fault", title: "AMD-Vi I/O page fault", severity: .warn,
            source: "amd_iommu_report_page_fault (drivers/iommu/amd/iommu.c)",
            meaning: "the device did DMA to an address its IOMMU domain does not map (domain, address and flags given)",
            remedy:
                "Find who drove the device at that time; a device with an IVMD unity-mapped region (USB, BMC) faults when that region is not mapped",
            all: ["Event logged [IO_PAGE_FAULT"]),
        // intel_iommu_attach_device (drivers/iommu/intel-iommu.c, Linux 3.17 to 5.x; 6.12 prints
        // require_direct's message below instead).
        KernelLogKind(
            id: "rmrr-ineligible", title: "RMRR: not attachable", severity: .warn,
            source: "intel_iommu_attach_device (drivers/iommu/intel-iommu.c, before 6.x)",
            meaning:
                "the firmware's RMRR gives the device memory it keeps using, so VT-d refused a domain without that 1:1 mapping: VFIO cannot attach it",
            remedy:
                "None in the kernel: move the card to a slot the RMRR does not cover, or get firmware without the RMRR for it (vendor setting or update)",
            all: ["Device is ineligible for IOMMU domain attach due to platform RMRR requirement"]),
        // __iommu_device_set_domain (drivers/iommu/iommu.c): dev->iommu->require_direct.
        KernelLogKind(
            id: "require-direct", title: "firmware 1:1 mapping required", severity: .warn,
            source: "__iommu_device_set_domain (drivers/iommu/iommu.c)",
            meaning:
                "the firmware (RMRR or IVMD) requires a 1:1 mapping for the device, so the kernel refused VFIO's blocking domain (EINVAL): the device cannot be assigned",
            remedy:
                "None in the kernel: move the card to a slot the firmware region does not cover, or get firmware without that region for it",
            all: ["Firmware has requested this device have a 1:1 IOMMU mapping"]),
        // vfio_iommu_type1_attach_group (drivers/vfio/vfio_iommu_type1.c).
        KernelLogKind(
            id: "type1-no-ir", title: "type1: no interrupt remapping", severity: .warn,
            source: "vfio_iommu_type1_attach_group (drivers/vfio/vfio_iommu_type1.c)",
            meaning:
                "VFIO_SET_IOMMU was refused (EPERM): the group's MSIs cannot be isolated (no interrupt remapping), and allow_unsafe_interrupts was off",
            remedy: irRemedy,
            all: ["No interrupt remapping support.", "allow_unsafe_interrupts"]),
        // iommufd_device_bind (drivers/iommu/iommufd/device.c).
        KernelLogKind(
            id: "iommufd-unsafe-msi", title: "iommufd: MSIs not isolated", severity: .warn,
            source: "iommufd_device_bind (drivers/iommu/iommufd/device.c)",
            meaning:
                "the device was bound to iommufd with iommufd.allow_unsafe_interrupts on: its MSIs are not isolated, so it can forge interrupts",
            remedy: "Turn interrupt remapping on (firmware or intremap=on) and drop iommufd.allow_unsafe_interrupts",
            all: ["MSI interrupts are not secure, they cannot be isolated by the platform"]),
        // intel_cleanup_irq_remapping (drivers/iommu/intel/irq_remapping.c).
        KernelLogKind(
            id: "ir-failed", title: "interrupt remapping failed", severity: .warn,
            source: "intel_cleanup_irq_remapping (drivers/iommu/intel/irq_remapping.c)",
            meaning: "VT-d interrupt remapping could not be enabled: MSIs are not isolated and VFIO refuses safe assignment",
            remedy: irRemedy,
            all: ["Failed to enable irq remapping. You are vulnerable to irq-injection attacks."]),
        // intel_prepare_irq_remapping (drivers/iommu/intel/irq_remapping.c): parse_ioapics_under_ir failed.
        KernelLogKind(
            id: "ir-not-enabled", title: "interrupt remapping not enabled", severity: .warn,
            source: "intel_prepare_irq_remapping (drivers/iommu/intel/irq_remapping.c)",
            meaning: "an IOAPIC or HPET is not under any DRHD unit's scope, so VT-d interrupt remapping was left off",
            remedy: irRemedy,
            all: ["DMAR-IR: Not enabling interrupt remapping"]),
        // intel_prepare_irq_remapping (drivers/iommu/intel/irq_remapping.c): irq_remap_broken.
        KernelLogKind(
            id: "ir-erratum", title: "interrupt remapping off: chipset erratum", severity: .warn,
            source: "intel_prepare_irq_remapping (drivers/iommu/intel/irq_remapping.c)",
            meaning: "the chipset has an interrupt-remapping erratum, so the kernel turned interrupt remapping off",
            remedy: "Update the firmware (BIOS) as the message asks; until then safe VFIO is not available",
            all: ["This system BIOS has enabled interrupt remapping"]),
        // intel_prepare_irq_remapping (drivers/iommu/intel/irq_remapping.c): dmar_x2apic_optout.
        KernelLogKind(
            id: "ir-x2apic-optout", title: "x2apic opt-out", severity: .info,
            source: "intel_prepare_irq_remapping (drivers/iommu/intel/irq_remapping.c)",
            meaning:
                "the firmware set the DMAR x2APIC opt-out flag, so interrupt remapping runs in xAPIC mode; remapping still isolates MSIs",
            remedy: "Nothing for VFIO; intremap=no_x2apic_optout overrides the firmware",
            all: ["x2apic is disabled because BIOS sets x2apic opt out bit"]),
        // intel_enable_irq_remapping (drivers/iommu/intel/irq_remapping.c).
        KernelLogKind(
            id: "ir-enabled", title: "interrupt remapping enabled", severity: .info,
            source: "intel_enable_irq_remapping (drivers/iommu/intel/irq_remapping.c)",
            meaning: "VT-d interrupt remapping is on: MSIs are isolated", remedy: nil,
            all: ["DMAR-IR: Enabled IRQ remapping in"]),
        // print_iommu_info (drivers/iommu/amd/init.c).
        KernelLogKind(
            id: "amd-ir-enabled", title: "interrupt remapping enabled", severity: .info,
            source: "print_iommu_info (drivers/iommu/amd/init.c)",
            meaning: "AMD-Vi interrupt remapping is on: MSIs are isolated", remedy: nil,
            all: ["AMD-Vi: Interrupt remapping enabled"]),
        // call_driver_probe (drivers/base/dd.c): "probe with driver %s failed with error %d".
        KernelLogKind(
            id: "vfio-probe-failed", title: "vfio-pci probe failed", severity: .warn,
            source: "call_driver_probe (drivers/base/dd.c)",
            meaning:
                "vfio-pci (or a variant driver) matched the device but its probe failed with the errno given: -22 (EINVAL) is a device in no IOMMU group (no IOMMU, no-IOMMU mode off), -16 (EBUSY) one claimed elsewhere",
            remedy: "Read the lines before it for the cause; vfio-probe --device BDF says what the device lacks",
            all: ["probe with driver", "failed with error"], any: ["vfio"]),
        // iommufd_fops_open (drivers/iommu/iommufd/main.c), CONFIG_IOMMUFD_VFIO_CONTAINER.
        KernelLogKind(
            id: "iommufd-compat", title: "iommufd emulates the VFIO container", severity: .info,
            source: "iommufd_fops_open (drivers/iommu/iommufd/main.c)",
            meaning: "/dev/vfio/vfio is iommufd's emulation of the legacy container (CONFIG_IOMMUFD_VFIO_CONTAINER), not VFIO's type1",
            remedy: nil, all: ["IOMMUFD is providing /dev/vfio/vfio"]),
        // iommu_group_alloc_device (drivers/iommu/iommu.c).
        KernelLogKind(
            id: "iommu-group", title: "added to an IOMMU group", severity: .info,
            source: "iommu_group_alloc_device (drivers/iommu/iommu.c)",
            meaning: "the IOMMU driver put the device in the group named", remedy: nil,
            all: ["Adding to iommu group"]),
        // iommu_subsys_init (drivers/iommu/iommu.c).
        KernelLogKind(
            id: "default-domain", title: "default domain type", severity: .info,
            source: "iommu_subsys_init (drivers/iommu/iommu.c)",
            meaning: "the DMA domain type host drivers get: Passthrough (iommu=pt) leaves their DMA untranslated", remedy: nil,
            all: ["iommu: Default domain type:"]),
        // iommu_subsys_init (drivers/iommu/iommu.c): CC_ATTR_MEM_ENCRYPT.
        KernelLogKind(
            id: "mem-encrypt-no-pt", title: "passthrough dropped for memory encryption", severity: .info,
            source: "iommu_subsys_init (drivers/iommu/iommu.c)",
            meaning: "memory encryption (SME) is active, so the kernel translated DMA instead of the configured passthrough default",
            remedy: nil, all: ["Memory encryption detected - Disabling default IOMMU Passthrough"]),
        // pci_dev_wait (drivers/pci/pci.c).
        KernelLogKind(
            id: "reset-timeout", title: "device not ready after reset", severity: .warn,
            source: "pci_dev_wait (drivers/pci/pci.c)",
            meaning:
                "the device did not answer config reads after the reset named (FLR, PM, bus reset) and the kernel gave up (ENOTTY): a VM start or stop that resets it fails or leaves it dead",
            remedy:
                "Try another reset method (echo bus > /sys/bus/pci/devices/BDF/reset_method, as root), a vendor reset module, or a firmware update for the device",
            all: ["not ready", "; giving up"], any: ["after"]),
        // pcie_flr / pci_af_flr (drivers/pci/pci.c).
        KernelLogKind(
            id: "flr-pending", title: "FLR with transactions pending", severity: .warn,
            source: "pcie_flr (drivers/pci/pci.c)",
            meaning: "the device still had transactions pending when it was reset: the reset may lose or corrupt them",
            remedy: "Quiesce the device before handing it over (stop the guest's driver first); a persistent case is a device bug",
            all: ["timed out waiting for pending transaction; performing"]),
        // vfio_bar_restore (drivers/vfio/pci/vfio_pci_config.c).
        KernelLogKind(
            id: "bar-restore", title: "BARs lost and restored", severity: .warn,
            source: "vfio_bar_restore (drivers/vfio/pci/vfio_pci_config.c)",
            meaning:
                "the device's BARs read back cleared (a reset or D3cold behind VFIO's back), so vfio-pci rewrote them",
            remedy:
                "Find what reset the device (a link down, power management); echo 1 > /sys/module/vfio_pci/parameters/disable_idle_d3 keeps an idle device out of D3",
            all: ["reset recovery - restoring BARs"]),
        // vfio_ecap_init (drivers/vfio/pci/vfio_pci_config.c), pci_dbg: with dynamic debug only.
        KernelLogKind(
            id: "ecap-hidden", title: "extended capability hidden", severity: .info,
            source: "vfio_ecap_init (drivers/vfio/pci/vfio_pci_config.c)",
            meaning: "vfio-pci hides an extended capability it does not virtualize from the user", remedy: nil,
            all: ["vfio_ecap_init", "hiding ecap"]),
        // pci_rom_header_valid / pci_rom_data_struct_valid (drivers/pci/rom.c).
        KernelLogKind(
            id: "invalid-rom", title: "invalid option ROM", severity: .warn,
            source: "pci_rom_header_valid, pci_rom_data_struct_valid (drivers/pci/rom.c)",
            meaning:
                "the device's option ROM has no valid signature: a guest that needs it (a GPU's boot display) does not get it from the device",
            remedy: "Give the VM a ROM file (QEMU: -device vfio-pci,host=BDF,romfile=FILE), or rombar=0 when the guest does not need one",
            all: ["Invalid PCI ROM"], any: ["header signature", "data signature"]),
        // iommu_snp_enable (drivers/iommu/amd/init.c).
        KernelLogKind(
            id: "snp-iommu", title: "SEV-SNP refused by the IOMMU", severity: .warn,
            source: "iommu_snp_enable (drivers/iommu/amd/init.c)",
            meaning:
                "SEV-SNP needs the IOMMU on, translating (not passthrough), with v1 page tables and its SNP feature: the kernel turned host SNP off (CC_ATTR_HOST_SEV_SNP cleared)",
            remedy:
                "Drop iommu=pt, iommu.passthrough=1 and amd_iommu=off / amd_iommu=pgtbl_v2 from the kernel command line and reboot; \"IOMMU SNP feature not enabled\" is a firmware setting (SNP and SMEE on)",
            all: ["AMD-Vi: SNP:", "SNP cannot be supported"]),
        KernelLogKind(
            id: "snp-enabled", title: "IOMMU SNP support enabled", severity: .info,
            source: "iommu_snp_enable (drivers/iommu/amd/init.c)",
            meaning: "the IOMMU translates with SNP's RMP checks: host SEV-SNP is possible", remedy: nil,
            all: ["AMD-Vi: IOMMU SNP support enabled"]),
    ]

    /// The first kind a message is, or nil.
    public static func kind(of message: String) -> KernelLogKind? { kinds.first { $0.matches(message) } }

    /// The matched records, one entry per kind and subject (repeats counted, first and last
    /// kept), in the order of their first record.
    public static func entries(_ log: KernelLog) -> [KernelLogEntry] {
        var out: [KernelLogEntry] = []
        var index: [String: Int] = [:]
        for r in log.records {
            guard let k = kind(of: r.message) else { continue }
            let key = k.id + "|" + (r.device?.description ?? "")
            if let i = index[key] {
                out[i].count += 1
                out[i].last = r
            } else {
                index[key] = out.count
                out.append(KernelLogEntry(kind: k, device: r.device, count: 1, first: r, last: r))
            }
        }
        return out
    }

    /// The entries of a host's log: a segment-less address ("Request device [3b:00.0]") is taken
    /// as segment 0 only on a host whose functions are all in one segment; on another it names no
    /// function for sure, and the entry is the host's.
    public static func entries(_ log: KernelLog, host: Host) -> [KernelLogEntry] {
        let segments = Set(host.devices.keys.map(\.domain))
        guard segments.count > 1 else { return entries(log) }
        var kept = log
        for i in kept.records.indices where !kept.records[i].segmentKnown { kept.records[i].device = nil }
        return entries(kept)
    }

    /// A kmsg text with only the records the matcher keeps (what a snapshot holds of the log).
    public static func matchedOnly(_ bytes: [UInt8]) -> [UInt8] {
        let raw = KernelLogRecords.split(String(decoding: bytes, as: UTF8.self), maxRecords: .max)
        let kept = raw.records.filter { r in KernelLog.record(r).map { kind(of: $0.message) != nil } ?? false }
        return Array(kept.map { $0 + "\n" }.joined().utf8)
    }
}
