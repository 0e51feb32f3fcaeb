/// Interrupt remapping, without which type1 refuses to attach.
public struct InterruptRemappingCheck: Check {
    public static let descriptor = CheckDescriptor(
        id: "iommu.irq-remapping",
        title: "Interrupt remapping is active",
        category: .interrupts,
        rationale: "Without interrupt remapping (or an MSI controller that isolates devices) a device given to userspace can forge MSIs to any vector: VFIO is then not safe. vfio_iommu_type1 refuses VFIO_SET_IOMMU with EPERM (\"No interrupt remapping support\"), and iommufd refuses VFIO_DEVICE_BIND_IOMMUFD, unless allow_unsafe_interrupts is set; virtio-iommu never remaps interrupts. Setting the parameter gives VFIO without interrupt isolation (mode unsafe-interrupts), never safe VFIO.",
        remedy: "Enable interrupt remapping: VT-d/x2APIC in the firmware setup, remove intremap=off from the kernel command line; in QEMU, -device intel-iommu,intremap=on with -machine kernel-irqchip=split.",
        looksAt: ["/sys/class/iommu/*/intel-iommu/ecap (bit 3, IR)", "/proc/interrupts (IR- chips)", "/proc/cmdline (intremap=)",
                  "/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts", "/sys/module/iommufd/parameters/allow_unsafe_interrupts"],
        examples: [.pass("intel-vfio-ready"), .pass("amd-host"),
                   .fail("intel-no-ir", remedy: "give the guest an IOMMU with interrupt remapping: in QEMU, -device intel-iommu,intremap=on with -machine kernel-irqchip=split"),
                   .warn("virtio-no-access-platform", remedy: "use an IOMMU that remaps interrupts: in QEMU, -device intel-iommu,intremap=on with -machine kernel-irqchip=split (virtio-iommu never remaps them)")])

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
        let unsafe = host.unsafeInterruptsParameter
        if let v = host.modules.parameter(unsafe.module, "allow_unsafe_interrupts").value {
            evidence.append(Evidence("/sys/module/\(unsafe.module)/parameters/allow_unsafe_interrupts", v))
        }

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
            var f = skipped("no IOMMU capability register or /proc/interrupts to show interrupt remapping")
            f.impacts = [.undecided(.vfio, "cannot tell whether interrupts are remapped (no IOMMU capability register or /proc/interrupts)",
                                    ["run vfio-probe as root on the host, with /proc mounted"])]
            return [f]
        }
        if remapping {
            let how = active == true ? "interrupts are delivered through remapping (IR-) chips" : "the IOMMU supports it and nothing disables it"
            return [finding(.pass, "interrupt remapping is active: \(how)", evidence: evidence)]
        }
        let cause = disabledOnCmdline ? "intremap=off on the command line"
            : virtioOnly ? "virtio-iommu does not remap interrupts"
            : hardwareCapable == false ? "the IOMMU does not support it (VT-d ecap.IR = 0)"
            : "no interrupt is remapped"
        // Safe VFIO is out whatever a walk shows: the ioctls succeed without isolation once the
        // parameter is set. VFIO without interrupt isolation is its own, unsafe answer.
        let notSafe = Impact.blocks(.vfio, "no interrupt remapping (\(cause)): a device given to userspace can forge MSIs",
                                    fix: [Self.enableRemapping(host, cause: cause)], liveCanLift: false)
        if unsafe.set {
            return [finding(.warn, "no interrupt remapping (\(cause)); the operator set \(unsafe.module).allow_unsafe_interrupts=Y, so VFIO works without interrupt isolation: a device can forge MSIs",
                            remedy: Self.enableRemapping(host, cause: cause), evidence: evidence, impacts: [notSafe])]
        }
        return [finding(.fail, "no interrupt remapping (\(cause)): safe VFIO is not available, and \(unsafe.refusal) fails with EPERM",
                        remedy: Self.enableRemapping(host, cause: cause), evidence: evidence,
                        impacts: [notSafe,
                                  .requires(.unsafeInterrupts, "no interrupt remapping: \(unsafe.module) refuses without allow_unsafe_interrupts=1, which accepts that a device can forge MSIs",
                                            [Actions.allowUnsafeInterrupts(unsafe.module)])])]
    }

    /// What turns interrupt remapping on for this host's cause.
    static func enableRemapping(_ host: Host, cause: String) -> String {
        if cause.hasPrefix("intremap=off") { return Actions.kernelParameter(remove: "intremap=off") }
        if cause.hasPrefix("virtio-iommu") {
            return "use an IOMMU that remaps interrupts: in QEMU, -device intel-iommu,intremap=on with -machine kernel-irqchip=split (virtio-iommu never remaps them)"
        }
        if host.platform.hypervisor != nil {
            return "give the guest an IOMMU with interrupt remapping: in QEMU, -device intel-iommu,intremap=on with -machine kernel-irqchip=split"
        }
        return "enable interrupt remapping in the firmware setup (VT-d / AMD-Vi with x2APIC) and reboot"
    }
}
