#if canImport(Glibc)
import Glibc
#endif

/// `vfio-probe snapshot`: copies exactly what the probe reads — the files, the listings, the
/// symbolic links that lead to them (kept relative), device nodes and unreadable paths in the
/// `vfio-probe-snapshot/` manifest — into a tree that `--root` reads. The thing to attach to a bug
/// report. It writes only under the output folder.
public enum Snapshot {
    public struct Summary: Sendable, Equatable {
        public var files = 0
        public var bytes = 0
        public var links = 0
        public var directories = 0
        public var nodes = 0
        public var unreadable = 0
    }

    public enum Failure: Error, CustomStringConvertible {
        case output(String)
        case read(HostFSError)
        case tooLarge(String)
        case notARoot(String)
        public var description: String {
            switch self {
            case .notARoot(let why): why
            case .output(let s): "cannot write the snapshot: \(s)"
            case .read(let e): "cannot read the host: \(e)"
            case .tooLarge(let s): "the snapshot would be too large: \(s)"
            }
        }
    }

    /// Bounds: a snapshot is a report attachment, never a copy of /sys.
    public static let maxFiles = 200_000
    public static let maxBytes = 256 << 20

    public static func capture(root: String = "/", scope: Host.Scope, output: String) throws(Failure) -> Summary {
        let log = AccessLog()
        let fs: HostFS
        do { fs = try HostFS(root: root, log: log) } catch { throw .read(error) }
        if let why = fs.rootProblem() { throw .notARoot(why) }
        let host = HostReader(fs: fs, lookUpNames: false).read(scope: scope)
        // A full scan takes group members from the devices' links; a --device read of the
        // snapshot lists the groups' devices folders, so copy those too.
        for g in host.groups.keys { _ = try? fs.entries("\(HostReader.iommuGroups)/\(g)/devices") }
        var w = Writer(fs: fs, out: HostFS.trimTrailingSlash(output))
        try w.prepareOutput()
        for (path, access) in log.accesses { try w.write(path, access) }
        try w.finish(release: host.kernel.release.value)
        return w.summary
    }

    struct Writer {
        let fs: HostFS
        let out: String
        var summary = Summary()
        var nodes: [DeviceNode] = []
        var unreadable: [String] = []
        var made: Set<String> = []

        mutating func prepareOutput() throws(Failure) {
            if mkdir(out, 0o755) != 0 {
                guard errno == EEXIST else { throw .output("\(out): \(String(cString: strerror(errno)))") }
                guard let d = opendir(out) else { throw .output("\(out): not a directory") }
                defer { closedir(d) }
                var count = 0
                while readdir(d) != nil { count += 1 }
                if count > 2 { throw .output("\(out) exists and is not empty") }
            }
        }

        mutating func write(_ path: String, _ access: AccessLog.Access) throws(Failure) {
            switch access {
            case .node(let n):
                nodes.append(n)
                summary.nodes += 1
            case .unreadable:
                unreadable.append(path)
                summary.unreadable += 1
            case .file(let bytes):
                guard let parent = try ensure(HostFS.split(path).0) else { return }
                try writeFile(join(parent, HostFS.split(path).1), bytes)
            case .link(let target):
                guard let parent = try ensure(HostFS.split(path).0) else { return }
                try makeLink(join(parent, HostFS.split(path).1), target)
            case .directory(let names):
                guard let dir = try ensure(path) else { return }
                for name in names {
                    let child = join(dir, name)
                    switch fs.kind(child) {
                    case .directory: try makeDirectory(child)
                    case .link: if let t = try? fs.link(child) { try makeLink(child, t) }
                    case .file: if !made.contains(child) { try writeFile(child, []) }
                    default: break
                    }
                }
            case .exists:
                _ = try ensure(path)
                if fs.kind(path) == .file, let parent = try ensure(HostFS.split(path).0) {
                    let p = join(parent, HostFS.split(path).1)
                    if !made.contains(p) { try writeFile(p, []) }
                }
            }
        }

