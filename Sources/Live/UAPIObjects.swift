import ProbeCore
import SystemPackage

/// A file descriptor owned by one uapi object. Closed exactly once: explicitly, in the order the
/// walk needs (device, group, container), or when the object goes away on an error path.
final class OwnedFD {
    let fd: Int32
    private let kernel: any VFIOKernel
    private var isOpen = true

    init(_ fd: Int32, _ kernel: any VFIOKernel) {
        self.fd = fd
        self.kernel = kernel
    }

    func close() {
        guard isOpen else { return }
        isOpen = false
        kernel.close(fd)
    }

    deinit { close() }
}

/// The legacy container, /dev/vfio/vfio.
struct VFIOContainer {
    let handle: OwnedFD
    let kernel: any VFIOKernel

    init(kernel: any VFIOKernel) throws(Errno) {
        self.kernel = kernel
        handle = OwnedFD(try kernel.open(.container), kernel)
    }
    /// The corresponding ioctl is `VFIO_GET_API_VERSION`.
    func apiVersion() throws(Errno) -> Int32 { try kernel.getAPIVersion(handle.fd) }
    /// The corresponding ioctl is `VFIO_CHECK_EXTENSION`, asked for every extension.
    func extensions() throws(Errno) -> [VFIOExtension: Bool] {
        var out: [VFIOExtension: Bool] = [:]
        // One question at a time: iommufd's emulation answers DMA_CC with ENODEV until it has an
        // IOAS (iommufd_vfio_cc_iommu), which says "not offered", not that the container failed.
        var first: Errno?
        for e in VFIOExtension.allCases {
            do throws(Errno) { out[e] = try kernel.checkExtension(handle.fd, e.rawValue) > 0 } catch {
                out[e] = false
                first = first ?? error
            }
        }
        // A container that answers nothing at all is broken, not choosy.
        if let first, !out.values.contains(true) { throw first }
        return out
    }
    /// The corresponding ioctl is `VFIO_SET_IOMMU`.
    func setIOMMU(_ type: VFIOExtension) throws(Errno) { try kernel.setIOMMU(handle.fd, type.rawValue) }
    /// The corresponding ioctl is `VFIO_IOMMU_GET_INFO`.
    func info() throws(Errno) -> Type1Info { try kernel.iommuInfo(handle.fd) }
    /// The corresponding ioctl is `VFIO_IOMMU_MAP_DMA`: the buffer's first `length` bytes (all of it
    /// when nil) at `iova`.
    func map(_ buffer: DMABuffer, iova: UInt64, length: UInt64? = nil) throws(Errno) {
        try kernel.mapDMA(handle.fd, vaddr: buffer.address, iova: iova, size: length ?? UInt64(buffer.length))
    }
    /// The corresponding ioctl is `VFIO_IOMMU_UNMAP_DMA`.
    func unmap(iova: UInt64, size: UInt64) throws(Errno) -> UInt64 { try kernel.unmapDMA(handle.fd, iova: iova, size: size) }
}

/// A VFIO group, /dev/vfio/N or /dev/vfio/noiommu-N.
struct VFIOGroup {
    let handle: OwnedFD
    let kernel: any VFIOKernel

    init(kernel: any VFIOKernel, node: VFIONode) throws(Errno) {
        self.kernel = kernel
        handle = OwnedFD(try kernel.open(node), kernel)
    }
    /// The corresponding ioctl is `VFIO_GROUP_GET_STATUS`.
    func status() throws(Errno) -> GroupFlags { GroupFlags(rawValue: try kernel.groupStatus(handle.fd)) }
    /// The corresponding ioctl is `VFIO_GROUP_SET_CONTAINER`.
    func setContainer(_ c: VFIOContainer) throws(Errno) { try kernel.groupSetContainer(handle.fd, container: c.handle.fd) }
    /// The corresponding ioctl is `VFIO_GROUP_GET_DEVICE_FD`.
    func device(_ name: String) throws(Errno) -> VFIODevice {
        VFIODevice(handle: OwnedFD(try kernel.groupDeviceFD(handle.fd, name: name), kernel), kernel: kernel)
    }
}

/// A VFIO device, from its group or its cdev (/dev/vfio/devices/vfioN).
struct VFIODevice {
    let handle: OwnedFD
    let kernel: any VFIOKernel

    static let irqNames = ["INTx", "MSI", "MSI-X"]

