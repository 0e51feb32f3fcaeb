/// What a finding does to a mode, for the subject it is about.
public struct Impact: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable {
        /// The mode cannot work; `actions` (if any) fix it, but not at run time (reboot, firmware,
        /// another kernel).
        case blocks
        /// The mode works once `actions` are done, without a reboot.
        case requires
        /// A fact that decides the mode could not be read: the mode can be neither granted nor
        /// denied; `actions` say how to let the probe see it.
        case undecided
    }
    public var mode: Mode
    public var kind: Kind
    /// Whether a live walk that opened the device can prove the mode despite this impact. False
    /// for what the ioctls cannot observe: interrupt isolation, a virtio device bypassing the IOMMU.
    public var liveCanLift: Bool
    /// Why, in one line.
    public var reason: String
    /// The exact commands or settings that lift it.
    public var actions: [String]

    public init(mode: Mode, kind: Kind, reason: String, actions: [String], liveCanLift: Bool = true) {
        self.mode = mode
        self.kind = kind
        self.liveCanLift = liveCanLift
        self.reason = reason
        self.actions = actions
    }

    public static func blocks(_ mode: Mode, _ reason: String, fix: [String] = [], liveCanLift: Bool = true) -> Impact {
        Impact(mode: mode, kind: .blocks, reason: reason, actions: fix, liveCanLift: liveCanLift)
    }
    public static func requires(_ mode: Mode, _ reason: String, _ actions: [String], liveCanLift: Bool = true) -> Impact {
        Impact(mode: mode, kind: .requires, reason: reason, actions: actions, liveCanLift: liveCanLift)
    }
    public static func undecided(_ mode: Mode, _ reason: String, _ howToSee: [String] = [], liveCanLift: Bool = true) -> Impact {
        Impact(mode: mode, kind: .undecided, reason: reason, actions: howToSee, liveCanLift: liveCanLift)
    }

    /// The same impact on each of `modes` (the IOMMU-backed pair, or every usable mode).
    public static func blocks(_ modes: [Mode], _ reason: String, fix: [String] = [], liveCanLift: Bool = true) -> [Impact] {
        modes.map { Impact(mode: $0, kind: .blocks, reason: reason, actions: fix, liveCanLift: liveCanLift) }
    }
    public static func requires(_ modes: [Mode], _ reason: String, _ actions: [String], liveCanLift: Bool = true) -> [Impact] {
        modes.map { Impact(mode: $0, kind: .requires, reason: reason, actions: actions, liveCanLift: liveCanLift) }
    }
    public static func undecided(_ modes: [Mode], _ reason: String, _ howToSee: [String] = [], liveCanLift: Bool = true) -> [Impact] {
        modes.map { Impact(mode: $0, kind: .undecided, reason: reason, actions: howToSee, liveCanLift: liveCanLift) }
    }
}
