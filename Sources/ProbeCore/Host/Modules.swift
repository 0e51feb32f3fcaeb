/// How a kernel module is present.
public enum ModuleState: String, Sendable, Codable {
    /// Compiled into the kernel.
    case builtIn = "built-in"
    /// Loaded now.
    case loaded
    /// Not loaded, but the kernel was built with it as a module.
    case available
    /// The kernel was built without it.
    case absent
    /// Cannot tell: no /sys/module entry and no kernel configuration to consult.
    case unknown

    public var isPresent: Bool { self == .builtIn || self == .loaded }
    public var isUsable: Bool { isPresent || self == .available }
}

public struct Module: Sendable {
    public var name: String
    public var state: ModuleState
    /// Parameters read from /sys/module/NAME/parameters (only those the probe asks for).
    public var parameters: [String: Reading<String>]
    /// The CONFIG_ symbol that builds it.
    public var configSymbol: String
}

/// The VFIO stack's modules and the parameters that matter to it.
public struct Modules: Sendable {
    public var byName: [String: Module]
    /// The variant drivers' aliases and the modprobe configuration (see `DriverConfig`).
    public var drivers = DriverConfig()
    /// The modules of modules.builtin (dashes as underscores), and whether the kernel was built
    /// without module support (CONFIG_MODULES=n: everything is built in).
    public var builtInNames: Set<String> = []
    public var noModules = false

    /// Whether a driver (by its module name) is built in; nil when the probe cannot tell.
    public func isBuiltIn(_ module: String) -> Bool? {
        if noModules || builtInNames.contains(module) { return true }
        return builtInNames.isEmpty ? nil : false
    }
    public subscript(_ name: String) -> Module? { byName[name] }

    public func state(_ name: String) -> ModuleState { byName[name]?.state ?? .unknown }
    public func parameter(_ module: String, _ name: String) -> Reading<String> {
        byName[module]?.parameters[name] ?? .absent
    }

    /// The modules the probe looks at, their CONFIG_ symbols and the parameters it reads.
    public static let watched: [(name: String, config: String, parameters: [String])] = [
        ("vfio", "CONFIG_VFIO", ["enable_unsafe_noiommu_mode"]),
        ("vfio_pci", "CONFIG_VFIO_PCI", ["ids", "disable_denylist", "disable_idle_d3", "nointxmask"]),
        ("vfio_pci_core", "CONFIG_VFIO_PCI_CORE", []),
        ("vfio_iommu_type1", "CONFIG_VFIO_IOMMU_TYPE1", ["allow_unsafe_interrupts", "dma_entry_limit", "disable_hugepages"]),
        ("iommufd", "CONFIG_IOMMUFD", ["allow_unsafe_interrupts"]),
        ("mdev", "CONFIG_VFIO_MDEV", []),
        ("uio", "CONFIG_UIO", []),
        ("uio_pci_generic", "CONFIG_UIO_PCI_GENERIC", []),
        // Out of tree (github.com/gnif/vendor-reset): no CONFIG_ symbol; loaded or not.
        ("vendor_reset", "CONFIG_VENDOR_RESET", []),
        ("pci_stub", "CONFIG_PCI_STUB", []),
    ]
}
