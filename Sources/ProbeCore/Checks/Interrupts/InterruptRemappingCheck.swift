/// Interrupt remapping, without which type1 refuses to attach.
public struct InterruptRemappingCheck: Check {
    public static let descriptor = CheckDescriptor(
        id: "iommu.irq-remapping",
        title: "Interrupt remapping is active",
        category: .interrupts,
        rationale: "Without interrupt remapping a device given to userspace can forge MSIs to any vector. vfio_iommu_type1 then refuses VFIO_SET_IOMMU with EPERM (\"No interrupt remapping support\") unless allow_unsafe_interrupts is set; virtio-iommu never remaps interrupts.",
        remedy: "Enable interrupt remapping: VT-d/x2APIC in the firmware setup, remove intremap=off; in QEMU, -device intel-iommu,intremap=on with kernel-irqchip=split. Only if you accept MSI forging: set vfio_iommu_type1.allow_unsafe_interrupts=1.",
        looksAt: ["/sys/class/iommu/*/intel-iommu/ecap (bit 3, IR)", "/proc/interrupts (IR- chips)", "/proc/cmdline (intremap=)",
                  "/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts", "/sys/module/iommufd/parameters/allow_unsafe_interrupts"],
        examples: [.pass("intel-vfio-ready"), .fail("intel-no-ir"), .pass("amd-host"), .warn("virtio-no-access-platform")])

    public static func evaluate(_ context: CheckContext) -> [Finding] {
        let host = context.host
        guard host.iommuActive == true else { return [] }
        var evidence: [Evidence] = []
        let intel = host.units.filter { $0.kind == .intel }
        for u in intel {
            evidence.append(Evidence("/sys/class/iommu/\(u.name)/intel-iommu/ecap",
                                     "0x\(hex(u.intelEcap ?? 0, 1)) (IR \(u.interruptRemapping == true ? "supported" : "not supported"))"))
        }
        let active = host.kernel.interruptRemappingActive
        if let a = active { evidence.append(Evidence("/proc/interrupts", a ? "IR- interrupt chips present" : "no IR- interrupt chips")) }
        let disabledOnCmdline = host.cmdline?.options("intremap").contains("off") == true
        if disabledOnCmdline { evidence.append(Evidence("/proc/cmdline", "intremap=off")) }
        let unsafeParam = host.modules.parameter("vfio_iommu_type1", "allow_unsafe_interrupts")
        if let v = unsafeParam.value { evidence.append(Evidence("/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts", v)) }

        let virtioOnly = !host.units.isEmpty && host.units.allSatisfy { $0.kind == .virtio }
        let hardwareCapable: Bool? = virtioOnly ? false
            : !intel.isEmpty ? intel.allSatisfy { $0.interruptRemapping == true }
            : host.units.contains { $0.kind == .amd } ? true : nil

        let remapping: Bool
        if disabledOnCmdline || hardwareCapable == false {
            remapping = false
        } else if let a = active {
            remapping = a
        } else if hardwareCapable == true {
            remapping = true
        } else {
            return [skipped("no IOMMU capability register or /proc/interrupts to show interrupt remapping")]
        }
        if remapping {
            let how = active == true ? "interrupts are delivered through remapping (IR-) chips" : "the IOMMU supports it and nothing disables it"
            return [finding(.pass, "interrupt remapping is active: \(how)", evidence: evidence)]
        }
        let cause = disabledOnCmdline ? "intremap=off on the command line"
            : virtioOnly ? "virtio-iommu does not remap interrupts"
            : hardwareCapable == false ? "the IOMMU does not support it (VT-d ecap.IR = 0)"
            : "no interrupt is remapped"
        if host.type1AllowsUnsafeInterrupts {
            return [finding(.warn, "no interrupt remapping (\(cause)); type1 accepts it only because allow_unsafe_interrupts=Y: a device can forge MSIs",
                            evidence: evidence)]
        }
        return [finding(.fail, "no interrupt remapping (\(cause)): VFIO_SET_IOMMU will fail with EPERM", evidence: evidence,
                        impacts: [.requires(.vfio, "no interrupt remapping (\(cause)); type1 needs allow_unsafe_interrupts=1, which lets a device forge MSIs",
                                            [Actions.allowUnsafeInterrupts])])]
    }
}
