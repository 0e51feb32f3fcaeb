import Live
import ProbeCore
import SystemPackage

/// A scripted stand-in for the kernel: every VFIOKernel call succeeds with plausible answers
/// unless `failures` names it, and every fd, buffer and mapping is tracked so a test can assert
/// that the walk left nothing behind.
final class ScriptedKernel: VFIOKernel {
    /// Step → errno: the walk's own step ids (`.open(.group(10))`, `.setIOMMU(.type1v2)`, …).
    var failures: [LiveStepID: Errno] = [:]
    var groupFlags: UInt32 = 0x1
    var extensions: [UInt32: Int32] = [1: 1, 3: 1, 8: 0]
    var type1 = Type1Info(
        flags: 3, pageSizes: 0x40201000, ranges: [IOVARange(start: 0, last: 0xfedfffff), IOVARange(start: 0xfef00000, last: 0xffffffffff)],
        dmaAvailable: 65535, migration: false)
    var ioasRanges: [IOVARange] = [IOVARange(start: 0, last: 0xfedfffff), IOVARange(start: 0xfef00000, last: 0xffffffffffff)]
    var config: [UInt8] = [0x86, 0x80, 0x72, 0x15]
    var hw = HWInfo(type: 1, intelCap: 0xd2008c40660462 | (47 << 16), intelEcap: 0xf0205ef)
    var unmapShortBy: UInt64 = 0

    /// What the walk called, in order.
    enum Call: Equatable {
        case step(LiveStepID)
        /// close(2) of a node's path or of "device NAME".
        case close(String)
        case munmap
    }
    private(set) var calls: [Call] = []
    private(set) var openFDs: [Int32: String] = [:]
    private(set) var buffers: Set<UInt64> = []
    /// Live DMA mappings by container or iommufd fd.
    private(set) var mappings: [Int32: Set<UInt64>] = [:]
    private(set) var doubleCloses = 0
    private var nextFD: Int32 = 10
    private var nextBuffer: UInt64 = 0x7f00_0000_0000

    private func call(_ id: LiveStepID) throws(Errno) {
        calls.append(.step(id))
        if let e = failures[id] { throw e }
    }

    func open(_ node: VFIONode) throws(Errno) -> Int32 {
        try call(.open(node))
        nextFD += 1
        openFDs[nextFD] = node.path
        return nextFD
    }

    func close(_ fd: Int32) {
        calls.append(.close(openFDs[fd] ?? "?"))
        if openFDs.removeValue(forKey: fd) == nil { doubleCloses += 1 }
        mappings[fd] = nil  // closing a container or an iommufd drops its mappings
        lockedPages[fd] = nil
    }

    func getAPIVersion(_ container: Int32) throws(Errno) -> Int32 { try call(.getAPIVersion); return 0 }
    /// Extensions whose VFIO_CHECK_EXTENSION answers an errno (iommufd's emulation: DMA_CC, ENODEV).
    var extensionErrors: [UInt32: Errno] = [:]
    func checkExtension(_ container: Int32, _ ext: UInt32) throws(Errno) -> Int32 {
        try call(.checkExtension)
        if let e = extensionErrors[ext] { throw e }
        return extensions[ext] ?? 0
    }
    func setIOMMU(_ container: Int32, _ type: UInt32) throws(Errno) { try call(.setIOMMU(VFIOExtension(rawValue: type)!)) }
    func iommuInfo(_ container: Int32) throws(Errno) -> Type1Info { try call(.iommuGetInfo); return type1 }
    /// type1's dma_entry_limit: VFIO_IOMMU_MAP_DMA answers ENOSPC once a container holds this many
    /// mappings (vfio_dma_do_map: `if (!iommu->dma_avail) return -ENOSPC`).
    var dmaEntryLimit: Int?
    /// RLIMIT_MEMLOCK in pages: a map that would charge past it answers ENOMEM (vfio_lock_acct,
    /// incr_user_locked_vm), on either backend.
    var memlockPages: Int?
    private var lockedPages: [Int32: Int] = [:]

    private func charge(_ fd: Int32, _ size: UInt64) throws(Errno) {
        let pages = Int((size + 4095) / 4096)
        if let limit = memlockPages, lockedPages[fd, default: 0] + pages > limit { throw .noMemory }
        lockedPages[fd, default: 0] += pages
    }

    func mapDMA(_ container: Int32, vaddr: UInt64, iova: UInt64, size: UInt64) throws(Errno) {
        try call(.iommuMapDMA)
        precondition(buffers.contains(vaddr), "mapping a buffer that is not mapped")
        if let limit = dmaEntryLimit, (mappings[container]?.count ?? 0) >= limit { throw .noSpace }
        try charge(container, size)
        mappings[container, default: []].insert(iova)
    }
    func unmapDMA(_ container: Int32, iova: UInt64, size: UInt64) throws(Errno) -> UInt64 {
        try call(.iommuUnmapDMA)
        unmap(container, iova: iova, size: size)
        return size - unmapShortBy
    }
    /// Removes every mapping that starts inside [iova, iova + size), as an unmap of a range does.
    private func unmap(_ fd: Int32, iova: UInt64, size: UInt64) {
        let gone = mappings[fd]?.filter { $0 >= iova && $0 < iova + size } ?? []
        mappings[fd]?.subtract(gone)
        lockedPages[fd] = max(0, (lockedPages[fd] ?? 0) - Int(size / 4096))
    }
    func groupStatus(_ group: Int32) throws(Errno) -> UInt32 { try call(.groupGetStatus); return groupFlags }
    func groupSetContainer(_ group: Int32, container: Int32) throws(Errno) { try call(.groupSetContainer) }
    /// The names VFIO has devices for (nil: every name). Another name answers ENODEV, as
    /// vfio_group_get_device_fd does for a function not bound to a VFIO driver.
    var vfioDevices: Set<String>?

