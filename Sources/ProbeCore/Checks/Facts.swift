/// Facts derived from the snapshot that several checks and the verdict share. Pure.
extension Host {
    /// An IOMMU is translating DMA: hardware units are registered or real groups exist.
    /// nil when neither could be read.
    public var iommuActive: Bool? {
        if hasRealGroups { return true }
        switch iommuUnits {
        case .value(let units): return !units.isEmpty
        case .absent: return false
        case .unreadable: return nil
        }
    }

    /// The parameter on the command line that turns this vendor's IOMMU off, read as the kernel
    /// reads it: intel_iommu_setup applies its options in order (the last of on/off wins, so
    /// "intel_iommu=off intel_iommu=on" is on), only the AMD driver reads amd_iommu= (its "off"),
    /// and iommu=off (no_iommu) is x86's. nil when none does. Used to explain an IOMMU that is
    /// observed inactive, never to overrule one sysfs shows active (tboot_force_iommu turns VT-d
    /// back on under tboot).
    public var iommuDisablingParameter: String? {
        guard let c = cmdline else { return nil }
        let vendor = iommuVendor
        if vendor == .intel, c.lastOption("intel_iommu", among: ["on", "off"]) == "off" { return "intel_iommu=off" }
        if vendor == .amd, c.options("amd_iommu").contains("off") { return "amd_iommu=off" }
        // no_iommu is read by the VT-d and AMD-Vi drivers only.
        if vendor == .intel || vendor == .amd, c.options("iommu").contains("off") { return "iommu=off" }
        return nil
    }

    /// Whose IOMMU driver this host's firmware calls for: DMAR is VT-d's, IVRS AMD-Vi's, IORT an
    /// Arm SMMU's, VIOT virtio-iommu's — whatever the CPU (QEMU's default CPU says AuthenticAMD
    /// under an emulated VT-d). Then the registered units, then the CPU vendor.
    public var iommuVendor: IOMMUUnit.Kind? {
        let tables = firmware.present.value ?? []
        if tables.contains("DMAR") { return .intel }
        if tables.contains("IVRS") { return .amd }
        if tables.contains("IORT") { return .arm }
        if tables.contains("VIOT") { return .virtio }
        if let k = units.first?.kind, k != .other { return k }
        switch platform.cpuVendor.value {
        case .intel?: return .intel
        case .amd?: return .amd
        case .arm?: return .arm
        default: return nil
        }
    }

    /// Whether this kernel turns VT-d on without intel_iommu=on: CONFIG_INTEL_IOMMU_DEFAULT_ON, or
    /// Debian's CONFIG_INTEL_IOMMU_DEFAULT_ON_INTGPU_OFF (on, except for integrated graphics).
    /// nil when the configuration cannot be read.
    public var vtdOnByDefault: Bool? {
        guard let c = kernel.config.value else { return nil }
        return c.isBuiltIn("CONFIG_INTEL_IOMMU_DEFAULT_ON") || c.isBuiltIn("CONFIG_INTEL_IOMMU_DEFAULT_ON_INTGPU_OFF")
    }

    /// What turns the IOMMU on at the next boot, for this vendor and kernel: replace the parameter
    /// that turns it off (intel_iommu=on works whatever the kernel's default), add intel_iommu=on,
    /// or — where no parameter can (AMD-Vi is on whenever the firmware describes it; an Arm SMMU
    /// exists only when IORT describes one) — the firmware or the kernel build.
    public var iommuEnableAction: String {
        let vendor = iommuVendor
        if let missing = missingIOMMUDriver { return "use a kernel built with \(missing)" }
        if let off = iommuDisablingParameter {
            if off == "intel_iommu=off" { return Actions.kernelParameter(replace: off, with: "intel_iommu=on") }
            return Actions.kernelParameter(remove: off)
        }
        switch vendor {
        case .amd?: return "enable the IOMMU (AMD-Vi / \"IOMMU\") in the firmware setup: amd_iommu has no \"on\" option, AMD-Vi is on whenever the firmware describes it (amd_iommu=force_enable only overrides the kernel's own opt-out on Stoney Ridge)"
        case .arm?: return "use firmware whose IORT describes an SMMU for the device (an IORT with only an ITS group means there is none); iommu.passthrough=0 does not create one"
        case .virtio?: return "make sure the kernel has CONFIG_VIRTIO_IOMMU and the virtio-iommu device is bound to virtio_iommu"
        default: return Actions.kernelParameter(add: "intel_iommu=on")
        }
    }

