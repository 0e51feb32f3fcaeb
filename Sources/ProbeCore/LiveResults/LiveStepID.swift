/// A node a walk opens, by its kind: the container, /dev/iommu, a group, a device cdev.
public enum VFIONode: Hashable, Sendable, CustomStringConvertible {
    /// /dev/vfio/vfio.
    case container
    /// /dev/iommu.
    case iommufd
    /// /dev/vfio/N.
    case group(Int)
    /// /dev/vfio/noiommu-N.
    case noIOMMUGroup(Int)
    /// /dev/vfio/devices/vfioN, by its name (`vfio0`).
    case cdev(String)

    /// The group node of an IOMMU group, no-IOMMU or not.
    public init(_ g: IOMMUGroup) { self = g.isNoIOMMU ? .noIOMMUGroup(g.id) : .group(g.id) }

    public var path: String {
        switch self {
        case .container: "/dev/vfio/vfio"
        case .iommufd: "/dev/iommu"
        case .group(let n): "/dev/vfio/\(n)"
        case .noIOMMUGroup(let n): "/dev/vfio/noiommu-\(n)"
        case .cdev(let v): "/dev/vfio/devices/\(v)"
        }
    }
    public var description: String { path }
}

/// VFIO extension and IOMMU type numbers (include/uapi/linux/vfio.h).
public enum VFIOExtension: UInt32, CaseIterable, Sendable {
    case type1 = 1
    case spaprTCE = 2
    case type1v2 = 3
    case dmaCC = 4
    /// 1 from vfio_iommu_type1 (6.12), 0 from iommufd's emulated container: tells them apart.
    case type1Nesting = 6
    case spaprTCEv2 = 7
    case noIOMMU = 8

    public var name: String {
        switch self {
        case .type1: "TYPE1"
        case .spaprTCE: "SPAPR_TCE"
        case .type1v2: "TYPE1v2"
        case .dmaCC: "DMA_CC"
        case .type1Nesting: "TYPE1_NESTING"
        case .spaprTCEv2: "SPAPR_TCE_v2"
        case .noIOMMU: "NOIOMMU"
        }
    }
}

/// vfio-pci's fixed region indexes (VFIO_PCI_*_REGION_INDEX); the walk reads the config space only.
public enum VFIOPCIRegion: UInt32, Sendable {
    case config = 7
}

/// One step of a live walk: the ioctl by its uapi name, or the syscall around it. `description`
/// is the name printed in reports and JSON ("VFIO_SET_IOMMU(TYPE1v2)", "open /dev/vfio/10").
public enum LiveStepID: Hashable, Sendable, CustomStringConvertible {
    /// open(2) of a node.
    case open(VFIONode)
    case getAPIVersion
    case checkExtension
    /// VFIO_SET_IOMMU, with the IOMMU type it sets.
    case setIOMMU(VFIOExtension)
    case iommuGetInfo
    /// mmap(2) of the anonymous buffer the DMA trial maps.
    case mmapDMABuffer
    case iommuMapDMA
    case iommuUnmapDMA
    case groupGetStatus
    case groupSetContainer
    case groupGetDeviceFD
    case deviceGetInfo
    case deviceGetRegionInfo(VFIOPCIRegion)
    /// pread(2) of the first config-space bytes, through the config region.
    case preadConfigSpace
    case deviceGetIRQInfo
    /// Read-only: the functions a hot reset of the device would reset. Never a reset.
    case deviceGetPCIHotResetInfo
    case deviceBindIOMMUFD
    case deviceAttachIOMMUFDPT
    case ioasAlloc
    case ioasIOVARanges
    case ioasMap
    case ioasUnmap
    case getHWInfo
    case destroy
    /// Stands for every step a walk did not attempt (--no-device-open on the cdev path).
    case restOfWalk
    /// `--memory`'s capacity trial: this many separate map ioctls, then one unmap (MapTrial).
    case mapTrial(Int)

    public var description: String {
        switch self {
        case .open(let node): "open \(node.path)"
        case .getAPIVersion: "VFIO_GET_API_VERSION"
        case .checkExtension: "VFIO_CHECK_EXTENSION"
        case .setIOMMU(let type): "VFIO_SET_IOMMU(\(type.name))"
        case .iommuGetInfo: "VFIO_IOMMU_GET_INFO"
        case .mmapDMABuffer: "mmap DMA buffer"
        case .iommuMapDMA: "VFIO_IOMMU_MAP_DMA"
        case .iommuUnmapDMA: "VFIO_IOMMU_UNMAP_DMA"
        case .groupGetStatus: "VFIO_GROUP_GET_STATUS"
        case .groupSetContainer: "VFIO_GROUP_SET_CONTAINER"
        case .groupGetDeviceFD: "VFIO_GROUP_GET_DEVICE_FD"
        case .deviceGetInfo: "VFIO_DEVICE_GET_INFO"
        case .deviceGetRegionInfo(.config): "VFIO_DEVICE_GET_REGION_INFO(config)"
        case .preadConfigSpace: "pread config space"
        case .deviceGetIRQInfo: "VFIO_DEVICE_GET_IRQ_INFO"
        case .deviceGetPCIHotResetInfo: "VFIO_DEVICE_GET_PCI_HOT_RESET_INFO"
        case .deviceBindIOMMUFD: "VFIO_DEVICE_BIND_IOMMUFD"
        case .deviceAttachIOMMUFDPT: "VFIO_DEVICE_ATTACH_IOMMUFD_PT"
        case .ioasAlloc: "IOMMU_IOAS_ALLOC"
        case .ioasIOVARanges: "IOMMU_IOAS_IOVA_RANGES"
        case .ioasMap: "IOMMU_IOAS_MAP"
        case .ioasUnmap: "IOMMU_IOAS_UNMAP"
        case .getHWInfo: "IOMMU_GET_HW_INFO"
        case .destroy: "IOMMU_DESTROY"
        case .restOfWalk: "(rest of the walk)"
        case .mapTrial(let n): "DMA capacity trial (\(n) mappings)"
        }
    }
}
