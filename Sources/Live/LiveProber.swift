import ProbeCore
import SystemPackage

/// Walks the ioctl paths a userspace driver walks — legacy container + type1, no-IOMMU, iommufd +
/// cdev — for every selected device whose group node exists, and records every step.
///
/// Read-only toward the host: no bind or unbind, no driver_override, no module loading, no
/// VFIO_DEVICE_RESET, no sysfs writes; every fd is closed and every mapping removed on every path.
/// Opening a vfio-pci device fd can make the kernel reset the function (vfio_pci_core_enable);
/// `deviceOpen: false` stops each walk before that.
public struct LiveProber {
    let kernel: any VFIOKernel
    let fs: HostFS
    public var deviceOpen: Bool
    /// Bytes mapped for the DMA trial: small, so it fits any memlock limit worth having.
    public var bufferLength = 4 * 4096
    /// The separate mappings the stated workload makes (`--memory` / page size): when set, each
    /// IOMMU-backed walk also runs the capacity trial (MapTrial), up to `mapTrialLimit` of them.
    public var workloadMappings: Int?
    /// The trial's bound: 1024 mappings of one 4 KiB page charge 4 MiB against RLIMIT_MEMLOCK, pin
    /// one page, and take a few milliseconds.
    public static let mapTrialLimit = 1024

    public init(kernel: any VFIOKernel, fs: HostFS, deviceOpen: Bool = true, workloadMappings: Int? = nil) {
        self.kernel = kernel
        self.fs = fs
        self.deviceOpen = deviceOpen
        self.workloadMappings = workloadMappings
    }

    public func run(host: Host) -> LiveReport {
        var report = LiveReport(container: containerWalk(), deviceOpen: deviceOpen)
        for d in host.selectedDevices {
            guard let g = host.group(of: d) else { continue }
            guard host.devNodes.groups[g.nodeName] != nil else { continue }
            var walks: [LiveWalk] = []
            if g.isNoIOMMU {
                walks.append(noIOMMUWalk(Target(d), node: VFIONode(g)))
            } else {
                walks.append(type1Walk(Target(d), node: VFIONode(g)))
                if let v = d.vfioDevice, host.devNodes.cdevs[v] != nil, host.devNodes.iommufd.value != nil {
                    walks.append(iommufdWalk(d, cdev: .cdev(v)))
                }
            }
            report.devices[d.address] = walks
        }
        // mdev instances (whole-host runs): each has its own group, opened by its UUID.
        if host.scope == .all {
            for m in host.mdevs.value ?? [] {
                guard let g = m.iommuGroup, host.devNodes.groups["\(g)"] != nil else { continue }
                report.mdevs[m.uuid] = [type1Walk(Target(name: m.uuid, expected: nil), node: .group(g))]
            }
        }
        return report
    }

    /// What a walk opens: the name VFIO_GROUP_GET_DEVICE_FD takes (a PCI address, an mdev UUID)
    /// and, for PCI functions, the vendor and device ids config space must show.
    struct Target {
        var name: String
        var expected: (vendor: UInt16, device: UInt16)?
        init(name: String, expected: (vendor: UInt16, device: UInt16)?) {
            self.name = name
            self.expected = expected
        }
        init(_ d: PCIDevice) { self.init(name: d.address.description, expected: (d.vendorID, d.deviceID)) }
    }

    // MARK: walks

    func containerWalk() -> LiveWalk {
        var w = Recorder(.container)
        let (container, _) = openContainer(&w)
        container?.handle.close()
        return w.walk
    }