    /// The IOMMU driver (or interrupt remapping) this vendor needs and the kernel is built
    /// without, when the configuration says so: no parameter can help then.
    public var missingIOMMUDriver: String? {
        guard let c = kernel.config.value else { return nil }
        let need: String? = switch iommuVendor {
        case .intel?: "CONFIG_INTEL_IOMMU"
        case .amd?: "CONFIG_AMD_IOMMU"
        case .arm?: firmware.iort?.nodes.contains(where: { if case .smmuV1V2 = $0.kind { true } else { false } }) == true ? "CONFIG_ARM_SMMU" : "CONFIG_ARM_SMMU_V3"
        case .virtio?: "CONFIG_VIRTIO_IOMMU"
        default: nil
        }
        if let need, c.isEnabled(need) == false || (c[need] == nil && c["CONFIG_IOMMU_SUPPORT"] != nil) { return need }
        return nil
    }

    public var units: [IOMMUUnit] { iommuUnits.value ?? [] }

    public var cmdline: KernelCommandLine? { kernel.cmdline.value }

    /// vfio_iommu_type1.allow_unsafe_interrupts, as the kernel has it now.
    public var type1AllowsUnsafeInterrupts: Bool {
        KernelCommandLine.bool(modules.parameter("vfio_iommu_type1", "allow_unsafe_interrupts").value) == true
    }

    /// What serves /dev/vfio/vfio: VFIO's own container with vfio_iommu_type1, or iommufd's
    /// emulation of it (CONFIG_IOMMUFD_VFIO_CONTAINER, 6.2+: "IOMMUFD is providing /dev/vfio/vfio,
    /// not VFIO"), which has no type1 module and does its checks when the device is opened
    /// (iommufd_device_bind). nil when neither is there or it cannot be told.
    public var containerBackend: ContainerBackend? {
        if kernel.config.value?.isBuiltIn("CONFIG_IOMMUFD_VFIO_CONTAINER") == true { return .iommufd }
        if modules.state("vfio_iommu_type1").isUsable { return .type1 }
        if modules.state("vfio_iommu_type1") == .absent && modules.state("iommufd").isUsable { return .iommufd }
        return nil
    }

    /// The `allow_unsafe_interrupts` parameter of the backend that serves the legacy container:
    /// vfio_iommu_type1's, or iommufd's where iommufd emulates the container (and for the cdev
    /// path), whether it is set, and the ioctl it lets through.
    public var unsafeInterruptsParameter: (module: String, set: Bool, refusal: String) {
        let module = containerBackend == .iommufd ? "iommufd" : "vfio_iommu_type1"
        let set = KernelCommandLine.bool(modules.parameter(module, "allow_unsafe_interrupts").value) == true
        return (module, set, module == "iommufd" ? "VFIO_GROUP_GET_DEVICE_FD (iommufd_device_bind)" : "VFIO_SET_IOMMU")
    }

    /// vfio.enable_unsafe_noiommu_mode: nil when the parameter does not exist.
    public var noIOMMUEnabled: Bool? {
        modules.parameter("vfio", "enable_unsafe_noiommu_mode").value.flatMap { KernelCommandLine.bool($0) }
    }

    /// CONFIG_VFIO_NOIOMMU: the parameter file exists, or the kernel configuration says so.
    public var noIOMMUCompiledIn: Bool? {
        if modules.parameter("vfio", "enable_unsafe_noiommu_mode").value != nil { return true }
        if let c = kernel.config.value, c["CONFIG_VFIO"] != nil { return c.isBuiltIn("CONFIG_VFIO_NOIOMMU") }
        if modules.state("vfio").isPresent, !modules.parameter("vfio", "enable_unsafe_noiommu_mode").isUnreadable { return false }
        return nil
    }
}

