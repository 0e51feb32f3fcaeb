import SystemPackage

/// What the kernel answered when the probe walked the VFIO ioctl paths. Produced by the Live
/// module, read by the live checks and the verdict; plain values, no file descriptors.
public struct LiveReport: Sendable {
    /// Why the live half did not run (`--no-live`, `--root`), when it did not.
    public var notRun: String?
    /// Opening /dev/vfio/vfio, the API version and the extensions.
    public var container: LiveWalk?
    public var devices: [PCIAddress: [LiveWalk]]
    /// Walks of mdev instances, by UUID (whole-host runs).
    public var mdevs: [String: [LiveWalk]] = [:]
    public var deviceOpen: Bool

    public init(notRun: String? = nil, container: LiveWalk? = nil, devices: [PCIAddress: [LiveWalk]] = [:], deviceOpen: Bool = true) {
        self.notRun = notRun
        self.container = container
        self.devices = devices
        self.deviceOpen = deviceOpen
    }

    public static func skipped(_ why: String) -> LiveReport { LiveReport(notRun: why) }

    public func walk(_ kind: LiveWalk.Kind, for a: PCIAddress) -> LiveWalk? {
        devices[a]?.first { $0.kind == kind }
    }
}

/// One path through the uapi, step by step. Every step is kept, including the one that failed.
public struct LiveWalk: Sendable, Equatable {
    public enum Kind: String, Sendable, Codable {
        case container
        /// Legacy container + vfio_iommu_type1.
        case type1
        /// Legacy container in no-IOMMU mode.
        case noiommu
        /// /dev/iommu + the vfio device cdev.
        case iommufd
    }
    public var kind: Kind
    public var steps: [LiveStep]
    public var facts: LiveFacts

    public init(kind: Kind, steps: [LiveStep] = [], facts: LiveFacts = LiveFacts()) {
        self.kind = kind
        self.steps = steps
        self.facts = facts
    }

    /// The step that failed, if one did.
    public var failure: LiveStep? {
        steps.first {
            switch $0.outcome {
            case .failed, .rejected: true
            case .ok, .skipped: false
            }
        }
    }
    /// No step failed (steps skipped by --no-device-open do not count against it).
    public var succeeded: Bool { failure == nil && steps.contains { $0.outcome == .ok } }
}

public struct LiveStep: Sendable, Equatable {
    public enum Outcome: Sendable, Equatable {
        case ok
        case failed(Errno)
        /// The call succeeded, but what it returned stops the walk (a group that is not viable, a
        /// missing extension, config space that does not match sysfs).
        case rejected
        /// Not attempted (an earlier step failed, or --no-device-open).
        case skipped
    }
    /// The ioctl (`VFIO_GROUP_GET_STATUS`) or call (`open /dev/vfio/10`).
    public var id: LiveStepID
    /// As printed: `id`'s description.
    public var name: String { id.description }
    public var outcome: Outcome
    /// What came back: "flags VIABLE|CONTAINER_SET", "iova 0x100000000 size 0x4000".
    public var detail: String

    public init(_ id: LiveStepID, _ outcome: Outcome, _ detail: String = "") {
        self.id = id
        self.outcome = outcome
        self.detail = detail
    }

    public var errno: Errno? { if case .failed(let e) = outcome { e } else { nil } }
    public var errnoName: String? { errno.map { ErrnoName.of($0.rawValue) } }
}

/// Facts a walk established.
public struct LiveFacts: Sendable, Equatable {
    public var apiVersion: Int32?
    /// VFIO_CHECK_EXTENSION answers, by name (TYPE1v2, TYPE1, SPAPR_TCE, SPAPR_TCE_v2, NOIOMMU).
    public var extensions: [String: Bool] = [:]
    public var iommuType: String?
    public var groupFlags: UInt32?
    public var iovaPageSizes: UInt64?
    public var iovaRanges: [IOVARange] = []
    public var dmaAvailable: UInt32?
    public var migration: Bool?
    public var mappedIOVA: UInt64?
    public var mappedSize: UInt64?
    public var unmappedSize: UInt64?
    public var deviceFlags: UInt32?
    public var numRegions: UInt32?
    public var numIRQs: UInt32?
    public var configRegionSize: UInt64?
    /// Vendor and device id read through the config-space region.
    public var configVendorID: UInt16?
    public var configDeviceID: UInt16?
    /// IRQ counts by index name (INTx, MSI, MSI-X).
    public var irqCounts: [String: UInt32] = [:]
    /// iommufd: device id, IOAS id, IOVA alignment, hardware info.
    public var devID: UInt32?
    public var ioasID: UInt32?
    public var iovaAlignment: UInt64?
    public var hwInfoType: UInt32?
    public var hwIntelCap: UInt64?
    public var hwIntelEcap: UInt64?
    /// IOMMU_GET_HW_INFO's `out_max_pasid_log2`: 0 when PASID is not enabled on the device.
    public var hwMaxPASIDLog2: UInt8?
    /// Processes that hold the group or device open (from /proc/*/fd), on EBUSY.
    public var holders: [String] = []
    /// VFIO_DEVICE_GET_PCI_HOT_RESET_INFO: the functions a hot reset takes, or the errno the
    /// kernel answered (ENODEV: no slot or bus reset for this device).
    public var hotReset: HotResetDomain?
    public var hotResetErrno: Int32?
    /// The mapping-capacity trial `--memory` asks for: how many separate mappings the kernel took.
    public var mapTrial: MapTrial?

    public init() {}
}

