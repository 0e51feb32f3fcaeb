/// What a check sees: the host snapshot (and, once the live half has run, its results).
public struct CheckContext: Sendable {
    public var host: Host
    /// What the kernel answered to the live ioctl walks; nil when they did not run.
    public var live: LiveReport?
    /// Risks the user accepted on the command line (`--accept-acs-override`).
    public var accepted: Set<Acceptance>
    public init(host: Host, live: LiveReport? = nil, accepted: Set<Acceptance> = []) {
        self.host = host
        self.live = live
        self.accepted = accepted
    }
}

/// A risk the user may accept, turning what would block a mode into a warning.
public enum Acceptance: String, Sendable, Hashable, CaseIterable {
    /// `--accept-acs-override`: groups `pcie_acs_override=` split are taken as they are.
    case acsOverride = "acs-override"
    /// The command-line flag that accepts it.
    public var flag: String { "--accept-\(rawValue)" }
}