        /// Recreates every component of `path` as the host has it — directories, and symbolic
        /// links followed to their targets — and returns the path it resolves to.
        mutating func ensure(_ path: String, depth: Int = 0) throws(Failure) -> String? {
            guard depth < 40 else { return nil }
            var resolved = ""
            for comp in path.split(separator: "/") {
                let p = resolved + "/" + comp
                switch fs.kind(p) {
                case .link:
                    guard let t = try? fs.link(p) else { return nil }
                    try makeLink(p, t)
                    guard let r = try ensure(Snapshot.normalize(t.hasPrefix("/") ? t : HostFS.split(p).0 + "/" + t), depth: depth + 1) else { return nil }
                    resolved = r
                case .directory:
                    try makeDirectory(p)
                    resolved = p
                case .missing:
                    return nil
                default:
                    resolved = p
                }
            }
            return resolved.isEmpty ? "/" : resolved
        }

        mutating func makeDirectory(_ p: String) throws(Failure) {
            guard made.insert(p).inserted else { return }
            if mkdir(out + p, 0o755) != 0 && errno != EEXIST { throw .output("\(out + p): \(String(cString: strerror(errno)))") }
            summary.directories += 1
        }

        mutating func makeLink(_ p: String, _ target: String) throws(Failure) {
            guard made.insert(p).inserted else { return }
            // Links stay relative so the tree is self-contained; absolute ones are rewritten.
            let t = target.hasPrefix("/") ? Snapshot.relative(from: HostFS.split(p).0, to: target) : target
            if symlink(t, out + p) != 0 && errno != EEXIST { throw .output("\(out + p): \(String(cString: strerror(errno)))") }
            summary.links += 1
        }

        mutating func writeFile(_ p: String, _ bytes: [UInt8]) throws(Failure) {
            made.insert(p)
            summary.files += 1
            summary.bytes += bytes.count
            if summary.files > Snapshot.maxFiles { throw .tooLarge("more than \(Snapshot.maxFiles) files") }
            if summary.bytes > Snapshot.maxBytes { throw .tooLarge("more than \(Snapshot.maxBytes >> 20) MiB") }
            let fd = open(out + p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            if fd < 0 { throw .output("\(out + p): \(String(cString: strerror(errno)))") }
            defer { close(fd) }
            var rest = bytes[...]
            while !rest.isEmpty {
                let n = rest.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { throw .output("\(out + p): \(String(cString: strerror(errno)))") }
                rest = rest.dropFirst(n)
            }
        }

        mutating func finish(release: String?) throws(Failure) {
            try makeDirectory(HostFS.manifestDirectory)
            let dir = HostFS.manifestDirectory
            if !nodes.isEmpty { try writeFile(dir + "/dev-nodes", Array(DeviceNodeManifest.render(nodes).utf8)) }
            if !unreadable.isEmpty { try writeFile(dir + "/unreadable", Array((unreadable.joined(separator: "\n") + "\n").utf8)) }
            let info = """
            vfio-probe \(Report.toolVersion) snapshot of \(fs.root == "/" ? "this host" : fs.root)
            kernel \(release ?? "unknown")
            Read it with: vfio-probe --root THIS-FOLDER --no-live
            dev-nodes: character devices (PATH c MAJOR:MINOR MODE UID GID ACCESS); unreadable: paths the capturing user could not read.

            """
            try writeFile(dir + "/README", Array(info.utf8))
        }

        func join(_ dir: String, _ name: String) -> String { dir == "/" ? "/" + name : dir + "/" + name }
    }

    /// Lexical normalisation inside the root: "." and ".." resolved, never above "/".
    static func normalize(_ path: String) -> String {
        var parts: [Substring] = []
        for c in path.split(separator: "/") {
            if c == "." { continue }
            if c == ".." { _ = parts.popLast(); continue }
            parts.append(c)
        }
        return "/" + parts.joined(separator: "/")
    }

    /// The relative path from directory `from` to `to` (both absolute).
    static func relative(from: String, to: String) -> String {
        let a = normalize(from).split(separator: "/")
        let b = normalize(to).split(separator: "/")
        var i = 0
        while i < a.count && i < b.count && a[i] == b[i] { i += 1 }
        let ups = Array(repeating: "..", count: a.count - i)
        let rest = b[i...].map(String.init)
        let r = (ups + rest).joined(separator: "/")
        return r.isEmpty ? "." : r
    }
}
