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
                return InterruptIsolation(isolated: false, cause: "the MSI controller is a GICv2m, which does not isolate MSIs (no GICv3 ITS)", evidence: ev)
            }
            return InterruptIsolation(isolated: nil, cause: "no ITS or GICv2m MSI chip in /proc/interrupts", evidence: ev)
        }
        let intel = units.filter { $0.kind == .intel }
        for u in intel {
            ev.append(Evidence("/sys/class/iommu/\(u.name)/intel-iommu/ecap",
                               "0x\(hex(u.intelEcap ?? 0, 1)) (IR \(u.interruptRemapping == true ? "supported" : "not supported"))"))
        }
        let active = kernel.interruptRemappingActive
        if let a = active { ev.append(Evidence("/proc/interrupts", a ? "IR- interrupt chips present" : "no IR- interrupt chips")) }
        // intremap= options apply in order (intel_irq_remapping's setup_irqremap): the last on/off wins.
        let offOnCmdline = cmdline?.lastOption("intremap", among: ["on", "off"]) == "off"
        if offOnCmdline { ev.append(Evidence("/proc/cmdline", "intremap=off")) }
        if offOnCmdline { return InterruptIsolation(isolated: false, cause: "intremap=off on the command line", evidence: ev) }
        if !units.isEmpty && units.allSatisfy({ $0.kind == .virtio }) {
            return InterruptIsolation(isolated: false, cause: "virtio-iommu does not remap interrupts", evidence: ev)
        }
        if !intel.isEmpty && !intel.allSatisfy({ $0.interruptRemapping == true }) {
            return InterruptIsolation(isolated: false, cause: "the IOMMU does not support it (VT-d ecap.IR = 0)", evidence: ev)
        }
        if let a = active {
            return InterruptIsolation(isolated: a, cause: a ? "interrupts are delivered through remapping (IR-) chips" : "no interrupt is remapped", evidence: ev)
        }
        if !intel.isEmpty || units.contains(where: { $0.kind == .amd }) {
            return InterruptIsolation(isolated: true, cause: "the IOMMU supports it and nothing disables it", evidence: ev)
        }
        return InterruptIsolation(isolated: nil, cause: "no IOMMU capability register or /proc/interrupts shows interrupt remapping", evidence: ev)
    }
}
