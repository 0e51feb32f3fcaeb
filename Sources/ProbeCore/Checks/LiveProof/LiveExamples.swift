import SystemPackage

/// The step at which a live example's scripted kernel answers an errno, and the errno.
public struct LiveFailure: Sendable {
    public var step: LiveStepID
    public var errno: Errno
    public init(_ step: LiveStepID, _ errno: Errno) {
        self.step = step
        self.errno = errno
    }
}

extension CheckExample {
    /// A live check's examples: the walks run against the test suite's scripted kernel, which
    /// answers `errno` at `step`; `remedy` is the diagnosis's action for it.
    static func fail(_ fixture: String, device: String? = nil, at step: LiveStepID, _ errno: Errno, remedy: String) -> Self {
        .init(fixture: fixture, status: .fail, device: device, remedy: remedy, liveFailure: LiveFailure(step, errno))
    }
    static func warn(_ fixture: String, device: String? = nil, at step: LiveStepID, _ errno: Errno, remedy: String) -> Self {
        .init(fixture: fixture, status: .warn, device: device, remedy: remedy, liveFailure: LiveFailure(step, errno))
    }
    static func info(_ fixture: String, device: String? = nil, at step: LiveStepID, _ errno: Errno) -> Self {
        .init(fixture: fixture, status: .info, device: device, liveFailure: LiveFailure(step, errno))
    }
}
