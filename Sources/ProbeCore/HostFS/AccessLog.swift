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
            // A file's pieces read at offsets stay beyond what a whole read returned.
            if case .file(let whole) = access, case .file(var known) = e[path], known.count > whole.count {
                known.replaceSubrange(0..<whole.count, with: whole)
                e[path] = .file(known)
                return
            }
            e[path] = access
        }
    }

    /// Bytes read at `offset` of a file: laid over what was read of it before, the gaps zero
    /// (a snapshot's file then answers the same reads with the same bytes).
    func record(_ path: String, piece: [UInt8], at offset: Int) {
        entries.withLock { e in
            var bytes: [UInt8] = if case .file(let b) = e[path] { b } else { [] }
            if bytes.count < offset + piece.count { bytes += [UInt8](repeating: 0, count: offset + piece.count - bytes.count) }
            bytes.replaceSubrange(offset..<(offset + piece.count), with: piece)
            e[path] = .file(bytes)
        }
    }

    public var accesses: [(path: String, access: Access)] {
        entries.withLock { e in e.keys.sorted().map { ($0, e[$0]!) } }
    }
}
