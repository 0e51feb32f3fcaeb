#if canImport(Glibc)
import Glibc
#endif
import CShim
import ProbeCore
import SystemPackage

/// Calls `call` again while it fails with EINTR: the result, or the errno it failed with. The
/// one retry loop of the seam (close is never retried).
func retryingEINTR<R: SignedInteger>(_ call: () -> R) -> Result<R, Errno> {
    while true {
        let r = call()
        if r >= 0 { return .success(r) }
        let e = errno
        if e != EINTR { return .failure(Errno(rawValue: e)) }
    }
}

/// The real kernel. Every ioctl vfio-probe makes is in this file, through the Glibc overlay's
/// ioctl. open, pread and every ioctl are retried on EINTR; close never is.
public final class LinuxVFIOKernel: VFIOKernel {
    public init() {}

    private func ioctl<T>(_ fd: Int32, _ request: Int, _ arg: inout T) throws(Errno) -> Int32 {
        try retryingEINTR { withUnsafeMutablePointer(to: &arg) { Glibc.ioctl(fd, UInt(request), $0) } }.get()
    }

    /// An ioctl whose argument is a number. The kernel reads a whole unsigned long, and the
    /// overlay's CInt form leaves the register's upper half as it finds it: the number goes as a
    /// pointer's bits, and 0 through the no-argument form (which passes 0).
    private func ioctl(_ fd: Int32, _ request: Int, value: UInt) throws(Errno) -> Int32 {
        guard let arg = UnsafeMutableRawPointer(bitPattern: value) else {
            return try retryingEINTR { Glibc.ioctl(fd, UInt(request)) }.get()
        }
        return try retryingEINTR { Glibc.ioctl(fd, UInt(request), arg) }.get()
    }

