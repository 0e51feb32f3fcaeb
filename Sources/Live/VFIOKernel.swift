import ProbeCore
import SystemPackage

/// Every syscall the live walk makes, one method per uapi operation. `LinuxVFIOKernel` is the
/// real one (the only code that calls ioctl); tests drive the walk with a scripted fake.
public protocol VFIOKernel: AnyObject {
    /// open(2) of the node's path with O_RDWR | O_CLOEXEC.
    func open(_ node: VFIONode) throws(Errno) -> Int32
    func close(_ fd: Int32)

    /// The corresponding ioctl is `VFIO_GET_API_VERSION`.
    func getAPIVersion(_ container: Int32) throws(Errno) -> Int32
    /// The corresponding ioctl is `VFIO_CHECK_EXTENSION`.
    func checkExtension(_ container: Int32, _ ext: UInt32) throws(Errno) -> Int32
    /// The corresponding ioctl is `VFIO_SET_IOMMU`.
    func setIOMMU(_ container: Int32, _ type: UInt32) throws(Errno)
    /// The corresponding ioctl is `VFIO_IOMMU_GET_INFO`, re-issued with the argsz the kernel asks for.
    func iommuInfo(_ container: Int32) throws(Errno) -> Type1Info
    /// The corresponding ioctl is `VFIO_IOMMU_MAP_DMA` (read and write).
    func mapDMA(_ container: Int32, vaddr: UInt64, iova: UInt64, size: UInt64) throws(Errno)
    /// The corresponding ioctl is `VFIO_IOMMU_UNMAP_DMA`; returns the size the kernel unmapped.
    func unmapDMA(_ container: Int32, iova: UInt64, size: UInt64) throws(Errno) -> UInt64

    /// The corresponding ioctl is `VFIO_GROUP_GET_STATUS`; returns the flags.
    func groupStatus(_ group: Int32) throws(Errno) -> UInt32
    /// The corresponding ioctl is `VFIO_GROUP_SET_CONTAINER`.
    func groupSetContainer(_ group: Int32, container: Int32) throws(Errno)
    /// The corresponding ioctl is `VFIO_GROUP_GET_DEVICE_FD`.
    func groupDeviceFD(_ group: Int32, name: String) throws(Errno) -> Int32

    /// The corresponding ioctl is `VFIO_DEVICE_GET_INFO`.
    func deviceInfo(_ device: Int32) throws(Errno) -> DeviceInfo
    /// The corresponding ioctl is `VFIO_DEVICE_GET_REGION_INFO`.
    func regionInfo(_ device: Int32, index: UInt32) throws(Errno) -> RegionInfo
    /// The corresponding ioctl is `VFIO_DEVICE_GET_IRQ_INFO`.
    func irqInfo(_ device: Int32, index: UInt32) throws(Errno) -> IRQInfo
    /// The corresponding ioctl is `VFIO_DEVICE_GET_PCI_HOT_RESET_INFO`, re-issued with the
    /// argsz the kernel asks for (ENOSPC with the count). Read-only: it resets nothing.
    func hotResetInfo(_ device: Int32) throws(Errno) -> HotResetDomain
    /// pread(2) of a device region.
    func pread(_ fd: Int32, count: Int, offset: UInt64) throws(Errno) -> [UInt8]
    /// The corresponding ioctl is `VFIO_DEVICE_BIND_IOMMUFD`; returns the device id.
    func bindIOMMUFD(_ device: Int32, iommufd: Int32) throws(Errno) -> UInt32
    /// The corresponding ioctl is `VFIO_DEVICE_ATTACH_IOMMUFD_PT`.
    func attachIOMMUFDPT(_ device: Int32, ptID: UInt32) throws(Errno)

    /// The corresponding ioctl is `IOMMU_IOAS_ALLOC`.
    func ioasAlloc(_ iommufd: Int32) throws(Errno) -> UInt32
    /// The corresponding ioctl is `IOMMU_IOAS_IOVA_RANGES`, re-issued on EMSGSIZE.
    func ioasIOVARanges(_ iommufd: Int32, ioas: UInt32) throws(Errno) -> (ranges: [IOVARange], alignment: UInt64)
    /// The corresponding ioctl is `IOMMU_IOAS_MAP` (readable, writeable, at a fixed IOVA).
    func ioasMap(_ iommufd: Int32, ioas: UInt32, vaddr: UInt64, iova: UInt64, length: UInt64) throws(Errno)
    /// The corresponding ioctl is `IOMMU_IOAS_UNMAP`; returns the length unmapped.
    func ioasUnmap(_ iommufd: Int32, ioas: UInt32, iova: UInt64, length: UInt64) throws(Errno) -> UInt64
    /// The corresponding ioctl is `IOMMU_GET_HW_INFO`.
    func hwInfo(_ iommufd: Int32, devID: UInt32) throws(Errno) -> HWInfo
    /// The corresponding ioctl is `IOMMU_DESTROY`.
    func destroy(_ iommufd: Int32, id: UInt32) throws(Errno)

