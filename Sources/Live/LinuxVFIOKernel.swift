#if canImport(Glibc)
import Glibc
#endif
import CShim
import ProbeCore
import SystemPackage

/// The real kernel. Every ioctl vfio-probe makes is in this file, through the C shim (Glibc's
/// ioctl is variadic). GET-style ioctls are retried on EINTR; close never is.
public final class LinuxVFIOKernel: VFIOKernel {
    public init() {}

    private func check(_ r: Int32) throws(Errno) -> Int32 {
        if r < 0 { throw Errno(rawValue: errno) }
        return r
    }

    private func ioctl<T>(_ fd: Int32, _ request: Int, _ arg: inout T) throws(Errno) -> Int32 {
        var r: Int32
        repeat {
            r = withUnsafeMutablePointer(to: &arg) { vp_ioctl_ptr(fd, UInt(request), $0) }
        } while r < 0 && errno == EINTR
        return try check(r)
    }

    private func ioctl(_ fd: Int32, _ request: Int, value: UInt) throws(Errno) -> Int32 {
        var r: Int32
        repeat { r = vp_ioctl_val(fd, UInt(request), value) } while r < 0 && errno == EINTR
        return try check(r)
    }

    public func open(_ path: String) throws(Errno) -> Int32 {
        var fd: Int32
        repeat { fd = Glibc.open(path, O_RDWR | O_CLOEXEC) } while fd < 0 && errno == EINTR
        return try check(fd)
    }

    public func close(_ fd: Int32) { _ = Glibc.close(fd) }

    public func getAPIVersion(_ container: Int32) throws(Errno) -> Int32 {
        try ioctl(container, VP_VFIO_GET_API_VERSION, value: 0)
    }

    public func checkExtension(_ container: Int32, _ ext: UInt32) throws(Errno) -> Int32 {
        try ioctl(container, VP_VFIO_CHECK_EXTENSION, value: UInt(ext))
    }

    public func setIOMMU(_ container: Int32, _ type: UInt32) throws(Errno) {
        _ = try ioctl(container, VP_VFIO_SET_IOMMU, value: UInt(type))
    }

    public func iommuInfo(_ container: Int32) throws(Errno) -> Type1Info {
        // First with the fixed part; the kernel raises argsz when capabilities do not fit.
        var size = MemoryLayout<vp_vfio_iommu_type1_info>.size
        var buffer = [UInt8](repeating: 0, count: size)
        for _ in 0..<4 {
            buffer = [UInt8](repeating: 0, count: size)
            let argsz = UInt32(size)
            buffer.withUnsafeMutableBytes { $0.storeBytes(of: argsz, toByteOffset: 0, as: UInt32.self) }
            var r: Int32
            repeat {
                r = buffer.withUnsafeMutableBytes { vp_ioctl_ptr(container, UInt(VP_VFIO_IOMMU_GET_INFO), $0.baseAddress) }
            } while r < 0 && errno == EINTR
            _ = try check(r)
            let wanted = Int(buffer.withUnsafeBytes { $0.load(fromByteOffset: 0, as: UInt32.self) })
            if wanted <= size { break }
            size = min(wanted, 1 << 20)
        }
        let info = buffer.withUnsafeBytes { $0.loadUnaligned(as: vp_vfio_iommu_type1_info.self) }
        let hasCaps = info.flags & (1 << 1) != 0 && info.cap_offset != 0
        let chain = hasCaps ? Type1CapabilityChain.parse(buffer, firstOffset: info.cap_offset) : (ranges: [], dmaAvailable: nil, migration: false)
        return Type1Info(flags: info.flags, pageSizes: info.iova_pgsizes, ranges: chain.ranges,
                         dmaAvailable: chain.dmaAvailable, migration: chain.migration)
    }

    public func mapDMA(_ container: Int32, vaddr: UInt64, iova: UInt64, size: UInt64) throws(Errno) {
        var map = vp_vfio_iommu_type1_dma_map(argsz: UInt32(MemoryLayout<vp_vfio_iommu_type1_dma_map>.size),
                                             flags: 0x1 | 0x2, vaddr: vaddr, iova: iova, size: size)
        _ = try ioctl(container, VP_VFIO_IOMMU_MAP_DMA, &map)
    }

