import Synchronization

/// Every path a HostFS was asked for and what it found: the list `vfio-probe snapshot` copies.
/// Recording never changes what HostFS returns.
public final class AccessLog: Sendable {
    public enum Access: Sendable, Equatable {
        case file([UInt8])
        case directory([String])
        case link(String)
        case node(DeviceNode)
        case exists
        case unreadable
    }

    private let entries = Mutex<[String: Access]>([:])

    public init() {}

    func record(_ path: String, _ access: Access) {
        entries.withLock { e in
            // A read or listing says more than an existence test: keep the richer record.
            if case .exists = access, e[path] != nil { return }
            e[path] = access
        }
    }

    public var accesses: [(path: String, access: Access)] {
        entries.withLock { e in e.keys.sorted().map { ($0, e[$0]!) } }
    }
}