    func type1Walk(_ d: Target, node: VFIONode) -> LiveWalk {
        var w = Recorder(.type1)
        var container: VFIOContainer?
        var group: VFIOGroup?
        var device: VFIODevice?
        var buffer: DMABuffer?
        defer {
            device?.handle.close()
            group?.handle.close()
            container?.handle.close()
            buffer?.release()
        }
        let opened = openContainer(&w)
        container = opened.container
        var type: VFIOExtension?
        if let ext = opened.extensions {
            type = ext[.type1v2] == true ? .type1v2 : ext[.type1] == true ? .type1 : nil
            if type == nil { w.reject("the container offers neither TYPE1v2 nor TYPE1") }
        }
        group = openGroup(&w, node)
        groupStatus(&w, group)
        w.step(.groupSetContainer) { () throws(Errno) in try group!.setContainer(container!) }
        w.step(.setIOMMU(type ?? .type1v2)) { () throws(Errno) in try container!.setIOMMU(type!) }
        w.walk.facts.iommuType = type?.name
        let info = w.step(
            .iommuGetInfo,
            detail: { i in
                "page sizes 0x\(hex(i.pageSizes, 1)), IOVA ranges \(i.ranges.map(\.description).joined(separator: " "))"
                    + (i.dmaAvailable.map { ", \($0) DMA mappings available" } ?? "")
            }
        ) { () throws(Errno) in try container!.info() }
        if let info {
            w.walk.facts.iovaPageSizes = info.pageSizes
            w.walk.facts.iovaRanges = info.ranges
            w.walk.facts.dmaAvailable = info.dmaAvailable
            w.walk.facts.migration = info.migration
        }
        buffer = w.step(.mmapDMABuffer, detail: { "\($0.length) bytes at 0x\(hex($0.address, 1))" }) { () throws(Errno) in
            try DMABuffer(kernel: kernel, length: bufferLength)
        }
        var iova: UInt64?
        if let info {
            let page = info.pageSizes == 0 ? 4096 : max(UInt64(4096), info.pageSizes & (~info.pageSizes &+ 1))
            iova = Self.chooseIOVA(
                info.ranges.isEmpty ? [IOVARange(start: 0, last: (1 << 39) - 1)] : info.ranges,
                length: UInt64(bufferLength), alignment: page)
            if iova == nil { w.reject("no IOVA range can hold a \(bufferLength)-byte mapping") }
        }
        dmaTrial(
            &w, map: .iommuMapDMA, unmap: .iommuUnmapDMA, iova: iova,
            { () throws(Errno) in try container!.map(buffer!, iova: iova!) },
            { () throws(Errno) in try container!.unmap(iova: iova!, size: UInt64(bufferLength)) })
        if let info {
            capacityTrial(
                &w, info.ranges.isEmpty ? [IOVARange(start: 0, last: (1 << 39) - 1)] : info.ranges, alignment: 4096,
                map: { (iova: UInt64) throws(Errno) in try container!.map(buffer!, iova: iova, length: 4096) },
                unmap: { (iova: UInt64, size: UInt64) throws(Errno) in try container!.unmap(iova: iova, size: size) })
        }
        device = deviceSteps(&w, d, group: group)
        return w.walk
    }

    func noIOMMUWalk(_ d: Target, node: VFIONode) -> LiveWalk {
        var w = Recorder(.noiommu)
        var container: VFIOContainer?
        var group: VFIOGroup?
        var device: VFIODevice?
        defer {
            device?.handle.close()
            group?.handle.close()
            container?.handle.close()
        }
        let opened = openContainer(&w)
        container = opened.container
        if let ext = opened.extensions, ext[.noIOMMU] != true { w.reject("the container does not offer NOIOMMU (no-IOMMU mode is off)") }
        group = openGroup(&w, node)
        groupStatus(&w, group)
        w.step(.groupSetContainer) { () throws(Errno) in try group!.setContainer(container!) }
        w.step(.setIOMMU(.noIOMMU)) { () throws(Errno) in try container!.setIOMMU(.noIOMMU) }
        w.walk.facts.iommuType = "NOIOMMU"
        device = deviceSteps(&w, d, group: group)
        return w.walk
    }