    init(handle: OwnedFD, kernel: any VFIOKernel) {
        self.handle = handle
        self.kernel = kernel
    }
    init(kernel: any VFIOKernel, cdev: VFIONode) throws(Errno) {
        self.init(handle: OwnedFD(try kernel.open(cdev), kernel), kernel: kernel)
    }
    /// The corresponding ioctl is `VFIO_DEVICE_GET_INFO`.
    func info() throws(Errno) -> DeviceInfo { try kernel.deviceInfo(handle.fd) }
    /// The corresponding ioctl is `VFIO_DEVICE_GET_REGION_INFO`.
    func region(_ region: VFIOPCIRegion) throws(Errno) -> RegionInfo { try kernel.regionInfo(handle.fd, index: region.rawValue) }
    /// The corresponding ioctl is `VFIO_DEVICE_GET_IRQ_INFO`.
    func irq(_ index: UInt32) throws(Errno) -> IRQInfo { try kernel.irqInfo(handle.fd, index: index) }
    /// The corresponding ioctl is `VFIO_DEVICE_GET_PCI_HOT_RESET_INFO` (never
    /// VFIO_DEVICE_PCI_HOT_RESET or VFIO_DEVICE_RESET: the probe resets nothing).
    func hotResetInfo() throws(Errno) -> HotResetDomain { try kernel.hotResetInfo(handle.fd) }
    func read(count: Int, at offset: UInt64) throws(Errno) -> [UInt8] { try kernel.pread(handle.fd, count: count, offset: offset) }
    /// The corresponding ioctl is `VFIO_DEVICE_BIND_IOMMUFD`.
    func bind(_ iommufd: IOMMUFD) throws(Errno) -> UInt32 { try kernel.bindIOMMUFD(handle.fd, iommufd: iommufd.handle.fd) }
    /// The corresponding ioctl is `VFIO_DEVICE_ATTACH_IOMMUFD_PT`.
    func attach(_ ioas: IOAS) throws(Errno) { try kernel.attachIOMMUFDPT(handle.fd, ptID: ioas.id) }
}

/// /dev/iommu.
struct IOMMUFD {
    let handle: OwnedFD
    let kernel: any VFIOKernel

    init(kernel: any VFIOKernel) throws(Errno) {
        self.kernel = kernel
        handle = OwnedFD(try kernel.open(.iommufd), kernel)
    }
    /// The corresponding ioctl is `IOMMU_IOAS_ALLOC`.
    func allocateIOAS() throws(Errno) -> IOAS { IOAS(iommufd: self, id: try kernel.ioasAlloc(handle.fd)) }
    /// The corresponding ioctl is `IOMMU_GET_HW_INFO`.
    func hardwareInfo(devID: UInt32) throws(Errno) -> HWInfo { try kernel.hwInfo(handle.fd, devID: devID) }
}

/// An I/O address space inside an iommufd. Destroyed by IOMMU_DESTROY, or with its iommufd.
struct IOAS {
    let iommufd: IOMMUFD
    let id: UInt32
    /// The corresponding ioctl is `IOMMU_IOAS_IOVA_RANGES`.
    func ranges() throws(Errno) -> (ranges: [IOVARange], alignment: UInt64) {
        try iommufd.kernel.ioasIOVARanges(iommufd.handle.fd, ioas: id)
    }
    /// The corresponding ioctl is `IOMMU_IOAS_MAP`: the buffer's first `length` bytes (all of it when
    /// nil) at `iova`.
    func map(_ buffer: DMABuffer, iova: UInt64, length: UInt64? = nil) throws(Errno) {
        try iommufd.kernel.ioasMap(
            iommufd.handle.fd, ioas: id, vaddr: buffer.address, iova: iova, length: length ?? UInt64(buffer.length))
    }
    /// The corresponding ioctl is `IOMMU_IOAS_UNMAP`.
    func unmap(iova: UInt64, length: UInt64) throws(Errno) -> UInt64 {
        try iommufd.kernel.ioasUnmap(iommufd.handle.fd, ioas: id, iova: iova, length: length)
    }
    /// The corresponding ioctl is `IOMMU_DESTROY`.
    func destroy() throws(Errno) { try iommufd.kernel.destroy(iommufd.handle.fd, id: id) }
}

/// Anonymous memory to map for DMA: populated, so pinning it charges RLIMIT_MEMLOCK for real.
final class DMABuffer {
    let address: UInt64
    let length: Int
    private let kernel: any VFIOKernel
    private var mapped = true

    init(kernel: any VFIOKernel, length: Int) throws(Errno) {
        self.kernel = kernel
        self.length = length
        address = try kernel.mapBuffer(length: length)
    }

    func release() {
        guard mapped else { return }
        mapped = false
        kernel.unmapBuffer(address: address, length: length)
    }

    deinit { release() }
}