/// Whether this kernel refuses a VFIO domain to a device with a firmware direct mapping, and the
/// rule it follows: every IOMMU since 6.6 (`require_direct` in `__iommu_device_set_domain`,
/// a48ce36e2786, -EINVAL); before, only VT-d (`device_is_rmrr_locked`, -EPERM), while AMD IVMD unity
/// maps and Arm IORT RMRs were attached and only kept out of the IOVA space. An unknown release
/// is taken to refuse: a false "no" costs less than a false "yes".
public struct DirectMappingRule: Sendable, Equatable {
    public var refuses: Bool
    public var rule: String
}

extension Host {
    public var directMappingRule: DirectMappingRule {
        guard let v = kernel.version else {
            return DirectMappingRule(refuses: true, rule: "the kernel release is unknown; since 6.6 every IOMMU refuses it (require_direct)")
        }
        if v >= KernelVersion(6, 6) {
            return DirectMappingRule(refuses: true, rule: "since 6.6 the kernel refuses a VFIO domain to a device with a direct region (require_direct)")
        }
        if iommuVendor == .intel {
            return DirectMappingRule(refuses: true, rule: "VT-d refuses a VFIO domain to an RMRR device (device_is_rmrr_locked)")
        }
        return DirectMappingRule(refuses: false, rule: "before 6.6 only VT-d refused it; this IOMMU attaches the device and keeps the region out of the IOVA space")
    }

    /// The firmware direct mappings of a device's group (sysfs `direct` regions) or named for it by
    /// the tables (RMRR, IVMD): what the kernel may refuse it a domain for.
    public func directMappings(of d: PCIDevice) -> [String] {
        let regions = group(of: d)?.reservedRegions.value?.filter { $0.type == "direct" }.map { "0x\(hex($0.start, 1))-0x\(hex($0.end, 1)) direct" } ?? []
        return regions + firmware.identityMaps.filter { $0.covers(d) }.map(\.description)
    }
}

extension Host {
    /// Whether a group member leaves its group viable for VFIO, by this kernel's rule. Since 5.19
    /// a driver must say it manages DMA itself (`driver_managed_dma`: vfio-pci and its variants,
    /// pci-stub, pcieport — on any function, an RCEC included); before, `vfio_dev_driver_allowed`
    /// let any driver stay on a function that is not a normal (type 0) one, and allowed pci-stub
    /// on the rest. An unbound member is always fine. An unknown release takes the current rule.
    public func keepsGroupViable(_ m: PCIDevice) -> Bool {
        let cls = DriverClass(m.driver)
        if cls == .unbound || cls == .vfio || cls == .stub { return true }
        if let v = kernel.version, v < KernelVersion(5, 19) { return (m.headerType ?? 0) != 0 }
        return cls == .pcieport
    }

    /// The members that keep a device's group from being viable, with the commands that bind them.
    public func groupBlockers(of d: PCIDevice) -> (members: [String], actions: [String]) {
        guard let g = group(of: d) else { return ([], []) }
        var members: [String] = []
        var actions: [String] = []
        for a in g.pciMembers where a != d.address {
            guard let m = device(a), !keepsGroupViable(m) else { continue }
            members.append("\(a) on \(m.driver ?? "?")")
            actions += Actions.bindToVFIO(a, currentDriver: m.driver)
        }
        return (members, actions)
    }
}

extension Host {
    /// How a guest gets an IOMMU, for the VMM it runs under (nil on bare metal).
    public var vIOMMURemedy: String? {
        switch platform.hypervisor {
        case nil: return nil
        case .hyperV?: return IOMMUTableCheck.hyperVRemedy
        case .kvm?: return IOMMUTableCheck.qemuRemedy
        case .cloudHypervisor?:
            return "start the VM with an IOMMU: cloud-hypervisor --platform iommu_segments=[0] (or iommu=on on the --device it must cover); its virtio-iommu does not remap interrupts, so VFIO runs there without interrupt isolation"
        case .cloudHypervisorOrFirecracker?:
            return "under Cloud Hypervisor, start the VM with --platform iommu_segments=[0] (virtio-iommu: VFIO without interrupt isolation); Firecracker offers no vIOMMU at all: run the userspace driver on the host"
        case .vmware?: return "give the VM a virtual IOMMU (VMware: vvtd.enable = \"TRUE\", \"Expose IOMMU to the guest OS\")"
        case .xen?, .virtualBox?, .other?: return "give the guest a virtual IOMMU, if its hypervisor offers one, or run the userspace driver on the host"
        }
    }
}