    public func unmapDMA(_ container: Int32, iova: UInt64, size: UInt64) throws(Errno) -> UInt64 {
        var unmap = vp_vfio_iommu_type1_dma_unmap(argsz: UInt32(MemoryLayout<vp_vfio_iommu_type1_dma_unmap>.size),
                                                 flags: 0, iova: iova, size: size)
        _ = try ioctl(container, VP_VFIO_IOMMU_UNMAP_DMA, &unmap)
        return unmap.size
    }

    public func groupStatus(_ group: Int32) throws(Errno) -> UInt32 {
        var status = vp_vfio_group_status(argsz: UInt32(MemoryLayout<vp_vfio_group_status>.size), flags: 0)
        _ = try ioctl(group, VP_VFIO_GROUP_GET_STATUS, &status)
        return status.flags
    }

    public func groupSetContainer(_ group: Int32, container: Int32) throws(Errno) {
        var fd = container
        _ = try ioctl(group, VP_VFIO_GROUP_SET_CONTAINER, &fd)
    }

    public func groupDeviceFD(_ group: Int32, name: String) throws(Errno) -> Int32 {
        var r: Int32
        repeat {
            r = name.withCString { vp_ioctl_ptr(group, UInt(VP_VFIO_GROUP_GET_DEVICE_FD), UnsafeMutableRawPointer(mutating: $0)) }
        } while r < 0 && errno == EINTR
        return try check(r)
    }

    public func deviceInfo(_ device: Int32) throws(Errno) -> DeviceInfo {
        var info = vp_vfio_device_info()
        info.argsz = UInt32(MemoryLayout<vp_vfio_device_info>.size)
        _ = try ioctl(device, VP_VFIO_DEVICE_GET_INFO, &info)
        return DeviceInfo(flags: info.flags, numRegions: info.num_regions, numIRQs: info.num_irqs)
    }

    public func regionInfo(_ device: Int32, index: UInt32) throws(Errno) -> RegionInfo {
        var info = vp_vfio_region_info()
        info.argsz = UInt32(MemoryLayout<vp_vfio_region_info>.size)
        info.index = index
        _ = try ioctl(device, VP_VFIO_DEVICE_GET_REGION_INFO, &info)
        return RegionInfo(flags: info.flags, size: info.size, offset: info.offset)
    }

    public func irqInfo(_ device: Int32, index: UInt32) throws(Errno) -> IRQInfo {
        var info = vp_vfio_irq_info(argsz: UInt32(MemoryLayout<vp_vfio_irq_info>.size), flags: 0, index: index, count: 0)
        _ = try ioctl(device, VP_VFIO_DEVICE_GET_IRQ_INFO, &info)
        return IRQInfo(flags: info.flags, count: info.count)
    }

    public func pread(_ fd: Int32, count: Int, offset: UInt64) throws(Errno) -> [UInt8] {
        var buf = [UInt8](repeating: 0, count: count)
        let n = buf.withUnsafeMutableBytes { vp_pread(fd, $0.baseAddress, count, Int64(bitPattern: offset)) }
        if n < 0 { throw Errno(rawValue: errno) }
        return Array(buf[0..<n])
    }

    public func bindIOMMUFD(_ device: Int32, iommufd: Int32) throws(Errno) -> UInt32 {
        var bind = vp_vfio_device_bind_iommufd(argsz: UInt32(MemoryLayout<vp_vfio_device_bind_iommufd>.size),
                                               flags: 0, iommufd: iommufd, out_devid: 0)
        _ = try ioctl(device, VP_VFIO_DEVICE_BIND_IOMMUFD, &bind)
        return bind.out_devid
    }

    public func attachIOMMUFDPT(_ device: Int32, ptID: UInt32) throws(Errno) {
        var attach = vp_vfio_device_attach_iommufd_pt(argsz: UInt32(MemoryLayout<vp_vfio_device_attach_iommufd_pt>.size),
                                                      flags: 0, pt_id: ptID)
        _ = try ioctl(device, VP_VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach)
    }

    public func ioasAlloc(_ iommufd: Int32) throws(Errno) -> UInt32 {
        var alloc = vp_iommu_ioas_alloc(size: UInt32(MemoryLayout<vp_iommu_ioas_alloc>.size), flags: 0, out_ioas_id: 0)
        _ = try ioctl(iommufd, VP_IOMMU_IOAS_ALLOC, &alloc)
        return alloc.out_ioas_id
    }