    func groupDeviceFD(_ group: Int32, name: String) throws(Errno) -> Int32 {
        try call(.groupGetDeviceFD)
        if let known = vfioDevices, !known.contains(name) { throw .operationNotSupportedByDevice }
        nextFD += 1
        openFDs[nextFD] = "device \(name)"
        return nextFD
    }
    func deviceInfo(_ device: Int32) throws(Errno) -> DeviceInfo {
        try call(.deviceGetInfo); return DeviceInfo(flags: 0x3, numRegions: 9, numIRQs: 5)
    }
    func regionInfo(_ device: Int32, index: UInt32) throws(Errno) -> RegionInfo {
        try call(.deviceGetRegionInfo(VFIOPCIRegion(rawValue: index)!))
        return RegionInfo(flags: 3, size: 4096, offset: UInt64(index) << 40)
    }
    /// IRQ indexes the scripted device does not implement (EINVAL, as mtty answers for MSI-X).
    var unsupportedIRQs: Set<UInt32> = []

    func irqInfo(_ device: Int32, index: UInt32) throws(Errno) -> IRQInfo {
        try call(.deviceGetIRQInfo)
        if unsupportedIRQs.contains(index) { throw .invalidArgument }
        return IRQInfo(flags: 1, count: [1, 1, 64][Int(index)])
    }
    /// The reset domain VFIO_DEVICE_GET_PCI_HOT_RESET_INFO answers: each function and its group.
    /// On a cdev fd the kernel gives device ids instead: the opened function's (1, as bound), and
    /// VFIO_PCI_DEVID_NOT_OWNED for the others (vfio_pci_fill_devs).
    var hotResetMembers: [(address: String, group: UInt32)] = [("0000:01:00.0", 10), ("0000:01:00.1", 11)]
    func hotResetInfo(_ device: Int32) throws(Errno) -> HotResetDomain {
        try call(.deviceGetPCIHotResetInfo)
        let cdev = openFDs[device]?.hasPrefix("/dev/vfio/devices/") == true
        let members = hotResetMembers.enumerated().map { i, m in
            HotResetDomain.Member(address: PCIAddress(m.address)!, id: cdev ? (i == 0 ? 1 : HotResetDomain.devIDNotOwned) : m.group)
        }
        let owned = !members.contains { $0.id == HotResetDomain.devIDNotOwned }
        return HotResetDomain(flags: cdev ? HotResetDomain.flagDevID | (owned ? HotResetDomain.flagDevIDOwned : 0) : 0, members: members)
    }
    func pread(_ fd: Int32, count: Int, offset: UInt64) throws(Errno) -> [UInt8] {
        try call(.preadConfigSpace)
        precondition(offset == 7 << 40, "config space is region 7")
        return Array(config.prefix(count))
    }
    func bindIOMMUFD(_ device: Int32, iommufd: Int32) throws(Errno) -> UInt32 { try call(.deviceBindIOMMUFD); return 1 }
    func attachIOMMUFDPT(_ device: Int32, ptID: UInt32) throws(Errno) { try call(.deviceAttachIOMMUFDPT) }
    func ioasAlloc(_ iommufd: Int32) throws(Errno) -> UInt32 { try call(.ioasAlloc); return 2 }
    func ioasIOVARanges(_ iommufd: Int32, ioas: UInt32) throws(Errno) -> (ranges: [IOVARange], alignment: UInt64) {
        try call(.ioasIOVARanges)
        return (ioasRanges, 4096)
    }
    func ioasMap(_ iommufd: Int32, ioas: UInt32, vaddr: UInt64, iova: UInt64, length: UInt64) throws(Errno) {
        try call(.ioasMap)
        try charge(iommufd, length)
        mappings[iommufd, default: []].insert(iova)
    }
    func ioasUnmap(_ iommufd: Int32, ioas: UInt32, iova: UInt64, length: UInt64) throws(Errno) -> UInt64 {
        try call(.ioasUnmap)
        unmap(iommufd, iova: iova, size: length)
        return length
    }
    func hwInfo(_ iommufd: Int32, devID: UInt32) throws(Errno) -> HWInfo { try call(.getHWInfo); return hw }
    func destroy(_ iommufd: Int32, id: UInt32) throws(Errno) {
        try call(.destroy)
        precondition(!openFDs.values.contains { $0.hasPrefix("/dev/vfio/devices/") }, "IOAS destroyed while a device is attached")
    }
    func mapBuffer(length: Int) throws(Errno) -> UInt64 {
        try call(.mmapDMABuffer)
        nextBuffer += 0x100000
        buffers.insert(nextBuffer)
        return nextBuffer
    }
    func unmapBuffer(address: UInt64, length: Int) {
        calls.append(.munmap)
        buffers.remove(address)
    }

    /// Nothing left open, pinned or mapped, and nothing closed twice.
    var leftNothingBehind: Bool {
        openFDs.isEmpty && buffers.isEmpty && mappings.values.allSatisfy(\.isEmpty) && doubleCloses == 0
    }
}
