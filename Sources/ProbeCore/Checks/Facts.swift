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
            if off == "intel_iommu=off" { return Actions.kernelParameter(replace: off, with: "intel_iommu=on", boot: boot) }
            return Actions.kernelParameter(remove: off, boot: boot)
        }
        switch vendor {
        case .amd?:
            return
                "enable the IOMMU (AMD-Vi / \"IOMMU\") in the firmware setup: amd_iommu has no \"on\" option, AMD-Vi is on whenever the firmware describes it (amd_iommu=force_enable only overrides the kernel's own opt-out on Stoney Ridge)"
        case .arm?:
            return
                "use firmware whose IORT describes an SMMU for the device (an IORT with only an ITS group means there is none); iommu.passthrough=0 does not create one"
        case .virtio?: return "make sure the kernel has CONFIG_VIRTIO_IOMMU and the virtio-iommu device is bound to virtio_iommu"
        default: return Actions.kernelParameter(add: "intel_iommu=on", boot: boot)
        }
    }

    /// The IOMMU driver (or interrupt remapping) this vendor needs and the kernel is built
    /// without, when the configuration says so: no parameter can help then.
    public var missingIOMMUDriver: String? {
        guard let c = kernel.config.value else { return nil }
        let need: String? =
            switch iommuVendor {
            case .intel?: "CONFIG_INTEL_IOMMU"
            case .amd?: "CONFIG_AMD_IOMMU"
            case .arm?:
                firmware.iort?.nodes.contains(where: { if case .smmuV1V2 = $0.kind { true } else { false } }) == true
                    ? "CONFIG_ARM_SMMU" : "CONFIG_ARM_SMMU_V3"
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
