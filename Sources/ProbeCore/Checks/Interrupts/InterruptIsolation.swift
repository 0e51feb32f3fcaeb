/// Whether a device's MSIs are isolated — what type1 and iommufd demand before they attach a
/// group (`iommu_group_has_isolated_msi`, `msi_device_has_isolated_msi`): interrupt remapping on
/// x86 (IR- chips), a GICv3 ITS on Arm (IRQ_DOMAIN_FLAG_ISOLATED_MSI, chips named ITS-). A GICv2m
/// and virtio-iommu on x86 do not isolate.
public struct InterruptIsolation: Sendable, Equatable {
    /// nil: cannot tell.
    public var isolated: Bool?
    /// Why not, or how it is known.
    public var cause: String
    /// What was read.
    public var evidence: [Evidence]
}

extension Host {
    /// "intremap=off" or "nointremap" when the last of them (and of intremap=on) turns remapping off.
    var remappingOffOnCommandLine: String? {
        guard let c = cmdline else { return nil }
        var last: String?
        for p in c.parameters {
            let name = KernelCommandLine.normalize(p.name)
            if name == "nointremap" { last = "nointremap" }
            if name == "intremap" {
                for o in (p.value ?? "").split(separator: ",") where o == "on" || o == "off" { last = o == "off" ? "intremap=off" : nil }
            }
        }
        return last
    }

    public var interruptIsolation: InterruptIsolation {
        var ev: [Evidence] = []
        let chips = kernel.interruptChips.value
        let arm = platform.cpuVendor.value == .arm
        if arm {
            guard let chips else { return InterruptIsolation(isolated: nil, cause: "/proc/interrupts could not be read", evidence: ev) }
            if chips.contains(where: { $0.hasPrefix("ITS-") }) {
                ev.append(Evidence("/proc/interrupts", "ITS- interrupt chips"))
                return InterruptIsolation(isolated: true, cause: "the GICv3 ITS isolates MSIs", evidence: ev)
            }
            if chips.contains(where: { $0.hasPrefix("GICv2m-") }) {
                ev.append(Evidence("/proc/interrupts", "GICv2m- interrupt chips, no ITS"))
                return InterruptIsolation(
                    isolated: false, cause: "the MSI controller is a GICv2m, which does not isolate MSIs (no GICv3 ITS)", evidence: ev)
            }
            return InterruptIsolation(isolated: nil, cause: "no ITS or GICv2m MSI chip in /proc/interrupts", evidence: ev)
        }
        let intel = units.filter { $0.kind == .intel }
        for u in intel {
            ev.append(
                Evidence(
                    "/sys/class/iommu/\(u.name)/intel-iommu/ecap",
                    "0x\(hex(u.intelEcap ?? 0, 1)) (IR \(u.interruptRemapping == true ? "supported" : "not supported"))"))
        }
        // MSI chips show it; with no MSI in use yet, a remapped IO-APIC does on VT-d and AMD-Vi.
        let ioapic = chips?.contains("IR-IO-APIC") == true && units.contains { $0.kind == .intel || $0.kind == .amd }
        let active = kernel.interruptRemappingActive.map { $0 || ioapic }
        if let a = active { ev.append(Evidence("/proc/interrupts", a ? "IR- interrupt chips present" : "no IR- interrupt chips")) }
        // setup_irqremap and setup_nointremap (drivers/iommu/irq_remapping.c) apply in order:
        // the last intremap=on/off or nointremap wins.
        if let off = remappingOffOnCommandLine {
            ev.append(Evidence("/proc/cmdline", off))
            return InterruptIsolation(isolated: false, cause: "\(off) on the command line", evidence: ev)
        }
        if !units.isEmpty && units.allSatisfy({ $0.kind == .virtio }) {
            return InterruptIsolation(isolated: false, cause: "virtio-iommu does not remap interrupts", evidence: ev)
        }
        if !intel.isEmpty && !intel.allSatisfy({ $0.interruptRemapping == true }) {
            return InterruptIsolation(isolated: false, cause: "the IOMMU does not support it (VT-d ecap.IR = 0)", evidence: ev)
        }
        // dmar_ir_support: VT-d leaves remapping off when the DMAR does not set INTR_REMAP.
        if !intel.isEmpty, let dmar = firmware.dmar, !dmar.interruptRemapping {
            ev.append(Evidence("/sys/firmware/acpi/tables/DMAR", "flags 0x\(hex(dmar.flags, 2)) (no INTR_REMAP)"))
            return InterruptIsolation(isolated: false, cause: "the firmware's DMAR does not set INTR_REMAP", evidence: ev)
        }
        if let a = active {
            return InterruptIsolation(
                isolated: a, cause: a ? "interrupts are delivered through remapping (IR-) chips" : "no interrupt is remapped", evidence: ev)
        }
        // Capable hardware is not proof: without /proc/interrupts, remapping is not seen.
        if kernel.interruptChips.value == nil {
            return InterruptIsolation(isolated: nil, cause: "/proc/interrupts could not be read, so remapping is not seen", evidence: ev)
        }
        return InterruptIsolation(
            isolated: nil, cause: "no interrupt chip in /proc/interrupts shows whether interrupts are remapped", evidence: ev)
    }
}