    func iommufdWalk(_ d: PCIDevice, cdev: VFIONode) -> LiveWalk {
        var w = Recorder(.iommufd)
        var iommufd: IOMMUFD?
        var device: VFIODevice?
        var buffer: DMABuffer?
        defer {
            device?.handle.close()
            iommufd?.handle.close()
            buffer?.release()
        }
        iommufd = w.step(.open(.iommufd)) { () throws(Errno) in try IOMMUFD(kernel: kernel) }
        let ioas = w.step(.ioasAlloc, detail: { "IOAS \($0.id)" }) { () throws(Errno) in try iommufd!.allocateIOAS() }
        w.walk.facts.ioasID = ioas?.id
        if !deviceOpen { w.skipRest("--no-device-open") }
        device = w.step(.open(cdev)) { () throws(Errno) in try VFIODevice(kernel: kernel, cdev: cdev) }
        if w.lastFailed(with: .resourceBusy) { w.walk.facts.holders = Holders.of(cdev.path, fs: fs) }
        let devID = w.step(.deviceBindIOMMUFD, detail: { "device id \($0)" }) { () throws(Errno) in try device!.bind(iommufd!) }
        w.walk.facts.devID = devID
        w.step(.deviceAttachIOMMUFDPT, detail: { _ in "attached to IOAS \(ioas!.id)" }) { () throws(Errno) in try device!.attach(ioas!) }
        let ranges = w.step(
            .ioasIOVARanges,
            detail: { r in
                "IOVA ranges \(r.ranges.map(\.description).joined(separator: " ")), alignment 0x\(hex(r.alignment, 1))"
            }
        ) { () throws(Errno) in try ioas!.ranges() }
        if let ranges {
            w.walk.facts.iovaRanges = ranges.ranges
            w.walk.facts.iovaAlignment = ranges.alignment
        }
        buffer = w.step(.mmapDMABuffer, detail: { "\($0.length) bytes at 0x\(hex($0.address, 1))" }) { () throws(Errno) in
            try DMABuffer(kernel: kernel, length: bufferLength)
        }
        var iova: UInt64?
        if let ranges {
            iova = Self.chooseIOVA(ranges.ranges, length: UInt64(bufferLength), alignment: max(4096, ranges.alignment))
            if iova == nil { w.reject("no IOVA range can hold a \(bufferLength)-byte mapping") }
        }
        dmaTrial(
            &w, map: .ioasMap, unmap: .ioasUnmap, iova: iova,
            { () throws(Errno) in try ioas!.map(buffer!, iova: iova!) },
            { () throws(Errno) in try ioas!.unmap(iova: iova!, length: UInt64(bufferLength)) })
        if let ranges {
            capacityTrial(
                &w, ranges.ranges, alignment: max(4096, ranges.alignment),
                map: { (iova: UInt64) throws(Errno) in try ioas!.map(buffer!, iova: iova, length: 4096) },
                unmap: { (iova: UInt64, size: UInt64) throws(Errno) in try ioas!.unmap(iova: iova, length: size) })
        }
        if let hw = w.step(.getHWInfo, detail: Self.hwText, { () throws(Errno) in try iommufd!.hardwareInfo(devID: devID!) }) {
            w.walk.facts.hwInfoType = hw.type
            w.walk.facts.hwIntelCap = hw.intelCap
            w.walk.facts.hwIntelEcap = hw.intelEcap
            w.walk.facts.hwMaxPASIDLog2 = hw.maxPASIDLog2
        }
        if let info = w.step(
            .deviceGetInfo, detail: { "flags \($0.flagNames), \($0.numRegions) regions, \($0.numIRQs) IRQ indexes" },
            { () throws(Errno) in try device!.info() })
        {
            w.walk.facts.deviceFlags = info.flags
            w.walk.facts.numRegions = info.numRegions
            w.walk.facts.numIRQs = info.numIRQs
        }
        if let device { hotResetInfo(&w, device) } else { w.skip([.deviceGetPCIHotResetInfo]) }
        // The device must let go of the IOAS before it can be destroyed.
        device?.handle.close()
        w.step(.destroy, detail: { _ in "IOAS \(ioas!.id)" }) { () throws(Errno) in try ioas!.destroy() }
        return w.walk
    }

    // MARK: shared steps

    /// Open /dev/vfio/vfio, VFIO_GET_API_VERSION (must be 0), VFIO_CHECK_EXTENSION for every
    /// extension: how every legacy walk begins.
    func openContainer(_ w: inout Recorder) -> (container: VFIOContainer?, extensions: [VFIOExtension: Bool]?) {
        let container = w.step(.open(.container)) { () throws(Errno) in try VFIOContainer(kernel: kernel) }
        let api = w.step(.getAPIVersion, detail: { "API version \($0)" }) { () throws(Errno) in try container!.apiVersion() }
        w.walk.facts.apiVersion = api
        if let api, api != 0 { w.reject("VFIO_API_VERSION is 0; this kernel says \(api)") }
        let ext = w.step(.checkExtension, detail: Self.extensionText, { () throws(Errno) in try container!.extensions() })
        if let ext { w.walk.facts.extensions = Dictionary(uniqueKeysWithValues: ext.map { ($0.key.name, $0.value) }) }
        return (container, ext)
    }

