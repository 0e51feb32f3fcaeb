/// The modes a userspace driver can use VFIO in, ordered: vfio > unsafe-interrupts > noiommu > none.
public enum Mode: String, Sendable, Codable, Comparable, CaseIterable {
    /// No mode works: VFIO is not usable ("none" in reports).
    case unusable = "none"
    case noiommu
    /// type1 or iommufd with `allow_unsafe_interrupts`: DMA is translated, MSIs are not isolated.
    case unsafeInterrupts = "unsafe-interrupts"
    case vfio

    var rank: Int {
        switch self {
        case .unusable: 0
        case .noiommu: 1
        case .unsafeInterrupts: 2
        case .vfio: 3
        }
    }
    public static func < (a: Mode, b: Mode) -> Bool { a.rank < b.rank }
    /// The modes in which VFIO works, best first.
    public static let usable: [Mode] = [.vfio, .unsafeInterrupts, .noiommu]
    /// The modes that run through an IOMMU (type1 or iommufd): everything that stops the IOMMU path
    /// stops both.
    public static let iommuBacked: [Mode] = [.vfio, .unsafeInterrupts]

    public var title: String {
        switch self {
        case .vfio: "safe VFIO (IOMMU-backed)"
        case .unsafeInterrupts: "VFIO without interrupt isolation (unsafe: allow_unsafe_interrupts, a device can forge MSIs)"
        case .noiommu: "no-IOMMU only (unsafe: no DMA isolation, taints the kernel)"
        case .unusable: "no VFIO"
        }
    }
}

public enum Status: String, Sendable, Codable, CaseIterable {
    case pass, warn, fail, skip, info
}

public enum Category: String, Sendable, Codable, CaseIterable {
    case firmware, iommu, interrupts, kernel, vfio, noiommu, process, platform, device, live, site
    public var title: String {
        switch self {
        case .firmware: "Firmware"
        case .iommu: "IOMMU"
        case .interrupts: "Interrupts"
        case .kernel: "Kernel"
        case .vfio: "VFIO stack"
        case .noiommu: "No-IOMMU mode"
        case .process: "This process"
        case .platform: "Platform"
        case .device: "Devices"
        case .live: "Live proof (ioctls)"
        case .site: "Site checks"
        }
    }
}

/// What a finding is about.
public enum Subject: Hashable, Sendable {
    case host
    case device(PCIAddress)
}

/// A file the probe read and what it saw there: every claim traces back to one.
public struct Evidence: Sendable, Equatable, Codable {
    public var path: String
    public var value: String
    public init(_ path: String, _ value: String) {
        self.path = path
        self.value = value
    }
}

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

/// One result of one check. A value: its fields sit in one immutable box, shared by the copies
/// in the registry's list, the verdict and the reporters, and a write makes a new box.
@dynamicMemberLookup
public struct Finding: Sendable, Equatable {
    public struct Fields: Sendable, Equatable {
        public var checkID: String
        public var status: Status
        public var subject: Subject
        /// One line: what was found.
        public var summary: String
        /// More explanation, when it helps.
        public var detail: String?
        /// What to do; set on every non-pass finding that has a fix.
        public var remedy: String?
        public var evidence: [Evidence]
        public var impacts: [Impact]
    }

    private final class Box: Sendable {
        let fields: Fields
        init(_ fields: Fields) { self.fields = fields }
    }
    private var box: Box

    public subscript<T>(dynamicMember kp: KeyPath<Fields, T>) -> T { box.fields[keyPath: kp] }
    public subscript<T>(dynamicMember kp: WritableKeyPath<Fields, T>) -> T {
        get { box.fields[keyPath: kp] }
        set {
            var f = box.fields
            f[keyPath: kp] = newValue
            box = Box(f)
        }
    }

