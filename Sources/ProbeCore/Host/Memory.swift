/// A pool of persistent hugepages of one size: the host's (/sys/kernel/mm/hugepages/hugepages-NkB)
/// or one NUMA node's (/sys/devices/system/node/nodeN/hugepages/hugepages-NkB).
public struct HugePagePool: Sendable, Equatable {
    /// The page size in bytes.
    public var size: UInt64
    /// nr_hugepages: the persistent pages reserved.
    public var total: Int
    /// free_hugepages: not yet faulted into a mapping.
    public var free: Int
    /// resv_hugepages: free pages already promised to a mapping (host pools only; the kernel keeps
    /// no per-node count, hugetlb_reserve_pages).
    public var reserved: Int?

    public init(size: UInt64, total: Int, free: Int, reserved: Int? = nil) {
        self.size = size
        self.total = total
        self.free = free
        self.reserved = reserved
    }

    /// The pages a new mapping can still have: free less those promised (hugetlb's
    /// `h->free_huge_pages - h->resv_huge_pages`).
    public var available: Int { max(0, free - min(free, max(0, reserved ?? 0))) }
    public var availableBytes: UInt64 {
        let (r, o) = UInt64(available).multipliedReportingOverflow(by: size)
        return o ? .max : r
    }

    /// "hugepages-2048kB" → 2 MiB.
    public static func size(ofDirectory name: String) -> UInt64? {
        guard name.hasPrefix("hugepages-"), name.hasSuffix("kB"), let kib = UInt64(name.dropFirst(10).dropLast(2)), kib >= 4,
            kib < 1 << 50
        else { return nil }
        return kib << 10
    }
    public static func directory(ofSize size: UInt64) -> String { "hugepages-\(size >> 10)kB" }
}

/// A NUMA node: its CPUs and its share of each hugepage pool.
public struct NUMANode: Sendable, Equatable {
    public var id: Int
    /// cpulist, e.g. "0-15,32-47".
    public var cpus: String?
    public var hugepages: [HugePagePool]
    public init(id: Int, cpus: String?, hugepages: [HugePagePool]) {
        self.id = id
        self.cpus = cpus
        self.hugepages = hugepages
    }
    public func pool(_ size: UInt64) -> HugePagePool? { hugepages.first { $0.size == size } }
}

/// The memory a userspace driver's DMA comes from: the hugepage pools, host-wide and per node.
public struct Memory: Sendable {
    /// /sys/kernel/mm/hugepages: absent on kernels without CONFIG_HUGETLBFS.
    public var pools: Reading<[HugePagePool]>
    /// /sys/devices/system/node: absent without CONFIG_NUMA.
    public var nodes: Reading<[NUMANode]>
    /// /proc/meminfo's Hugepagesize: the size hugetlbfs mounts (and DPDK) use unless told.
    public var defaultHugepageSize: UInt64?
    /// The end (exclusive) of the highest "System RAM" in /proc/iomem; nil where the addresses
    /// read as zeros (the kernel shows them only to CAP_SYS_ADMIN,
    /// r_show) or the file is missing.
    public var topOfRAM: UInt64?

    public init(
        pools: Reading<[HugePagePool]> = .absent, nodes: Reading<[NUMANode]> = .absent, defaultHugepageSize: UInt64? = nil,
        topOfRAM: UInt64? = nil
    ) {
        self.pools = pools
        self.nodes = nodes
        self.defaultHugepageSize = defaultHugepageSize
        self.topOfRAM = topOfRAM
    }

    /// The highest top-level "System RAM" range's end in /proc/iomem ("100000000-107fffffff : System RAM").
    static func parseTopOfRAM(_ iomem: String) -> UInt64? {
        var top: UInt64 = 0
        for line in iomem.split(separator: "\n") where !line.hasPrefix(" ") && line.hasSuffix(" : System RAM") {
            let range = line.prefix { $0 != " " }.split(separator: "-")
            if range.count == 2, let end = UInt64(range[1], radix: 16), end > top { top = end }
        }
        return top == 0 ? nil : top + 1
    }

    public func pool(_ size: UInt64) -> HugePagePool? { pools.value?.first { $0.size == size } }
    public func node(_ id: Int) -> NUMANode? { nodes.value?.first { $0.id == id } }
    /// More than one node: where a device sits matters.
    public var isMultiNode: Bool { (nodes.value?.count ?? 0) > 1 }

    /// The page size a workload that names none would map at: the default hugepage size when pages
    /// of it are reserved, else the base page.
    public var workloadPageSize: UInt64 {
        if let d = defaultHugepageSize, let p = pool(d), p.total > 0 { return d }
        return Memory.basePage
    }
    public static let basePage: UInt64 = 4096

    /// "Hugepagesize:       2048 kB" in /proc/meminfo.
    static func parseHugepagesize(_ meminfo: String) -> UInt64? {
        for line in meminfo.split(separator: "\n") where line.hasPrefix("Hugepagesize:") {
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            if f.count >= 3, f[2] == "kB", let kib = UInt64(f[1]) { return kib << 10 }
        }
        return nil
    }
}

/// Byte counts as the kernel's documentation writes them: 4 KiB, 2 MiB, 64 GiB.
public enum ByteCount {
    public static func text(_ n: UInt64) -> String {
        for (shift, unit) in [(60, "EiB"), (50, "PiB"), (40, "TiB"), (30, "GiB"), (20, "MiB"), (10, "KiB")] where n >= 1 << shift {
            if n % (1 << shift) == 0 { return "\(n >> shift) \(unit)" }
            // Not a whole number of the unit: one decimal, rounded down, so a limit is never overstated.
            let tenths = n / ((1 << shift) / 10)
            return "\(tenths / 10).\(tenths % 10) \(unit)"
        }
        return "\(n) bytes"
    }

    /// "64G", "64GiB", "512M", "2m", "4096", "1T": binary units (as DPDK's -m and hugepage sizes).
    public static func parse(_ text: String) -> UInt64? {
        var s = Substring(text.trimmed)
        for suffix in ["iB", "ib", "B", "b"] where s.hasSuffix(suffix) && s.count > suffix.count {
            s = s.dropLast(suffix.count)
            break
        }
        let shifts: [Character: UInt64] = ["K": 10, "M": 20, "G": 30, "T": 40, "P": 50, "E": 60]
        var shift: UInt64 = 0
        if let last = s.last?.uppercased().first, let sh = shifts[last] {
            shift = sh
            s = s.dropLast()
        }
        guard !s.isEmpty, s.allSatisfy(\.isASCII), let v = UInt64(s), v > 0 else { return nil }
        let (r, overflow) = v.multipliedReportingOverflow(by: 1 << shift)
        return overflow ? nil : r
    }
}