    /// Maps the trial buffer at `iova`, unmaps it, and checks the kernel unmapped all of it.
    func dmaTrial(
        _ w: inout Recorder, map: LiveStepID, unmap: LiveStepID, iova: UInt64?,
        _ doMap: () throws(Errno) -> Void, _ doUnmap: () throws(Errno) -> UInt64
    ) {
        let size = UInt64(bufferLength)
        w.step(map, detail: { _ in "iova 0x\(hex(iova ?? 0, 1)) size 0x\(hex(size, 1))" }, doMap)
        if w.lastSucceeded {
            w.walk.facts.mappedIOVA = iova
            w.walk.facts.mappedSize = size
        }
        if let unmapped = w.step(unmap, detail: { "unmapped 0x\(hex($0, 1))" }, doUnmap) {
            w.walk.facts.unmappedSize = unmapped
            if unmapped != size { w.reject("unmapped 0x\(hex(unmapped, 1)) bytes of 0x\(hex(size, 1))") }
        }
    }

    /// `--memory`'s trial: the workload's mappings (within `mapTrialLimit`), each a separate map of
    /// the buffer's first page at the next IOVA, until the kernel refuses one; then one unmap of
    /// the whole range. The kernel's answer is a fact (MapTrial), not a failed walk: a refusal
    /// here is what the budget check reports.
    func capacityTrial(
        _ w: inout Recorder, _ ranges: [IOVARange], alignment: UInt64,
        map: (UInt64) throws(Errno) -> Void, unmap: (UInt64, UInt64) throws(Errno) -> UInt64
    ) {
        guard let needed = workloadMappings, needed > 0, w.lastSucceeded else { return }
        let asked = min(needed, Self.mapTrialLimit)
        let page: UInt64 = 4096
        guard let base = Self.chooseIOVA(ranges, length: UInt64(asked) * page, alignment: alignment) else {
            w.walk.steps.append(LiveStep(.mapTrial(asked), .skipped, "no IOVA range holds \(asked) pages"))
            return
        }
        var trial = MapTrial(asked: asked, needed: needed, pageSize: page, mapped: 0)
        while trial.mapped < asked {
            do throws(Errno) { try map(base + UInt64(trial.mapped) * page) } catch {
                trial.errno = error.rawValue
                break
            }
            trial.mapped += 1
        }
        if trial.mapped > 0 {
            do throws(Errno) { trial.unmapped = try unmap(base, UInt64(trial.mapped) * page) } catch {}
        } else {
            trial.unmapped = 0
        }
        w.walk.facts.mapTrial = trial
        w.walk.steps.append(LiveStep(.mapTrial(asked), .ok, trial.description))
        // A short unmap leaves mappings until the fd closes: say so, as the trial buffer's own does.
        if trial.unmapped != UInt64(trial.mapped) * page {
            w.reject(
                "the trial's unmap removed \(trial.unmapped.map { "0x\(hex($0, 1))" } ?? "nothing") of 0x\(hex(UInt64(trial.mapped) * page, 1)) bytes"
            )
        }
    }

    func openGroup(_ w: inout Recorder, _ node: VFIONode) -> VFIOGroup? {
        let g = w.step(.open(node)) { () throws(Errno) in try VFIOGroup(kernel: kernel, node: node) }
        if w.lastFailed(with: .resourceBusy) { w.walk.facts.holders = Holders.of(node.path, fs: fs) }
        return g
    }

    func groupStatus(_ w: inout Recorder, _ group: VFIOGroup?) {
        if let flags = w.step(.groupGetStatus, detail: { "flags \($0.description)" }, { () throws(Errno) in try group!.status() }) {
            w.walk.facts.groupFlags = flags.rawValue
            if !flags.contains(.viable) { w.reject("the group is not viable: a member is bound to a driver that does DMA") }
        }
    }

