/// Interrupt remapping, without which type1 refuses to attach.
public struct InterruptRemappingCheck: Check {
    public static let descriptor = CheckDescriptor(
        id: "iommu.irq-remapping",
        title: "MSIs are isolated (interrupt remapping, or a GICv3 ITS)",
        category: .interrupts,
        rationale:
            "Without interrupt remapping (or an MSI controller that isolates devices) a device given to userspace can forge MSIs to any vector: VFIO is then not safe. vfio_iommu_type1 refuses VFIO_SET_IOMMU with EPERM (\"No interrupt remapping support\"), and iommufd refuses VFIO_DEVICE_BIND_IOMMUFD, unless allow_unsafe_interrupts is set; virtio-iommu never remaps interrupts. Setting the parameter gives VFIO without interrupt isolation (mode unsafe-interrupts), never safe VFIO.",
        remedy: Actions.Remedy.interruptRemapping,
        looksAt: [
            "/sys/class/iommu/*/intel-iommu/ecap (bit 3, IR)", "/proc/interrupts (IR- chips on x86; ITS- or GICv2m- chips on Arm)",
            "/proc/cmdline (intremap=, the last on/off)",
            "/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts", "/sys/module/iommufd/parameters/allow_unsafe_interrupts",
        ],
        examples: [
            .pass("intel-vfio-ready"), .pass("amd-host"),
            .fail(
                "intel-no-ir",
                remedy:
                    "give the guest an IOMMU with interrupt remapping: in QEMU, -device intel-iommu,intremap=on with -machine kernel-irqchip=split"
            ),
            .warn(
                "virtio-no-access-platform",
                remedy:
                    "use an IOMMU that remaps interrupts: in QEMU, -device intel-iommu,intremap=on with -machine kernel-irqchip=split (virtio-iommu never remaps them)"
            ),
            // msi_device_has_isolated_msi: the ITS domain carries IRQ_DOMAIN_FLAG_ISOLATED_MSI, GICv2m's does not.
            .pass("arm-its"),
            .fail(
                "arm-gicv2m",
                remedy: "use a platform whose MSI controller is a GICv3 ITS (or give the VM one: QEMU -machine virt,gic-version=3,its=on)"),
        ])

    public static func evaluate(_ context: CheckContext) -> [Finding] {
        let host = context.host
        guard host.iommuActive == true else { return [] }
        let iso = host.interruptIsolation
        var evidence = iso.evidence
        let unsafe = host.unsafeInterruptsParameter
        if let v = host.modules.parameter(unsafe.module, "allow_unsafe_interrupts").value {
            evidence.append(Evidence("/sys/module/\(unsafe.module)/parameters/allow_unsafe_interrupts", v))
        }
        switch iso.isolated {
        case nil:
            var f = skipped(iso.cause)
            f.impacts = [
                .undecided(
                    .vfio, "cannot tell whether MSIs are isolated (\(iso.cause))",
                    ["run vfio-probe as root on the host, with /proc mounted"])
            ]
            return [f]
        case true?:
            return [finding(.pass, "MSIs are isolated: \(iso.cause)", evidence: evidence)]
        case false?:
            break
        }
        let cause = iso.cause
        let none = host.platform.cpuVendor.value == .arm ? "MSIs are not isolated" : "no interrupt remapping"
        // Safe VFIO is out whatever a walk shows: the ioctls succeed without isolation once the
        // parameter is set. VFIO without interrupt isolation is its own, unsafe answer.
        let notSafe = Impact.blocks(
            .vfio, "\(none) (\(cause)): a device given to userspace can forge MSIs",
            fix: [Self.enableRemapping(host, cause: cause)], liveCanLift: false)
        if unsafe.set {
            return [
                finding(
                    .warn,
                    "\(none) (\(cause)); the operator set \(unsafe.module).allow_unsafe_interrupts=Y, so VFIO works without interrupt isolation: a device can forge MSIs",
                    remedy: Self.enableRemapping(host, cause: cause), evidence: evidence, impacts: [notSafe])
            ]
        }
        return [
            finding(
                .fail, "\(none) (\(cause)): safe VFIO is not available, and \(unsafe.refusal) fails with EPERM",
                remedy: Self.enableRemapping(host, cause: cause), evidence: evidence,
                impacts: [
                    notSafe,
                    .requires(
                        .unsafeInterrupts,
                        "\(none): \(unsafe.module) refuses without allow_unsafe_interrupts=1, which accepts that a device can forge MSIs",
                        [Actions.allowUnsafeInterrupts(unsafe.module)]),
                ])
        ]
    }

    /// What turns interrupt remapping on for this host's cause.
    static func enableRemapping(_ host: Host, cause: String) -> String {
        if host.platform.cpuVendor.value != .arm, host.kernel.config.value?.isEnabled("CONFIG_IRQ_REMAP") == false {
            return "use a kernel built with CONFIG_IRQ_REMAP"
        }
        if let off = host.remappingOffOnCommandLine { return Actions.kernelParameter(remove: off, boot: host.boot) }
        if cause.contains("GICv2m") {
            return "use a platform whose MSI controller is a GICv3 ITS (or give the VM one: QEMU -machine virt,gic-version=3,its=on)"
        }
        if cause.hasPrefix("virtio-iommu") {
            return
                "use an IOMMU that remaps interrupts: in QEMU, -device intel-iommu,intremap=on with -machine kernel-irqchip=split (virtio-iommu never remaps them)"
        }
        if host.platform.hypervisor != nil {
            return
                "give the guest an IOMMU with interrupt remapping: in QEMU, -device intel-iommu,intremap=on with -machine kernel-irqchip=split"
        }
        return "enable interrupt remapping in the firmware setup (VT-d / AMD-Vi with x2APIC) and reboot"
    }
}