    public func open(_ node: VFIONode) throws(Errno) -> Int32 {
        try retryingEINTR { Glibc.open(node.path, O_RDWR | O_CLOEXEC) }.get()
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
            _ = try retryingEINTR {
                buffer.withUnsafeMutableBytes { Glibc.ioctl(container, UInt(VP_VFIO_IOMMU_GET_INFO), $0.baseAddress!) }
            }.get()
            let wanted = Int(buffer.withUnsafeBytes { $0.load(fromByteOffset: 0, as: UInt32.self) })
            if wanted <= size { break }
            size = min(wanted, 1 << 20)
        }
        let info = buffer.withUnsafeBytes { $0.loadUnaligned(as: vp_vfio_iommu_type1_info.self) }
        let hasCaps = info.flags & (1 << 1) != 0 && info.cap_offset != 0
        let chain =
            hasCaps ? Type1CapabilityChain.parse(buffer, firstOffset: info.cap_offset) : (ranges: [], dmaAvailable: nil, migration: false)
        return Type1Info(
            flags: info.flags, pageSizes: info.iova_pgsizes, ranges: chain.ranges,
            dmaAvailable: chain.dmaAvailable, migration: chain.migration)
    }

    public func mapDMA(_ container: Int32, vaddr: UInt64, iova: UInt64, size: UInt64) throws(Errno) {
        var map = vp_vfio_iommu_type1_dma_map(
            argsz: UInt32(MemoryLayout<vp_vfio_iommu_type1_dma_map>.size),
            flags: 0x1 | 0x2, vaddr: vaddr, iova: iova, size: size)
        _ = try ioctl(container, VP_VFIO_IOMMU_MAP_DMA, &map)
    }

    public func unmapDMA(_ container: Int32, iova: UInt64, size: UInt64) throws(Errno) -> UInt64 {
        var unmap = vp_vfio_iommu_type1_dma_unmap(
            argsz: UInt32(MemoryLayout<vp_vfio_iommu_type1_dma_unmap>.size),
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
        try retryingEINTR {
            name.withCString { Glibc.ioctl(group, UInt(VP_VFIO_GROUP_GET_DEVICE_FD), UnsafeMutableRawPointer(mutating: $0)) }
        }.get()
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

    public func hotResetInfo(_ device: Int32) throws(Errno) -> HotResetDomain {
        // vfio_pci_ioctl_get_pci_hot_reset_info: with too small an argsz the kernel answers
        // ENOSPC and writes the count it needs into the header; ask again with room for it.
        let header = MemoryLayout<vp_vfio_pci_hot_reset_info>.size
        let entry = MemoryLayout<vp_vfio_pci_dependent_device>.size
        var room = 8
        for _ in 0..<4 {
            var buffer = [UInt8](repeating: 0, count: header + room * entry)
            let argsz = UInt32(buffer.count)
            buffer.withUnsafeMutableBytes { $0.storeBytes(of: argsz, toByteOffset: 0, as: UInt32.self) }
            let r = retryingEINTR {
                buffer.withUnsafeMutableBytes { Glibc.ioctl(device, UInt(VP_VFIO_DEVICE_GET_PCI_HOT_RESET_INFO), $0.baseAddress!) }
            }
            let info = buffer.withUnsafeBytes { $0.loadUnaligned(as: vp_vfio_pci_hot_reset_info.self) }
            if case .failure(.noSpace) = r, Int(info.count) > room {
                room = min(Int(info.count), 4096)
                continue
            }
            _ = try r.get()
            let n = min(Int(info.count), room)
            let members = (0..<n).map { i in
                let d = buffer.withUnsafeBytes {
                    $0.loadUnaligned(fromByteOffset: header + i * entry, as: vp_vfio_pci_dependent_device.self)
                }
                return HotResetDomain.Member(
                    address: PCIAddress(domain: UInt32(d.segment), bus: d.bus, device: d.devfn >> 3, function: d.devfn & 7), id: d.id)
            }
            return HotResetDomain(flags: info.flags, members: members)
        }
        throw Errno.noSpace
    }

    public func pread(_ fd: Int32, count: Int, offset: UInt64) throws(Errno) -> [UInt8] {
        var buf = [UInt8](repeating: 0, count: count)
        let n = try retryingEINTR {
            buf.withUnsafeMutableBytes { Glibc.pread(fd, $0.baseAddress, count, off_t(Int64(bitPattern: offset))) }
        }.get()
        return Array(buf[0..<n])
    }

    public func bindIOMMUFD(_ device: Int32, iommufd: Int32) throws(Errno) -> UInt32 {
        var bind = vp_vfio_device_bind_iommufd(
            argsz: UInt32(MemoryLayout<vp_vfio_device_bind_iommufd>.size),
            flags: 0, iommufd: iommufd, out_devid: 0)
        _ = try ioctl(device, VP_VFIO_DEVICE_BIND_IOMMUFD, &bind)
        return bind.out_devid
    }

    public func attachIOMMUFDPT(_ device: Int32, ptID: UInt32) throws(Errno) {
        var attach = vp_vfio_device_attach_iommufd_pt(
            argsz: UInt32(MemoryLayout<vp_vfio_device_attach_iommufd_pt>.size),
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
            let r = ranges.withUnsafeMutableBufferPointer { buf in
                q.allowed_iovas = UInt64(UInt(bitPattern: buf.baseAddress))
                return retryingEINTR { withUnsafeMutablePointer(to: &q) { Glibc.ioctl(iommufd, UInt(VP_IOMMU_IOAS_IOVA_RANGES), $0) } }
            }
            if case .failure(.messageTooLong) = r, Int(q.num_iovas) > capacity {
                capacity = min(Int(q.num_iovas), 4096)
                continue
            }
            _ = try r.get()
            let n = min(Int(q.num_iovas), capacity)
            return (ranges[0..<n].map { IOVARange(start: $0.start, last: $0.last) }, q.out_iova_alignment)
        }
        throw Errno.messageTooLong
    }

    public func ioasMap(_ iommufd: Int32, ioas: UInt32, vaddr: UInt64, iova: UInt64, length: UInt64) throws(Errno) {
        // FIXED_IOVA | WRITEABLE | READABLE (iommufd's own flags, not VFIO's).
        var map = vp_iommu_ioas_map(
            size: UInt32(MemoryLayout<vp_iommu_ioas_map>.size), flags: 0x1 | 0x2 | 0x4,
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
        _ = try withUnsafeMutablePointer(to: &vtd) { p in
            info.data_uptr = UInt64(UInt(bitPattern: p))
            return retryingEINTR { withUnsafeMutablePointer(to: &info) { Glibc.ioctl(iommufd, UInt(VP_IOMMU_GET_HW_INFO), $0) } }
        }.get()
        let isVTd = info.out_data_type == 1
        return HWInfo(
            type: info.out_data_type, intelCap: isVTd ? vtd.cap_reg : nil, intelEcap: isVTd ? vtd.ecap_reg : nil,
            maxPASIDLog2: info.out_max_pasid_log2)
    }

    public func destroy(_ iommufd: Int32, id: UInt32) throws(Errno) {
        var d = vp_iommu_destroy(size: UInt32(MemoryLayout<vp_iommu_destroy>.size), id: id)
        _ = try ioctl(iommufd, VP_IOMMU_DESTROY, &d)
    }

    public func mapBuffer(length: Int) throws(Errno) -> UInt64 {
        // Populated (MAP_POPULATE), so pinning it charges RLIMIT_MEMLOCK for real.
        let p = Glibc.mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0)
        guard let p, p != UnsafeMutableRawPointer(bitPattern: -1) else { throw Errno(rawValue: errno) }  // MAP_FAILED
        return UInt64(UInt(bitPattern: p))
    }

    public func unmapBuffer(address: UInt64, length: Int) {
        _ = Glibc.munmap(UnsafeMutableRawPointer(bitPattern: UInt(address)), length)
    }
}