    /// Device fd, info, config space (checked against sysfs) and IRQs.
    func deviceSteps(_ w: inout Recorder, _ d: Target, group: VFIOGroup?) -> VFIODevice? {
        var names: [LiveStepID] = [.groupGetDeviceFD, .deviceGetInfo, .deviceGetRegionInfo(.config), .preadConfigSpace, .deviceGetIRQInfo]
        if d.expected != nil { names.append(.deviceGetPCIHotResetInfo) }
        if !deviceOpen {
            w.skip(names, because: "--no-device-open")
            return nil
        }
        guard let device = w.step(.groupGetDeviceFD, { () throws(Errno) in try group!.device(d.name) }) else {
            w.skip(Array(names.dropFirst()))
            return nil
        }
        if let info = w.step(
            .deviceGetInfo, detail: { "flags \($0.flagNames), \($0.numRegions) regions, \($0.numIRQs) IRQ indexes" },
            { () throws(Errno) in try device.info() })
        {
            w.walk.facts.deviceFlags = info.flags
            w.walk.facts.numRegions = info.numRegions
            w.walk.facts.numIRQs = info.numIRQs
        }
        let region = w.step(.deviceGetRegionInfo(.config), detail: { "size 0x\(hex($0.size, 1)) at offset 0x\(hex($0.offset, 1))" }) {
            () throws(Errno) in
            try device.region(.config)
        }
        w.walk.facts.configRegionSize = region?.size
        if let bytes = w.step(
            .preadConfigSpace,
            detail: { b in
                b.count >= 4
                    ? "vendor \(hex(UInt16(b[0]) | UInt16(b[1]) << 8, 4)) device \(hex(UInt16(b[2]) | UInt16(b[3]) << 8, 4))"
                    : "\(b.count) bytes"
            },
            { () throws(Errno) in
                try device.read(count: 4, at: region!.offset)
            })
        {
            if bytes.count == 4 {
                let v = UInt16(bytes[0]) | UInt16(bytes[1]) << 8
                let dev = UInt16(bytes[2]) | UInt16(bytes[3]) << 8
                w.walk.facts.configVendorID = v
                w.walk.facts.configDeviceID = dev
                if let e = d.expected, v != e.vendor || dev != e.device {
                    w.reject("config space says \(hex(v, 4)):\(hex(dev, 4)), sysfs says \(hex(e.vendor, 4)):\(hex(e.device, 4))")
                }
            } else {
                w.reject("read \(bytes.count) of 4 bytes")
            }
        }
        // One answer per index; an index the driver does not implement (mtty answers EINVAL for
        // MSI-X, vfio-pci a count of 0) is recorded, not a failed walk.
        let n = min(UInt32(VFIODevice.irqNames.count), w.walk.facts.numIRQs ?? 3)
        let irqs = w.step(.deviceGetIRQInfo, detail: { (l: [(String, String)]) in l.map { "\($0.0) \($0.1)" }.joined(separator: ", ") }) {
            () throws(Errno) -> [(String, String)] in
            var out: [(String, String)] = []
            for i in 0..<n {
                let name = VFIODevice.irqNames[Int(i)]
                do throws(Errno) { out.append((name, String(try device.irq(i).count))) } catch {
                    out.append((name, ErrnoName.of(error.rawValue)))
                }
            }
            return out
        }
        for (name, count) in irqs ?? [] { if let c = UInt32(count) { w.walk.facts.irqCounts[name] = c } }
        // PCI functions only: an mdev's parent driver does not implement it.
        if d.expected != nil { hotResetInfo(&w, device) }
        return device
    }

    /// VFIO_DEVICE_GET_PCI_HOT_RESET_INFO on an open device fd: read-only (it resets nothing). Its
    /// answer is a fact, not a test of the path: an errno (ENODEV: no slot or bus reset) is
    /// recorded in the step and the walk goes on.
    func hotResetInfo(_ w: inout Recorder, _ device: VFIODevice) {
        let answer = w.step(
            .deviceGetPCIHotResetInfo,
            detail: { (r: Result<HotResetDomain, Errno>) in
                switch r {
                case .success(let h): "\(h.members.count) in the reset domain\(h.usesDevIDs ? " (device ids)" : ""): \(h.description)"
                case .failure(let e):
                    "\(ErrnoName.of(e.rawValue))\(e == .operationNotSupportedByDevice ? ": no slot or bus reset for this device" : "")"
                }
            }
        ) { () throws(Errno) -> Result<HotResetDomain, Errno> in
            do throws(Errno) { return .success(try device.hotResetInfo()) } catch { return .failure(error) }
        }
        switch answer {
        case .some(.success(let h)): w.walk.facts.hotReset = h
        case .some(.failure(let e)): w.walk.facts.hotResetErrno = e.rawValue
        case .none: break
        }
    }

    // MARK: helpers

    /// The first address at or above 4 GiB (or above zero, for narrow ranges) where `length`
    /// bytes fit inside one range, aligned.
    static func chooseIOVA(_ ranges: [IOVARange], length: UInt64, alignment: UInt64) -> UInt64? {
        let align = max(alignment, 1)
        for floor in [UInt64(1) << 32, align] {
            for r in ranges {
                let start = max(r.start, floor)
                let (rounded, overflow) = start.addingReportingOverflow(align - 1)
                if overflow { continue }
                let base = rounded / align * align
                let (end, o2) = base.addingReportingOverflow(length - 1)
                if !o2, base >= r.start, end <= r.last { return base }
            }
        }
        return nil
    }