    public func ioasIOVARanges(_ iommufd: Int32, ioas: UInt32) throws(Errno) -> (ranges: [IOVARange], alignment: UInt64) {
        var capacity = 8
        for _ in 0..<4 {
            var ranges = [vp_iommu_iova_range](repeating: vp_iommu_iova_range(), count: capacity)
            var q = vp_iommu_ioas_iova_ranges()
            q.size = UInt32(MemoryLayout<vp_iommu_ioas_iova_ranges>.size)
            q.ioas_id = ioas
            q.num_iovas = UInt32(capacity)
            var r: Int32 = 0
            var err: Int32 = 0
            ranges.withUnsafeMutableBufferPointer { buf in
                q.allowed_iovas = UInt64(UInt(bitPattern: buf.baseAddress))
                repeat { r = withUnsafeMutablePointer(to: &q) { vp_ioctl_ptr(iommufd, UInt(VP_IOMMU_IOAS_IOVA_RANGES), $0) } } while r < 0 && errno == EINTR
                err = errno
            }
            if r < 0 && err == EMSGSIZE && Int(q.num_iovas) > capacity {
                capacity = min(Int(q.num_iovas), 4096)
                continue
            }
            if r < 0 { throw Errno(rawValue: err) }
            let n = min(Int(q.num_iovas), capacity)
            return (ranges[0..<n].map { IOVARange(start: $0.start, last: $0.last) }, q.out_iova_alignment)
        }
        throw Errno.messageTooLong
    }

    public func ioasMap(_ iommufd: Int32, ioas: UInt32, vaddr: UInt64, iova: UInt64, length: UInt64) throws(Errno) {
        // FIXED_IOVA | WRITEABLE | READABLE (iommufd's own flags, not VFIO's).
        var map = vp_iommu_ioas_map(size: UInt32(MemoryLayout<vp_iommu_ioas_map>.size), flags: 0x1 | 0x2 | 0x4,
                                    ioas_id: ioas, reserved: 0, user_va: vaddr, length: length, iova: iova)
        _ = try ioctl(iommufd, VP_IOMMU_IOAS_MAP, &map)
    }

    public func ioasUnmap(_ iommufd: Int32, ioas: UInt32, iova: UInt64, length: UInt64) throws(Errno) -> UInt64 {
        var unmap = vp_iommu_ioas_unmap(size: UInt32(MemoryLayout<vp_iommu_ioas_unmap>.size), ioas_id: ioas, iova: iova, length: length)
        _ = try ioctl(iommufd, VP_IOMMU_IOAS_UNMAP, &unmap)
        return unmap.length
    }

    public func hwInfo(_ iommufd: Int32, devID: UInt32) throws(Errno) -> HWInfo {
        var vtd = vp_iommu_hw_info_vtd()
        var info = vp_iommu_hw_info()
        info.size = UInt32(MemoryLayout<vp_iommu_hw_info>.size)
        info.dev_id = devID
        info.data_len = UInt32(MemoryLayout<vp_iommu_hw_info_vtd>.size)
        var r: Int32 = 0
        var err: Int32 = 0
        withUnsafeMutablePointer(to: &vtd) { p in
            info.data_uptr = UInt64(UInt(bitPattern: p))
            repeat { r = withUnsafeMutablePointer(to: &info) { vp_ioctl_ptr(iommufd, UInt(VP_IOMMU_GET_HW_INFO), $0) } } while r < 0 && errno == EINTR
            err = errno
        }
        if r < 0 { throw Errno(rawValue: err) }
        let isVTd = info.out_data_type == 1
        return HWInfo(type: info.out_data_type, intelCap: isVTd ? vtd.cap_reg : nil, intelEcap: isVTd ? vtd.ecap_reg : nil)
    }

    public func destroy(_ iommufd: Int32, id: UInt32) throws(Errno) {
        var d = vp_iommu_destroy(size: UInt32(MemoryLayout<vp_iommu_destroy>.size), id: id)
        _ = try ioctl(iommufd, VP_IOMMU_DESTROY, &d)
    }

    public func mapBuffer(length: Int) throws(Errno) -> UInt64 {
        guard let p = vp_map_buffer(length) else { throw Errno(rawValue: errno) }
        return UInt64(UInt(bitPattern: p))
    }

    public func unmapBuffer(address: UInt64, length: Int) {
        _ = vp_unmap_buffer(UnsafeMutableRawPointer(bitPattern: UInt(address)), length)
    }
}