    /// An anonymous, populated buffer to map for DMA; returns its address.
    func mapBuffer(length: Int) throws(Errno) -> UInt64
    func unmapBuffer(address: UInt64, length: Int)
}

/// VFIO_GROUP_GET_STATUS flags.
public struct GroupFlags: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let viable = GroupFlags(rawValue: 1 << 0)
    public static let containerSet = GroupFlags(rawValue: 1 << 1)
    public var description: String {
        var names: [String] = []
        if contains(.viable) { names.append("VIABLE") }
        if contains(.containerSet) { names.append("CONTAINER_SET") }
        return names.isEmpty ? "0" : names.joined(separator: "|")
    }
}

/// VFIO_IOMMU_GET_INFO and its capability chain.
public struct Type1Info: Sendable, Equatable {
    public var flags: UInt32
    public var pageSizes: UInt64
    public var ranges: [IOVARange]
    public var dmaAvailable: UInt32?
    public var migration: Bool
    public init(flags: UInt32, pageSizes: UInt64, ranges: [IOVARange], dmaAvailable: UInt32?, migration: Bool) {
        self.flags = flags
        self.pageSizes = pageSizes
        self.ranges = ranges
        self.dmaAvailable = dmaAvailable
        self.migration = migration
    }
}

public struct DeviceInfo: Sendable, Equatable {
    public var flags: UInt32
    public var numRegions: UInt32
    public var numIRQs: UInt32
    public init(flags: UInt32, numRegions: UInt32, numIRQs: UInt32) {
        self.flags = flags
        self.numRegions = numRegions
        self.numIRQs = numIRQs
    }
    /// VFIO_DEVICE_FLAGS_*.
    public var flagNames: String {
        let names = [(0, "RESET"), (1, "PCI"), (2, "PLATFORM"), (3, "AMBA"), (4, "CCW"), (5, "AP"), (6, "FSL_MC"), (7, "CAPS"), (8, "CDX")]
        let set = names.filter { flags & (1 << UInt32($0.0)) != 0 }.map(\.1)
        return set.isEmpty ? "0" : set.joined(separator: "|")
    }
}

public struct RegionInfo: Sendable, Equatable {
    public var flags: UInt32
    public var size: UInt64
    public var offset: UInt64
    public init(flags: UInt32, size: UInt64, offset: UInt64) {
        self.flags = flags
        self.size = size
        self.offset = offset
    }
}

public struct IRQInfo: Sendable, Equatable {
    public var flags: UInt32
    public var count: UInt32
    public init(flags: UInt32, count: UInt32) {
        self.flags = flags
        self.count = count
    }
}

/// IOMMU_GET_HW_INFO: the type (1 = Intel VT-d) and, for VT-d, the capability registers.
public struct HWInfo: Sendable, Equatable {
    public var type: UInt32
    public var intelCap: UInt64?
    public var intelEcap: UInt64?
    /// `out_max_pasid_log2` (6.12's uapi has it): the device's PASID width, 0 when PASID is not
    /// enabled on it (the kernel reports it only then: iommufd_get_hw_info).
    public var maxPASIDLog2: UInt8 = 0
    public init(type: UInt32, intelCap: UInt64?, intelEcap: UInt64?, maxPASIDLog2: UInt8 = 0) {
        self.maxPASIDLog2 = maxPASIDLog2
        self.type = type
        self.intelCap = intelCap
        self.intelEcap = intelEcap
    }
}

/// The capability chain VFIO_IOMMU_GET_INFO returns after the fixed header. Pure, and bounded:
/// offsets outside the buffer, overlapping headers and loops end the walk.
public enum Type1CapabilityChain {
    public static let iovaRange: UInt16 = 1
    public static let migration: UInt16 = 2
    public static let dmaAvailable: UInt16 = 3

    public static func parse(_ bytes: [UInt8], firstOffset: UInt32) -> (ranges: [IOVARange], dmaAvailable: UInt32?, migration: Bool) {
        var ranges: [IOVARange] = []
        var avail: UInt32?
        var hasMigration = false
        var offset = Int(firstOffset)
        var seen: Set<Int> = []
        func u16(_ o: Int) -> UInt16 { UInt16(bytes[o]) | UInt16(bytes[o + 1]) << 8 }
        func u32(_ o: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(bytes[o + $1]) << (8 * UInt32($1)) } }
        func u64(_ o: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(bytes[o + $1]) << (8 * UInt64($1)) } }
        while offset >= 24, offset + 8 <= bytes.count, seen.insert(offset).inserted {
            let id = u16(offset)
            let next = Int(u32(offset + 4))
            switch id {
            case iovaRange where offset + 16 <= bytes.count:
                let n = Int(u32(offset + 8))
                for i in 0..<min(n, 4096) {
                    let o = offset + 16 + i * 16
                    guard o + 16 <= bytes.count else { break }
                    ranges.append(IOVARange(start: u64(o), last: u64(o + 8)))
                }
            case dmaAvailable where offset + 12 <= bytes.count:
                avail = u32(offset + 8)
            case Self.migration:
                hasMigration = true
            default:
                break
            }
            if next == 0 { break }
            offset = next
        }
        return (ranges, avail, hasMigration)
    }
}