/// The capacity trial: `asked` separate mappings of one page, each its own VFIO_IOMMU_MAP_DMA or
/// IOMMU_IOAS_MAP as a driver that maps page by page makes them (DPDK's vfio_mem_event_callback
/// maps each memseg on its own), then one unmap of them all. The page is the same for every
/// mapping, so the trial pins one page of memory, while type1 counts each mapping against
/// dma_entry_limit and both backends charge each against RLIMIT_MEMLOCK.
public struct MapTrial: Sendable, Equatable {
    /// The mappings tried: the workload's count, within `LiveProber.mapTrialLimit`.
    public var asked: Int
    /// The workload's whole count, of which `asked` were tried.
    public var needed: Int
    /// The size of each mapping.
    public var pageSize: UInt64
    /// The mappings the kernel made before it refused one (all of `asked` when `errno` is nil).
    public var mapped: Int
    /// What the kernel answered to mapping number `mapped + 1`: ENOSPC (type1's dma_entry_limit,
    /// vfio_dma_do_map), ENOMEM (RLIMIT_MEMLOCK, vfio_lock_acct / incr_user_locked_vm).
    public var errno: Int32?
    /// Bytes the final unmap removed (nil: it failed; closing the fd dropped them).
    public var unmapped: UInt64?
    public init(asked: Int, needed: Int, pageSize: UInt64, mapped: Int, errno: Int32? = nil, unmapped: UInt64? = nil) {
        self.asked = asked
        self.needed = needed
        self.pageSize = pageSize
        self.mapped = mapped
        self.errno = errno
        self.unmapped = unmapped
    }
    public var succeeded: Bool { errno == nil && mapped == asked }
    public var description: String {
        let head = "\(mapped) of \(asked) mappings of \(ByteCount.text(pageSize))"
        guard let errno else { return head + (asked < needed ? " (the workload needs \(needed); the trial stops at \(asked))" : "") }
        return head + "; mapping \(mapped + 1) failed with \(ErrnoName.of(errno))"
    }
}

/// VFIO_DEVICE_GET_PCI_HOT_RESET_INFO's answer (struct vfio_pci_hot_reset_info): every function
/// a slot or bus reset of the device resets, itself included.
public struct HotResetDomain: Sendable, Equatable {
    /// VFIO_PCI_HOT_RESET_FLAG_DEV_ID: the ids are iommufd device ids (a cdev-opened device);
    /// otherwise IOMMU group numbers (the legacy group path).
    public static let flagDevID: UInt32 = 1 << 0
    /// VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED: every function is owned through the iommufd.
    public static let flagDevIDOwned: UInt32 = 1 << 1
    /// VFIO_PCI_DEVID_NOT_OWNED.
    public static let devIDNotOwned: UInt32 = 0xffff_ffff

    public struct Member: Sendable, Equatable {
        public var address: PCIAddress
        /// group_id or devid (vfio_pci_dependent_device's union), as the flags say.
        public var id: UInt32
        public init(address: PCIAddress, id: UInt32) {
            self.address = address
            self.id = id
        }
    }
    public var flags: UInt32
    public var members: [Member]
    public init(flags: UInt32, members: [Member]) {
        self.flags = flags
        self.members = members
    }

    public var usesDevIDs: Bool { flags & Self.flagDevID != 0 }

    /// The members a hot reset from this process cannot cover yet: on the legacy path those in
    /// another group than `group` (VFIO_DEVICE_PCI_HOT_RESET needs every affected group's fd), on
    /// the cdev path those the kernel marks VFIO_PCI_DEVID_NOT_OWNED.
    public func notOwned(openedGroup group: Int?) -> [Member] {
        if usesDevIDs { return members.filter { $0.id == Self.devIDNotOwned } }
        return members.filter { group == nil || Int($0.id) != group }
    }

    public var description: String {
        members.map { m in
            let id =
                usesDevIDs
                ? (m.id == Self.devIDNotOwned ? "not owned" : m.id == 0 ? "owned" : "devid \(m.id)") : "group \(m.id)"
            return "\(m.address) (\(id))"
        }.joined(separator: ", ")
    }
}

public struct IOVARange: Sendable, Equatable {
    public var start: UInt64
    /// Inclusive.
    public var last: UInt64
    public init(start: UInt64, last: UInt64) {
        self.start = start
        self.last = last
    }
    public var description: String { "0x\(hex(start, 1))-0x\(hex(last, 1))" }
    /// Its bytes; the whole 64-bit space (iommufd's and virtio-iommu's 0-2^64-1) saturates at 2^64-1.
    public var size: UInt64 {
        guard last >= start else { return 0 }
        let (n, o) = (last - start).addingReportingOverflow(1)
        return o ? .max : n
    }
}

/// errno names, as the kernel's uapi spells them.
public enum ErrnoName {
    static let names: [Int32: String] = [
        1: "EPERM", 2: "ENOENT", 3: "ESRCH", 4: "EINTR", 5: "EIO", 6: "ENXIO", 7: "E2BIG", 9: "EBADF", 11: "EAGAIN",
        12: "ENOMEM", 13: "EACCES", 14: "EFAULT", 16: "EBUSY", 17: "EEXIST", 19: "ENODEV", 20: "ENOTDIR",
        22: "EINVAL", 24: "EMFILE", 25: "ENOTTY", 28: "ENOSPC", 34: "ERANGE", 38: "ENOSYS", 75: "EOVERFLOW",
        90: "EMSGSIZE", 95: "EOPNOTSUPP",
    ]
    public static func of(_ e: Int32) -> String { names[e] ?? "errno \(e)" }
}