    static func extensionText(_ e: [VFIOExtension: Bool]) -> String {
        VFIOExtension.allCases.map { "\($0.name)=\(e[$0] == true ? 1 : 0)" }.joined(separator: " ")
    }

    static func hwText(_ h: HWInfo) -> String {
        hwTypeText(h) + (h.maxPASIDLog2 > 0 ? "; PASID enabled, \(h.maxPASIDLog2) bits (out_max_pasid_log2)" : "")
    }

    static func hwTypeText(_ h: HWInfo) -> String {
        switch h.type {
        case 1:
            let cap = h.intelCap ?? 0
            let ecap = h.intelEcap ?? 0
            return
                "Intel VT-d: cap 0x\(hex(cap, 1)) (MGAW \(((cap >> 16) & 0x3f) + 1) bits\(cap & (1 << 7) != 0 ? ", caching mode" : "")), ecap 0x\(hex(ecap, 1)) (IR \(ecap & (1 << 3) != 0 ? "yes" : "no"))"
        case 2: return "Arm SMMUv3"
        case 0: return "type 0 (no driver-specific data: AMD-Vi, virtio-iommu)"
        default: return "type \(h.type)"
        }
    }
}

/// Records each step of a walk; after a failure, later steps are recorded as skipped.
struct Recorder {
    var walk: LiveWalk
    private var stopped = false

    init(_ kind: LiveWalk.Kind) { walk = LiveWalk(kind: kind) }

    var lastSucceeded: Bool { walk.steps.last?.outcome == .ok }
    func lastFailed(with e: Errno) -> Bool { walk.steps.last?.outcome == .failed(e) }

    @discardableResult
    mutating func step<T>(_ id: LiveStepID, detail: (T) -> String = { _ in "" }, _ body: () throws(Errno) -> T) -> T? {
        if stopped {
            walk.steps.append(LiveStep(id, .skipped))
            return nil
        }
        do {
            let v = try body()
            walk.steps.append(LiveStep(id, .ok, detail(v)))
            return v
        } catch {
            walk.steps.append(LiveStep(id, .failed(error), ErrnoName.of(error.rawValue)))
            stopped = true
            return nil
        }
    }

    /// The last call succeeded but its answer ends the walk.
    mutating func reject(_ why: String) {
        guard !walk.steps.isEmpty else { return }
        walk.steps[walk.steps.count - 1].outcome = .rejected
        walk.steps[walk.steps.count - 1].detail = why
        stopped = true
    }

    mutating func skip(_ ids: [LiveStepID], because why: String = "") {
        for id in ids { walk.steps.append(LiveStep(id, .skipped, why)) }
    }

    /// Every later step is skipped, without counting as a failure.
    mutating func skipRest(_ why: String) {
        stopped = true
        walk.steps.append(LiveStep(.restOfWalk, .skipped, why))
    }
}

/// Who holds a VFIO node open: /proc/PID/fd links, where this user may read them.
enum Holders {
    /// At most this many processes are looked at: the scan only explains an EBUSY.
    static let processLimit = 4096

    /// The processes holding `node` open. A descriptor counts only when it refers to the node's
    /// own device number (a process in another mount namespace can make a link read
    /// "/dev/vfio/12"); the name is read once, after the descriptor is seen again (the pid may
    /// have been reused between the two), and made one printable line.
    static func of(_ node: String, fs: HostFS) -> [String] {
        guard let n = fs.node(node).value, let pids = fs.list("/proc").value else { return [] }
        var out: [String] = []
        for pid in pids.lazy.filter({ Int($0) != nil }).prefix(processLimit) {
            guard let fds = fs.list("/proc/\(pid)/fd").value else { continue }
            func refersToNode(_ fd: String) -> Bool {
                let path = "/proc/\(pid)/fd/\(fd)"
                // A tree (the tests' scripted kernels) has links, not open files, to stand for them.
                guard fs.isHostRoot else { return fs.link(path).value == node }
                guard let dev = fs.characterDevice(behind: path) else { return false }
                return dev.major == n.major && dev.minor == n.minor
            }
            guard let fd = fds.first(where: refersToNode) else { continue }
            let comm = fs.read("/proc/\(pid)/comm", limit: 64).text.value ?? "?"
            guard refersToNode(fd) else { continue }
            out.append("pid \(pid) (\(Escaping.oneLine(comm)))")
        }
        return out
    }
}
