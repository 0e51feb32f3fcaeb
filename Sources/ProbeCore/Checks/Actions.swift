/// Exact commands and configuration lines for remedies and actions.
public enum Actions {
    public static func kernelParameter(add p: String) -> String {
        "add \"\(p)\" to GRUB_CMDLINE_LINUX in /etc/default/grub, run update-grub (or grub2-mkconfig -o /boot/grub2/grub.cfg), and reboot"
    }
    public static func kernelParameter(replace old: String, with new: String) -> String {
        "replace \"\(old)\" with \"\(new)\" on the kernel command line (GRUB_CMDLINE_LINUX in /etc/default/grub), run update-grub, and reboot"
    }
    public static func kernelParameter(remove p: String) -> String {
        "remove \"\(p)\" from the kernel command line (GRUB_CMDLINE_LINUX in /etc/default/grub), run update-grub, and reboot"
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