/// The implementation behind /dev/vfio/vfio.
public enum ContainerBackend: String, Sendable {
    /// VFIO's legacy container with vfio_iommu_type1.
    case type1 = "vfio"
    /// iommufd's emulation (CONFIG_IOMMUFD_VFIO_CONTAINER).
    case iommufd
}

/// Driver families, by the kernel's rules for DMA ownership.
public enum DriverClass: String, Sendable {
    /// vfio-pci and vendor variant drivers (mlx5_vfio_pci, hisi_acc_vfio_pci, …).
    case vfio
    /// pci-stub: claims the device, does no DMA (driver_managed_dma).
    case stub
    /// pcieport: PCIe port services on bridges (driver_managed_dma).
    case pcieport
    /// uio_pci_generic, igb_uio, uio_hv_generic: userspace gets the device with no isolation.
    case unsafeUserspace
    /// Any other kernel driver: does DMA on its own behalf.
    case kernel
    /// No driver bound.
    case unbound = "none"

    public init(_ driver: String?) {
        guard let d = driver else { self = .unbound; return }
        switch d {
        case "pci-stub": self = .stub
        case "pcieport": self = .pcieport
        case "uio_pci_generic", "igb_uio", "uio_hv_generic": self = .unsafeUserspace
        default: self = DriverClass.namesVFIO(d) ? .vfio : .kernel
        }
    }

    /// vfio-pci and its variants all carry "vfio" in their names (a byte search: it runs for
    /// every function, in the reader and in several checks).
    static func namesVFIO(_ driver: String) -> Bool {
        var window: UInt32 = 0  // the last four bytes
        for c in driver.utf8 {
            window = window << 8 | UInt32(c)
            if window == 0x7666_696f { return true }  // "vfio"
        }
        return false
    }

}

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

    /// Binding one function to vfio-pci through driver_override, as the kernel documents it.
    public static func bindToVFIO(_ a: PCIAddress, currentDriver: String?) -> [String] {
        let bdf = a.description
        var lines = ["echo vfio-pci > /sys/bus/pci/devices/\(bdf)/driver_override"]
        if currentDriver != nil { lines.append("echo \(bdf) > /sys/bus/pci/devices/\(bdf)/driver/unbind") }
        lines.append("echo \(bdf) > /sys/bus/pci/drivers_probe")
        return lines
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
        return "echo 0 > /sys/bus/pci/devices/\(pf)/sriov_numvfs  # DESTRUCTIVE: destroys \(named); stop their users first (it blocks while vfio-pci has one open)"
    }

    public static let enableNoIOMMU = "echo 1 > /sys/module/vfio/parameters/enable_unsafe_noiommu_mode"
    /// Accepts VFIO without interrupt isolation: never an action towards safe VFIO.
    public static func allowUnsafeInterrupts(_ module: String = "vfio_iommu_type1") -> String {
        "echo 1 > /sys/module/\(module)/parameters/allow_unsafe_interrupts"
    }
}

/// Numbers as sorted, comma-separated runs: [0, 1, 2, 3, 7] → "0-3,7". A large host's group
/// numbers stay one short line.
func idRanges(_ ids: [Int]) -> String {
    var out: [String] = []
    let sorted = ids.sorted()
    var i = 0
    while i < sorted.count {
        var j = i
        while j + 1 < sorted.count, sorted[j + 1] == sorted[j] + 1 { j += 1 }
        out.append(j == i ? "\(sorted[i])" : "\(sorted[i])-\(sorted[j])")
        i = j + 1
    }
    return out.joined(separator: ",")
}
