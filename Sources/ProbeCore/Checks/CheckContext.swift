/// What a check sees: the host snapshot (and, once the live half has run, its results).
public struct CheckContext: Sendable {
    public var host: Host
    /// What the kernel answered to the live ioctl walks; nil when they did not run.
    public var live: LiveReport?
    /// Risks the user accepted on the command line (`--accept-acs-override`).
    public var accepted: Set<Acceptance>
    /// What the service will map (`--memory`, `--hugepage-size`); empty when not stated.
    public var workload: Workload
    public init(host: Host, live: LiveReport? = nil, accepted: Set<Acceptance> = [], workload: Workload = Workload()) {
        self.host = host
        self.live = live
        self.accepted = accepted
        self.workload = workload
    }
}

/// The DMA a service will map, as the user states it: the budget checks answer for it.
public struct Workload: Sendable, Equatable {
    /// `--memory`: bytes of DMA memory the service maps.
    public var memory: UInt64?
    /// `--hugepage-size`: the page size it maps them in (nil: the host's default hugepage size when
    /// pages of it are reserved, else 4 KiB pages).
    public var hugepageSize: UInt64?
    public init(memory: UInt64? = nil, hugepageSize: UInt64? = nil) {
        self.memory = memory
        self.hugepageSize = hugepageSize
    }

    /// The page size mappings are made in on `host`, and whether the user chose it.
    public func pageSize(on host: Host) -> (size: UInt64, stated: Bool) {
        // Below the base page a size means nothing to the kernel (and a zero would divide by zero).
        if let hugepageSize, hugepageSize >= Memory.basePage { return (hugepageSize, true) }
        return (host.memory.workloadPageSize, false)
    }

    /// The separate mappings `memory` takes at that page size (a driver that maps page by page).
    public func mappings(on host: Host) -> Int? {
        guard let memory else { return nil }
        let page = pageSize(on: host).size
        let n = memory / page + (memory % page == 0 ? 0 : 1)
        return n > UInt64(Int.max) ? Int.max : Int(n)
    }
}

/// A risk the user may accept, turning what would block a mode into a warning.
public enum Acceptance: String, Sendable, Hashable, CaseIterable {
    /// `--accept-acs-override`: groups `pcie_acs_override=` split are taken as they are.
    case acsOverride = "acs-override"
    /// The command-line flag that accepts it.
    public var flag: String { "--accept-\(rawValue)" }
}
