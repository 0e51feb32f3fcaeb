/// Everything the probe knows about a host, read once through HostFS. Immutable: checks and the
/// verdict are pure functions of it.
public struct Host: Sendable {
    /// What the snapshot covers.
    public enum Scope: Sendable, Equatable {
        /// Every PCI device on the host.
        case all
        /// Only these devices, their IOMMU groups and their PFs.
        case devices([PCIAddress])
    }

    public var root: String
    public var scope: Scope
    /// PCI devices read: all of them, or the selected ones plus their group companions and PFs.
    public var devices: [PCIAddress: PCIDevice]
    /// Addresses the user asked about (scope .devices) or every device (scope .all), sorted.
    public var selected: [PCIAddress]
    /// Selected addresses that do not exist on the host.
    public var missing: [PCIAddress]
    public var groups: [Int: IOMMUGroup]
    /// Whether /sys/kernel/iommu_groups exists and how many entries it has (all scope), or nil
    /// when not listed (device scope).
    public var groupCount: Reading<Int>
    public var iommuUnits: Reading<[IOMMUUnit]>
    public var firmware: FirmwareTables
    public var kernel: Kernel
    public var modules: Modules
    public var devNodes: DevNodes
    public var process: ProcessFacts
    public var platform: Platform
    public var vmbus: Reading<[VMBusDevice]>
    public var mdevs: Reading<[MdevDevice]>
    public var mdevParents: Reading<[MdevParent]>
    /// Problems met while reading: libpci errors, malformed files.
    public var readProblems: [String]
    /// Why /sys/bus/pci/devices could not be listed, when it could not (the devices are then
    /// unknown, not absent).
    public var deviceListProblem: String? = nil
    /// Selected addresses that could not be looked up or read, and why: unknown, not missing.
    public var unreadableSelected: [PCIAddress: String] = [:]
    /// For each missing selected address, the functions with its bus, device and function in
    /// another PCI domain: what the user probably meant.
    public var otherDomains: [PCIAddress: [PCIAddress]] = [:]

    public func device(_ a: PCIAddress) -> PCIDevice? { devices[a] }
    public func group(of a: PCIAddress) -> IOMMUGroup? { devices[a]?.iommuGroup.flatMap { groups[$0] } }
    /// The group of a device at hand (without looking the device up again).
    public func group(of d: PCIDevice) -> IOMMUGroup? { d.iommuGroup.flatMap { groups[$0] } }
    /// The selected devices that exist, in address order.
    public var selectedDevices: [PCIDevice] {
        get { _selectedDevices ?? selected.compactMap { devices[$0] } }
    }
    var _selectedDevices: [PCIDevice]?

    /// Freezes derived lists once the snapshot is complete (every check reads them).
    mutating func seal() { _selectedDevices = selected.compactMap { devices[$0] } }
    /// Real IOMMU groups (not vfio-noiommu) among those read.
    /// A group whose name could not be read is not counted: it may be a no-IOMMU stand-in.
    public var hasRealGroups: Bool { groups.values.contains { $0.kind == .iommu && $0.nameProblem == nil } }
}
