/// "On fixture `fixture`, this check reports `status` (about `device`, when given)", and, for warn
/// and fail, exactly `remedy` (the descriptor's remedy when nil). The registry test runs them all.
public struct CheckExample: Sendable {
    public var fixture: String
    public var status: Status
    public var device: String?
    public var remedy: String?
    /// A live check's example: where the scripted kernel fails the walk (nil: it answers every call).
    public var liveFailure: LiveFailure? = nil
    /// The workload the example states (`--memory`, `--hugepage-size`), if any.
    public var workload: Workload? = nil

    public static func pass(_ fixture: String, device: String? = nil) -> Self { .init(fixture: fixture, status: .pass, device: device) }
    public static func pass(_ fixture: String, device: String? = nil, workload: Workload) -> Self {
        .init(fixture: fixture, status: .pass, device: device, workload: workload)
    }
    public static func warn(_ fixture: String, device: String? = nil, remedy: String? = nil, workload: Workload) -> Self {
        .init(fixture: fixture, status: .warn, device: device, remedy: remedy, workload: workload)
    }
    public static func fail(_ fixture: String, device: String? = nil, remedy: String? = nil, workload: Workload) -> Self {
        .init(fixture: fixture, status: .fail, device: device, remedy: remedy, workload: workload)
    }
    public static func info(_ fixture: String, device: String? = nil) -> Self { .init(fixture: fixture, status: .info, device: device) }
    public static func skip(_ fixture: String, device: String? = nil) -> Self { .init(fixture: fixture, status: .skip, device: device) }
    public static func warn(_ fixture: String, device: String? = nil, remedy: String? = nil) -> Self {
        .init(fixture: fixture, status: .warn, device: device, remedy: remedy)
    }
    public static func fail(_ fixture: String, device: String? = nil, remedy: String? = nil) -> Self {
        .init(fixture: fixture, status: .fail, device: device, remedy: remedy)
    }
}
