/// What a check sees: the host snapshot (and, once the live half has run, its results).
public struct CheckContext: Sendable {
    public var host: Host
    /// What the kernel answered to the live ioctl walks; nil when they did not run.
    public var live: LiveReport?
    public init(host: Host, live: LiveReport? = nil) {
        self.host = host
        self.live = live
    }
}
