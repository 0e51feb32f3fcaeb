/// Exact commands and configuration lines for remedies and actions.
public enum Actions {
    /// A kernel parameter added, removed or replaced at the next boot, with this host's boot
    /// loader tool: grubby on Fedora and RHEL, kernel-install where /etc/kernel/cmdline holds the
    /// command line (systemd-boot, UKIs), else GRUB's /etc/default/grub and the family's
    /// regeneration command. An unknown host gets the GRUB text naming both regenerations.
    public static func kernelParameter(add p: String, boot: BootConfig = BootConfig()) -> String {
        edit(boot, grubby: "--args=\"\(p)\"", words: "add \"\(p)\" to", grub: "GRUB_CMDLINE_LINUX in /etc/default/grub")
    }
    public static func kernelParameter(replace old: String, with new: String, boot: BootConfig = BootConfig()) -> String {
        edit(
            boot, grubby: "--remove-args=\"\(old)\" --args=\"\(new)\"", words: "replace \"\(old)\" with \"\(new)\" on",
            grub: "the kernel command line (GRUB_CMDLINE_LINUX in /etc/default/grub)")
    }
    public static func kernelParameter(remove p: String, boot: BootConfig = BootConfig()) -> String {
        edit(
            boot, grubby: "--remove-args=\"\(p)\"", words: "remove \"\(p)\" from",
            grub: "the kernel command line (GRUB_CMDLINE_LINUX in /etc/default/grub)")
    }

    static func edit(_ boot: BootConfig, grubby: String, words: String, grub: String) -> String {
        if boot.family == .fedora || boot.sources.contains(where: { $0.kind == .blsEntry }) && boot.family == nil {
            return "grubby --update-kernel=ALL \(grubby) && reboot"
        }
        if boot.sources.contains(where: { $0.kind == .kernelCmdline }) {
            return "\(words) /etc/kernel/cmdline, run kernel-install add \"$(uname -r)\" \"/lib/modules/$(uname -r)/vmlinuz\", and reboot"
        }
        return "\(words) \(grub), run \(grubRegenerate(boot.family)), and reboot"
    }

    /// What writes GRUB's grub.cfg from /etc/default/grub on this family.
    static func grubRegenerate(_ family: BootConfig.Family?) -> String {
        switch family {
        case .debian: "update-grub"
        case .suse, .fedora: "grub2-mkconfig -o /boot/grub2/grub.cfg"
        case .arch: "grub-mkconfig -o /boot/grub/grub.cfg"
        case nil: "update-grub (or grub2-mkconfig -o /boot/grub2/grub.cfg)"
        }
    }
    public static let loadVFIO = "modprobe vfio-pci"

    /// Binding one function to vfio-pci (or a variant `driver`, loaded first with `modprobe`
    /// when it is a module not loaded yet) through driver_override, as the kernel documents it.
    public static func bindToVFIO(_ a: PCIAddress, currentDriver: String?, driver: String = "vfio-pci", modprobe: String? = nil) -> [String]
    {
        let bdf = a.description
        var lines = modprobe.map { ["modprobe \($0)"] } ?? []
        lines.append("echo \(driver) > /sys/bus/pci/devices/\(bdf)/driver_override")
        if currentDriver != nil { lines.append("echo \(bdf) > /sys/bus/pci/devices/\(bdf)/driver/unbind") }
        lines.append("echo \(bdf) > /sys/bus/pci/drivers_probe")
        return lines
    }

    /// Binding a device to its variant driver when modules.alias names one for it (the variants'
    /// ids are override_only: pci_match_device offers them only to driver_override), else to vfio-pci.
    public static func bindToVFIO(_ d: PCIDevice, on host: Host) -> [String] {
        guard let v = host.modules.drivers.bindingVariant(for: d, on: host.kernel.version) else {
            return bindToVFIO(d.address, currentDriver: d.driver)
        }
        let load = !v.builtIn && !host.modules.drivers.loadedVariants.contains(v.module)
        return bindToVFIO(d.address, currentDriver: d.driver, driver: v.module, modprobe: load ? v.module : nil)
    }

    /// The driver `bindToVFIO(_:on:)` binds: the variant's name, or vfio-pci.
    public static func vfioDriver(for d: PCIDevice, on host: Host) -> String {
        host.modules.drivers.bindingVariant(for: d, on: host.kernel.version)?.module ?? "vfio-pci"
    }

    /// vfio_pci_dev_in_denylist: Intel QAT (DH895xCC, C3000, C62x and their VFs), DSA and IAX on
    /// Sapphire Rapids, which vfio_pci_probe refuses (-EINVAL) unless disable_denylist is set.
    public static let vfioPCIDenylist: Set<UInt16> = [0x0435, 0x0443, 0x19e2, 0x19e3, 0x37c8, 0x37c9, 0x0b25, 0x0cfe]
    /// The QAT entries arrived in 5.9; DSA and IAX in 2024 (6.10, and stable kernels since).
    public static func denylisted(_ d: PCIDevice, on v: KernelVersion?) -> Bool {
        guard d.vendorID == 0x8086, vfioPCIDenylist.contains(d.deviceID) else { return false }
        guard let v else { return true }
        return [0x0b25, 0x0cfe].contains(d.deviceID) ? v >= KernelVersion(6, 1) : v >= KernelVersion(5, 9)
    }

    /// The step before binding a PF with VFs enabled: marked destructive, with the VFs it destroys.
    public static func disableSRIOV(_ pf: PCIAddress, vfs: [PCIAddress], count: Int) -> String {
        let named = vfs.isEmpty ? "its \(count) VF\(count == 1 ? "" : "s")" : vfs.map(\.description).joined(separator: " ")
        return
            "echo 0 > /sys/bus/pci/devices/\(pf)/sriov_numvfs  # DESTRUCTIVE: destroys \(named); stop their users first (it blocks while vfio-pci has one open)"
    }

    public static let enableNoIOMMU = "echo 1 > /sys/module/vfio/parameters/enable_unsafe_noiommu_mode"
    /// Accepts VFIO without interrupt isolation: never an action towards safe VFIO.
    public static func allowUnsafeInterrupts(_ module: String = "vfio_iommu_type1") -> String {
        "echo 1 > /sys/module/\(module)/parameters/allow_unsafe_interrupts"
    }
}
