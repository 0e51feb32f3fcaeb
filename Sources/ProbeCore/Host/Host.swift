/// Everything the probe knows about a host, read once through HostFS: a value the checks and the
/// verdict are pure functions of, assembled from its `Parts`; a changed host is a new one (`with`).
public struct Host: Sendable {
    /// What the snapshot covers.
    public enum Scope: Sendable, Equatable {
        /// Every PCI device on the host.
        case all
        /// Only these devices, their IOMMU groups and their PFs.
        case devices([PCIAddress])
    }

    /// What a host is assembled from (the reader's results).
    public struct Parts: Sendable {
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
        /// What the host itself runs on: its disks, interfaces and console, by function.
        public var use: HostUse
        /// The command lines the next boot is configured with, and the distribution family.
        public var boot: BootConfig
        /// The hugepage pools and NUMA nodes DMA memory comes from.
        public var memory: Memory = Memory()
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
        /// The kernel's log (/dev/kmsg) and kernel.dmesg_restrict, which says who may read it.
        public var kernelLog: Reading<KernelLog> = .absent
        public var dmesgRestrict: Reading<Int> = .absent
        /// The CPU's confidential-computing flags and KVM's switches for them.
        public var confidential = ConfidentialComputing()
    }

    // The parts, fixed (see `Parts` for what each holds).
    public let root: String
    public let scope: Scope
    public let devices: [PCIAddress: PCIDevice]
    public let selected: [PCIAddress]
    public let missing: [PCIAddress]
    public let groups: [Int: IOMMUGroup]
    public let groupCount: Reading<Int>
    public let iommuUnits: Reading<[IOMMUUnit]>
    public let firmware: FirmwareTables
    public let kernel: Kernel
    public let modules: Modules
    public let devNodes: DevNodes
    public let process: ProcessFacts
    public let platform: Platform
    public let vmbus: Reading<[VMBusDevice]>
    public let use: HostUse
    public let boot: BootConfig
    public let memory: Memory
    public let mdevs: Reading<[MdevDevice]>
    public let mdevParents: Reading<[MdevParent]>
    public let readProblems: [String]
    public let deviceListProblem: String?
    public let unreadableSelected: [PCIAddress: String]
    public let otherDomains: [PCIAddress: [PCIAddress]]
    public let kernelLog: Reading<KernelLog>
    public let dmesgRestrict: Reading<Int>
    public let confidential: ConfidentialComputing
    /// The selected devices that exist, in address order (every check reads them).
    public let selectedDevices: [PCIDevice]
    /// The VFs read, by their PF, in address order.
    private let vfsByPF: [PCIAddress: [PCIAddress]]

    public init(assembling parts: Parts) {
        root = parts.root
        scope = parts.scope
        devices = parts.devices
        selected = parts.selected
        missing = parts.missing
        groups = parts.groups
        groupCount = parts.groupCount
        iommuUnits = parts.iommuUnits
        firmware = parts.firmware
        kernel = parts.kernel
        modules = parts.modules
        devNodes = parts.devNodes
        process = parts.process
        platform = parts.platform
        vmbus = parts.vmbus
        use = parts.use
        boot = parts.boot
        memory = parts.memory
        mdevs = parts.mdevs
        mdevParents = parts.mdevParents
        readProblems = parts.readProblems
        deviceListProblem = parts.deviceListProblem
        unreadableSelected = parts.unreadableSelected
        otherDomains = parts.otherDomains
        kernelLog = parts.kernelLog
        dmesgRestrict = parts.dmesgRestrict
        confidential = parts.confidential
        selectedDevices = parts.selected.compactMap { parts.devices[$0] }
        vfsByPF = Dictionary(grouping: parts.devices.values.filter { $0.physfn != nil }, by: { $0.physfn! }).mapValues {
            $0.map(\.address).sorted()
        }
    }

    /// What this host was assembled from.
    public var parts: Parts {
        var p = Parts(
            root: root, scope: scope, devices: devices, selected: selected, missing: missing, groups: groups, groupCount: groupCount,
            iommuUnits: iommuUnits, firmware: firmware, kernel: kernel, modules: modules, devNodes: devNodes, process: process,
            platform: platform, vmbus: vmbus, mdevs: mdevs, mdevParents: mdevParents, use: use, boot: boot, memory: memory,
            readProblems: readProblems,
            deviceListProblem: deviceListProblem, unreadableSelected: unreadableSelected, otherDomains: otherDomains)
        (p.kernelLog, p.dmesgRestrict, p.confidential) = (kernelLog, dmesgRestrict, confidential)
        return p
    }

    /// This host with `edit` made to its parts (tests build variants of a fixture this way).
    public func with(_ edit: (inout Parts) -> Void) -> Host {
        var p = parts
        edit(&p)
        return Host(assembling: p)
    }

    public func device(_ a: PCIAddress) -> PCIDevice? { devices[a] }
    /// The VFs of `pf` among the functions read (all of them on a whole-host read).
    public func vfs(of pf: PCIAddress) -> [PCIAddress] { vfsByPF[pf] ?? [] }
    public func group(of a: PCIAddress) -> IOMMUGroup? { devices[a]?.iommuGroup.flatMap { groups[$0] } }
    /// The group of a device at hand (without looking the device up again).
    public func group(of d: PCIDevice) -> IOMMUGroup? { d.iommuGroup.flatMap { groups[$0] } }
    /// Real IOMMU groups (not vfio-noiommu) among those read.
    /// A group whose name could not be read is not counted: it may be a no-IOMMU stand-in.
    public var hasRealGroups: Bool { groups.values.contains { $0.kind == .iommu && $0.nameProblem == nil } }
}
