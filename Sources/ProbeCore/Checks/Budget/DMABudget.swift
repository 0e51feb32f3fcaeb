/// What bounds the DMA memory one process can map through the IOMMU, at one page size: each
/// limit the kernel enforces, as the bytes it allows. A pure function of the host, the live walks
/// and the page size.
public struct DMABudget: Sendable {
    public enum Limit: Sendable, Equatable {
        /// RLIMIT_MEMLOCK without CAP_IPC_LOCK: type1 charges the process (vfio_lock_acct), iommufd
        /// the process (emulated container) or the user (cdev path; incr_user_locked_vm).
        case memlock(UInt64)
        /// vfio_iommu_type1's mappings per container (dma_entry_limit, or what VFIO_IOMMU_GET_INFO's
        /// DMA_AVAIL capability says is left), each one page of the workload.
        case entries(Int, live: Bool)
        /// The IOVA space: the ranges the live walk was given, or 2^MGAW of the narrowest VT-d unit.
        case iovaSpace(UInt64, live: Bool)
        /// Free persistent hugepages of the page size (host-wide).
        case hugepages(Int)
    }
    public struct Bound: Sendable, Equatable {
        public var limit: Limit
        /// The DMA memory it allows, in bytes.
        public var bytes: UInt64
    }

    public var pageSize: UInt64
    public var bounds: [Bound]
    /// The tightest bound: what the host allows today (nil: nothing bounds it).
    public var maximum: Bound? { bounds.min { $0.bytes < $1.bytes } }
    /// The bounds `memory` exceeds.
    public func exceeded(by memory: UInt64) -> [Bound] { bounds.filter { $0.bytes < memory } }

    /// The budget of a process on `host` mapping in pages of `pageSize`. `iommu` false (no-IOMMU
    /// mode) leaves only the hugepages: vfio_noiommu_ops maps and pins nothing.
    public static func of(_ host: Host, live: LiveReport?, pageSize: UInt64, iommu: Bool = true) -> DMABudget {
        var bounds: [Bound] = []
        if iommu {
            let p = host.process
            if p.has(ProcessFacts.capIPCLock) != true, case .value(let limit?) = p.memlockLimit {
                bounds.append(Bound(limit: .memlock(limit), bytes: limit))
            }
            if let entries = entryLimit(host, live: live) {
                bounds.append(Bound(limit: .entries(entries.count, live: entries.live), bytes: saturating(UInt64(entries.count), pageSize)))
            }
            if let space = iovaSpace(host, live: live) {
                bounds.append(Bound(limit: .iovaSpace(space.bytes, live: space.live), bytes: space.bytes))
            }
        }
        if pageSize > Memory.basePage {
            let free = host.memory.pool(pageSize)?.available ?? 0
            bounds.append(Bound(limit: .hugepages(free), bytes: saturating(UInt64(free), pageSize)))
        }
        return DMABudget(pageSize: pageSize, bounds: bounds)
    }

    /// type1's per-container mapping limit, when type1 serves the container: DMA_AVAIL from a
    /// live walk's VFIO_IOMMU_GET_INFO (vfio_iommu_dma_avail_build_caps), else the parameter.
    /// iommufd (emulated container or cdev) counts no mappings.
    static func entryLimit(_ host: Host, live: LiveReport?) -> (count: Int, live: Bool)? {
        guard host.containerBackend == .type1 else { return nil }
        let avail = (live.map { Array($0.devices.values.joined()) } ?? []).filter { $0.kind == .type1 }.compactMap(\.facts.dmaAvailable)
            .min()
        if let avail { return (Int(avail), true) }
        guard let v = host.modules.parameter("vfio_iommu_type1", "dma_entry_limit").value, let n = Int(v), n >= 0 else { return nil }
        return (n, false)
    }

    /// The IOVA space a mapping can use: the sum of the ranges a live walk was given
    /// (VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE, IOMMU_IOAS_IOVA_RANGES: the unit's aperture less the
    /// reserved regions), else 2^MGAW of the narrowest VT-d unit.
    static func iovaSpace(_ host: Host, live: LiveReport?) -> (bytes: UInt64, live: Bool)? {
        let walks = (live.map { Array($0.devices.values.joined()) } ?? []).filter { $0.kind != .noiommu && !$0.facts.iovaRanges.isEmpty }
        if let smallest = walks.map({ $0.facts.iovaRanges.reduce(UInt64(0)) { saturatingAdd($0, $1.size) } }).min() {
            return (smallest, true)
        }
        guard let width = host.units.compactMap(\.addressWidth).min() else { return nil }
        return (width >= 64 ? .max : 1 << UInt64(width), false)
    }

    /// ⌈bytes / page⌉ as a count, without overflow (a size near 2^64 is a hostile or mistaken input).
    public static func pages(_ bytes: UInt64, of page: UInt64) -> Int {
        let n = bytes / page + (bytes % page == 0 ? 0 : 1)
        return n > UInt64(Int.max) ? Int.max : Int(n)
    }

    static func saturating(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let (r, o) = a.multipliedReportingOverflow(by: b)
        return o ? .max : r
    }
    static func saturatingAdd(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let (r, o) = a.addingReportingOverflow(b)
        return o ? .max : r
    }
}

extension DMABudget.Bound {
    /// "dma_entry_limit 65535 × 4 KiB", "locked memory 64 MiB", "39-bit IOVA space".
    public func description(pageSize: UInt64) -> String {
        switch limit {
        case .memlock(let n): "locked memory \(ByteCount.text(n)) (RLIMIT_MEMLOCK)"
        case .entries(let n, let live):
            "\(live ? "\(n) type1 mappings left (VFIO_IOMMU_GET_INFO DMA_AVAIL)" : "dma_entry_limit \(n)") × \(ByteCount.text(pageSize))"
        case .iovaSpace(let n, let live): "\(live ? "the IOVA ranges the kernel gave" : "the IOMMU's address width"), \(ByteCount.text(n))"
        case .hugepages(let n): "\(n) free \(ByteCount.text(pageSize)) hugepages"
        }
    }
}