    public init(_ checkID: String, _ status: Status, _ subject: Subject = .host, _ summary: String,
                detail: String? = nil, remedy: String? = nil, evidence: [Evidence] = [], impacts: [Impact] = []) {
        box = Box(Fields(checkID: checkID, status: status, subject: subject, summary: summary, detail: detail, remedy: remedy,
                         evidence: evidence, impacts: impacts))
    }

    public static func == (a: Finding, b: Finding) -> Bool { a.box === b.box || a.box.fields == b.box.fields }
}

/// A check's self-description: stable id, what it checks and why, the fix, and examples that
/// are run as tests (fixture → expected status).
public struct CheckDescriptor: Sendable {
    public var id: String
    public var title: String
    public var category: Category
    public var rationale: String
    public var remedy: String
    /// The host facts it looks at, for `vfio-probe checks`.
    public var looksAt: [String]
    public var examples: [CheckExample]
    /// Earlier ids, still accepted by --only/--skip.
    public var aliases: [String]
    /// Whether its findings can deny, require or leave undecided a mode. A verdict drawn without
    /// a check that decides is partial and grants nothing; one that only informs may be skipped.
    public var decides: Bool

    public init(id: String, title: String, category: Category, rationale: String, remedy: String,
                looksAt: [String], examples: [CheckExample], aliases: [String] = [], decides: Bool = true) {
        self.decides = decides
        self.id = id
        self.title = title
        self.category = category
        self.rationale = rationale
        self.remedy = remedy
        self.looksAt = looksAt
        self.examples = examples
        self.aliases = aliases
    }
}

/// "On fixture `fixture`, this check reports `status` (about `device`, when given)", and, for warn
/// and fail, exactly `remedy` (the descriptor's remedy when nil). The registry test runs them all.
public struct CheckExample: Sendable {
    public var fixture: String
    public var status: Status
    public var device: String?
    public var remedy: String?

    public static func pass(_ fixture: String, device: String? = nil) -> Self { .init(fixture: fixture, status: .pass, device: device) }
    public static func info(_ fixture: String, device: String? = nil) -> Self { .init(fixture: fixture, status: .info, device: device) }
    public static func skip(_ fixture: String, device: String? = nil) -> Self { .init(fixture: fixture, status: .skip, device: device) }
    public static func warn(_ fixture: String, device: String? = nil, remedy: String? = nil) -> Self {
        .init(fixture: fixture, status: .warn, device: device, remedy: remedy)
    }
    public static func fail(_ fixture: String, device: String? = nil, remedy: String? = nil) -> Self {
        .init(fixture: fixture, status: .fail, device: device, remedy: remedy)
    }
}

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

/// A check: a descriptor and a pure, non-throwing function of what the probe saw.
public protocol Check: Sendable {
    static var descriptor: CheckDescriptor { get }
    static func evaluate(_ context: CheckContext) -> [Finding]
}

extension Check {
    static var id: String { descriptor.id }
    /// A finding of this check, with the descriptor's remedy on non-pass results unless another is given.
    static func finding(_ status: Status, _ summary: String, detail: String? = nil,
                        remedy: String? = nil, evidence: [Evidence] = [], impacts: [Impact] = []) -> Finding {
        finding(status, .host, summary, detail: detail, remedy: remedy, evidence: evidence, impacts: impacts)
    }
    static func finding(_ status: Status, _ subject: Subject, _ summary: String, detail: String? = nil,
                        remedy: String? = nil, evidence: [Evidence] = [], impacts: [Impact] = []) -> Finding {
        let r = remedy ?? (status == .warn || status == .fail ? descriptor.remedy : nil)
        return Finding(descriptor.id, status, subject, summary, detail: detail, remedy: r, evidence: evidence, impacts: impacts)
    }
    static func skipped(_ why: String) -> Finding { skipped(.host, why) }
    static func skipped(_ subject: Subject, _ why: String) -> Finding {
        Finding(descriptor.id, .skip, subject, "cannot tell: \(why)")
    }
}
