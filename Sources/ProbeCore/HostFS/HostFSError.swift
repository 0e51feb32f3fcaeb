import SystemPackage

/// Why a read of the host failed. Checks turn these into `skip` findings ("cannot tell without
/// root"), never into a pass or a fail.
public enum HostFSError: Error, Equatable, Sendable, CustomStringConvertible {
    case missing(String)
    case permissionDenied(String)
    case notALink(String)
    case notADirectory(String)
    case io(String, Errno)
    /// In a tree: a FIFO, socket or device node where a file was expected; it is never opened.
    case notAFile(String)
    /// A file larger than any the probe reads (a crafted or sparse tree).
    case tooLarge(String, Int)
    /// Reading a tree needs openat2 (Linux 5.6), which keeps every link inside it.
    case noOpenat2(String)
    /// Read, but not what it should be (no gzip stream, no number, a line missing); the path
    /// may be empty where a decoder does not know it.
    case malformed(String, String)

    /// The failure of a system call on `path`.
    init(_ errno: Errno, _ path: String) {
        switch errno {
        case .noSuchFileOrDirectory: self = .missing(path)
        case .permissionDenied, .notPermitted: self = .permissionDenied(path)
        case .notDirectory: self = .notADirectory(path)
        case .noSuchAddressOrDevice: self = .notAFile(path)
        default: self = .io(path, errno)
        }
    }

    public var path: String {
        switch self {
        case .missing(let p), .permissionDenied(let p), .notALink(let p), .notADirectory(let p), .io(let p, _), .notAFile(let p),
            .tooLarge(let p, _), .noOpenat2(let p), .malformed(let p, _):
            p
        }
    }

    public var description: String {
        switch self {
        case .missing(let p): "\(p): missing"
        case .permissionDenied(let p): "\(p): permission denied"
        case .notALink(let p): "\(p): not a symbolic link"
        case .notADirectory(let p): "\(p): not a directory"
        case .io(let p, let e): "\(p): \(e)"
        case .notAFile(let p): "\(p): not a regular file (a FIFO, socket or device node in a tree is never opened)"
        case .tooLarge(let p, let limit): "\(p): larger than \(limit >> 20) MiB, more than any file the probe reads"
        case .malformed(let p, let why): p.isEmpty ? why : "\(p): \(why)"
        case .noOpenat2(let p):
            "\(p): this kernel has no openat2 (Linux before 5.6), without which a tree's links could lead out of it: read the tree on Linux 5.6 or later"
        }
    }
}
