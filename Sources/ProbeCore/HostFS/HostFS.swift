#if canImport(Glibc)
import Glibc
#endif
import CShim
import SystemPackage

/// The only code that reads the host, and it has no write API. Every path is absolute
/// ("/sys/...") and is resolved inside `root`: "/" for this host, or a tree laid out like it (a
/// fixture or a snapshot). Its verbs — `read`, `list`, `link`, `node`, `directory` — return a
/// `Reading`: the value, `.absent`, or why it could not be read.
///
/// How a path is reached is chosen once, at init (`Access`). With an `AccessLog`, every access is
/// also recorded: what `vfio-probe snapshot` copies.
public final class HostFS: Sendable {
    /// How a HostFS reaches its files.
    enum Access: Sendable {
        /// This host: paths are opened as they are.
        case host
        /// A tree: every path resolved inside it with openat2(RESOLVE_IN_ROOT), so no link leads
        /// out of it; only regular files and directories are opened (a FIFO or device node in a
        /// tree never is). What a tree cannot hold as files comes from its manifest.
        case tree(TreeManifest)
    }

    public let root: String
    let access: Access
    /// The root, open (O_PATH): what a tree's paths are resolved beneath.
    private let rootFD: CInt
    /// When set, every access is recorded.
    public let log: AccessLog?

    public var isHostRoot: Bool { if case .host = access { true } else { false } }

    /// Where a tree keeps what cannot be files (`dev-nodes`, `unreadable`; Tests/Fixtures/README.md).
    public static let manifestDirectory = "/vfio-probe-snapshot"

    public init(root: String = "/", log: AccessLog? = nil) throws(HostFSError) {
        let root = root == "/" ? "/" : HostFS.trimTrailingSlash(root)
        let fd: CInt
        do throws(Errno) { fd = try Syscalls.open(root, vp_O_PATH | O_DIRECTORY) } catch { throw HostFSError(error, root) }
        self.root = root
        rootFD = fd
        self.log = log
        if root == "/" {
            access = .host
            return
        }
        do {
            access = .tree(try TreeManifest(reading: { path throws(HostFSError) in try HostFS.readInTree(fd, root: root, path) }))
        } catch {
            Syscalls.close(fd)
            throw error
        }
    }

    deinit { Syscalls.close(rootFD) }

    // MARK: the verbs

    /// A file's bytes, at most `limit` of them.
    public func read(_ path: String, limit: Int = 4 << 20) -> Reading<[UInt8]> {
        recorded(path, { .file($0) }) { () throws(HostFSError) in
            let fd = try open(path, O_RDONLY)
            defer { Syscalls.close(fd) }
            do throws(Errno) { return try Syscalls.read(fd, limit: limit) } catch { throw HostFSError(error, path) }
        }
    }

    /// The kernel's log (`/dev/kmsg`), at most `maxRecords` records and `maxBytes` bytes. On this
    /// host the character device is read without ever waiting (O_NONBLOCK, EAGAIN ends it); in a
    /// tree, `dev/kmsg` is a regular file in the same record format. Opening it is refused
    /// (EPERM) to a reader without CAP_SYSLOG when kernel.dmesg_restrict is 1
    /// (devkmsg_open, check_syslog_permissions).
    public func kernelLog(_ path: String = "/dev/kmsg", maxRecords: Int = 8192, maxBytes: Int = 2 << 20) -> Reading<KernelLogRecords> {
        recorded(path, { .file(Array($0.records.map { $0.hasSuffix("\n") ? $0 : $0 + "\n" }.joined().utf8)) }) {
            () throws(HostFSError) in
            let fd = try open(path, O_RDONLY)
            defer { Syscalls.close(fd) }
            do throws(Errno) {
                if case .tree = access {
                    let bytes = try Syscalls.read(fd, limit: maxBytes + 1)
                    var r = KernelLogRecords.split(String(decoding: bytes.prefix(maxBytes), as: UTF8.self), maxRecords: maxRecords)
                    if bytes.count > maxBytes { r.capped = true }
                    return r
                }
                let (records, overwritten, capped) = try Syscalls.readRecords(fd, maxRecords: maxRecords, maxBytes: maxBytes)
                return KernelLogRecords(
                    records: records.map { String(decoding: $0, as: UTF8.self) }, overwritten: overwritten, capped: capped)
            } catch {
                throw HostFSError(error, path)
            }
        }
    }

    /// The names in a directory, sorted, without "." and "..".
    public func list(_ path: String) -> Reading<[String]> {
        recorded(path, { .directory($0) }) { () throws(HostFSError) in
            let fd = try open(path, O_RDONLY | O_DIRECTORY)
            do throws(Errno) { return try Syscalls.list(fd).sorted() } catch { throw HostFSError(error, path) }
        }
    }

    /// The target of a symbolic link, as stored in the link.
    public func link(_ path: String) -> Reading<String> {
        recorded(path, { .link($0) }) { () throws(HostFSError) in
            try guardReadable(path)
            if case .host = access { return try HostFS.readlink(AT_FDCWD, path, path: path) }
            let (parent, name) = HostFS.split(path)
            let dfd = try open(parent, vp_O_PATH | O_DIRECTORY)
            defer { Syscalls.close(dfd) }
            return try HostFS.readlink(dfd, name, path: path)
        }
    }

    /// A character device node and this process's access to it; in a tree, from its manifest.
    public func node(_ path: String) -> Reading<DeviceNode> {
        recorded(path, { .node($0) }) { () throws(HostFSError) in
            switch access {
            case .host: return try HostFS.statNode(AT_FDCWD, path, path: path)
            case .tree(let manifest):
                guard let node = manifest.nodes[path] else { throw .missing(path) }
                return node
            }
        }
    }

    /// The character device nodes directly inside a /dev folder, sorted by path.
    public func nodes(in dir: String) -> Reading<[DeviceNode]> {
        let found: Reading<[DeviceNode]>
        switch access {
        case .host:
            found = directory(dir).flatMap { folder in folder.list().map { $0.compactMap { folder.node($0).value } } }
        case .tree(let manifest):
            let prefix = dir.hasSuffix("/") ? dir : dir + "/"
            let inside = manifest.nodes.values.filter { $0.path.utf8.starts(with: prefix.utf8) }
            found =
                inside.isEmpty
                ? .absent
                : .value(
                    inside.filter { !$0.path.utf8.dropFirst(prefix.utf8.count).contains(UInt8(ascii: "/")) }.sorted { $0.path < $1.path })
        }
        for n in found.value ?? [] { log?.record(n.path, .node(n)) }
        return found
    }

    /// A directory, opened once, whose entries are then read relative to it.
    public func directory(_ path: String) -> Reading<HostDirectory> {
        recorded(path, nil) { () throws(HostFSError) in
            HostDirectory(fs: self, path: path, fd: try open(path, O_RDONLY | O_DIRECTORY))
        }
    }

    /// Whether a path (with `directory`, a folder) is there, without reading it: `.unreadable`
    /// when a folder on the way may not be searched (the path may or may not exist).
    public func presence(_ path: String, directory: Bool = false) -> Reading<Bool> {
        do {
            Syscalls.close(try open(path, vp_O_PATH | (directory ? O_DIRECTORY : 0)))
            log?.record(path, .exists)
            return .value(true)
        } catch .missing, .notADirectory {
            return .absent
        } catch {
            return unreadable(path, error)
        }
    }

    /// What a path is, its final link not followed (for the snapshot's copy).
    public enum Kind: Sendable, Equatable { case file, directory, link, characterDevice, other, missing }

    public func kind(_ path: String) -> Kind {
        if path == "/" { return .directory }
        guard let st = lstat(path) else { return .missing }
        switch st.st_mode & S_IFMT {
        case S_IFREG: return .file
        case S_IFDIR: return .directory
        case S_IFLNK: return .link
        case S_IFCHR: return .characterDevice
        default: return .other
        }
    }

    /// The permission bits of a path (lstat), for a snapshot to keep what was restricted.
    public func permissions(_ path: String) -> mode_t? {
        lstat(path).map { $0.st_mode & 0o7777 }
    }

    /// The character device an open descriptor of another process refers to (`/proc/PID/fd/N`:
    /// stat follows the magic link to the open file, so a name in another mount namespace cannot
    /// pass for a VFIO node). This host only; nil for anything that is not a character device.
    public func characterDevice(behind path: String) -> (major: UInt32, minor: UInt32)? {
        guard isHostRoot else { return nil }
        var st = stat()
        guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFCHR else { return nil }
        return (vp_major(UInt64(st.st_rdev)), vp_minor(UInt64(st.st_rdev)))
    }

    /// Why a `--root` tree does not look like a host's root (no `sys`, `proc` or `sys/bus/pci`),
    /// or nil. A folder the probe may not search counts as there: its facts are then unknown.
    public func rootProblem() -> String? {
        guard !isHostRoot else { return nil }
        if case .value = presence(HostFS.manifestDirectory + "/partial") {
            return "\(root) is a snapshot that did not finish (\(root)\(HostFS.manifestDirectory)/partial is there): take it again"
        }
        let lacking = ["/sys", "/proc", "/sys/bus/pci"].filter { if case .absent = presence($0) { true } else { false } }
        guard let first = lacking.first else { return nil }
        var hint = ""
        for sub in ["tree", "root"] where HostFS.isDirectory(root + "/" + sub + "/sys") {
            hint = "; \(root)/\(sub) looks like the snapshot: pass --root \(root)/\(sub)"
        }
        if hint.isEmpty && root.hasPrefix("/proc") { hint = "; --root takes a tree laid out like /, not /proc" }
        return "\(root) does not look like a host's root: it has no \(first.dropFirst())\(hint)"
    }

    // MARK: opening

    /// `path` opened inside the root with `flags`, after the unreadable manifest is consulted.
    func open(_ path: String, _ flags: CInt) throws(HostFSError) -> CInt {
        try guardReadable(path)
        switch access {
        case .host:
            do throws(Errno) { return try Syscalls.open(path, flags) } catch { throw HostFSError(error, path) }
        case .tree:
            return try HostFS.openInTree(rootFD, root: root, path, flags)
        }
    }

    /// A tree's path, resolved with openat2(RESOLVE_IN_ROOT). A file is looked at through an
    /// O_PATH descriptor and opened through that descriptor only when it is a regular file: no
    /// FIFO, socket or device node in a tree is ever opened (a watchdog node would arm the watchdog).
    /// A directory is opened at once (O_DIRECTORY fails on anything else before opening it).
    static func openInTree(_ rootFD: CInt, root: String, _ path: String, _ flags: CInt) throws(HostFSError) -> CInt {
        let relative = path.hasPrefix("/") ? "." + path : path
        let resolve = vp_RESOLVE_IN_ROOT | vp_RESOLVE_NO_MAGICLINKS
        do throws(Errno) {
            if flags & (vp_O_PATH | O_DIRECTORY) != 0 { return try Syscalls.openat2(rootFD, relative, flags, resolve: resolve) }
            let looked = try Syscalls.openat2(rootFD, relative, vp_O_PATH, resolve: resolve)
            defer { Syscalls.close(looked) }
            guard (try Syscalls.fstat(looked).st_mode & S_IFMT) == S_IFREG else { throw Errno.noSuchAddressOrDevice }
            return try Syscalls.open("/proc/self/fd/\(looked)", flags)
        } catch .noFunction {
            throw .noOpenat2(root)  // without openat2 a link could lead out of the tree: no tree is read
        } catch {
            throw HostFSError(error, path)
        }
    }

    /// A whole small file of a tree (its manifests): at most 4 MiB, like every file the probe reads.
    static func readInTree(_ rootFD: CInt, root: String, _ path: String, limit: Int = 4 << 20) throws(HostFSError) -> [UInt8] {
        let fd = try openInTree(rootFD, root: root, path, O_RDONLY)
        defer { Syscalls.close(fd) }
        let bytes: [UInt8]
        do throws(Errno) { bytes = try Syscalls.read(fd, limit: limit + 1) } catch { throw HostFSError(error, path) }
        if bytes.count > limit { throw .tooLarge(path, limit) }
        return bytes
    }

    static func readlink(_ dirfd: CInt, _ name: String, path: String) throws(HostFSError) -> String {
        do throws(Errno) { return try Syscalls.readlink(dirfd, name) } catch .invalidArgument { throw .notALink(path) } catch {
            throw HostFSError(error, path)
        }
    }

    /// A character device's numbers and mode (lstat), and what this process may do with it, `name`
    /// relative to `dirfd`.
    static func statNode(_ dirfd: CInt, _ name: String, path: String) throws(HostFSError) -> DeviceNode {
        let st: stat
        do throws(Errno) { st = try Syscalls.lstat(dirfd, name) } catch { throw HostFSError(error, path) }
        guard (st.st_mode & S_IFMT) == S_IFCHR else { throw .missing(path) }
        return DeviceNode(
            path: path, major: vp_major(UInt64(st.st_rdev)), minor: vp_minor(UInt64(st.st_rdev)),
            mode: st.st_mode & 0o7777, uid: st.st_uid, gid: st.st_gid,
            readable: Syscalls.access(dirfd, name, R_OK), writable: Syscalls.access(dirfd, name, W_OK))
    }

    private func lstat(_ path: String) -> stat? {
        let (parent, name) = HostFS.split(path)
        guard let dfd = try? open(parent, vp_O_PATH | O_DIRECTORY) else { return nil }
        defer { Syscalls.close(dfd) }
        return try? Syscalls.lstat(dfd, name)
    }

    // MARK: the manifest and the log

    /// A path the tree's `unreadable` manifest names (or one beneath it) fails as it failed for
    /// the user who captured the tree.
    func guardReadable(_ path: @autoclosure () -> String) throws(HostFSError) {
        guard case .tree(let manifest) = access, !manifest.unreadable.isEmpty else { return }
        let p = path()
        if manifest.isUnreadable(p) { throw .permissionDenied(p) }
    }

    /// `body`'s reading of `path`, recorded: its value as `entry` makes it, a refusal as
    /// unreadable (a snapshot keeps what could not be read, so a --root run reads it as unknown too).
    func recorded<V>(
        _ path: @autoclosure () -> String, _ entry: ((V) -> AccessLog.Access)?, _ body: () throws(HostFSError) -> V
    ) -> Reading<V> {
        do {
            let v = try body()
            if let log, let entry { log.record(path(), entry(v)) }
            return .value(v)
        } catch .missing {
            return .absent
        } catch {
            return unreadable(path(), error)
        }
    }

    /// A failed reading, recorded as unreadable when it was refused.
    func unreadable<V>(_ path: String, _ error: HostFSError) -> Reading<V> {
        if case .permissionDenied = error { log?.record(path, .unreadable) }
        return .unreadable(error)
    }

    // MARK: paths

    /// A real directory of this machine (outside any tree): for the hint above only.
    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    static func split(_ path: String) -> (String, String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let parent = String(path[..<slash])
        return (parent.isEmpty ? "/" : parent, String(path[path.index(after: slash)...]))
    }

    static func trimTrailingSlash(_ s: String) -> String {
        var s = s
        while s.count > 1 && s.hasSuffix("/") { s.removeLast() }
        return s
    }
}

/// What a tree holds that cannot be files: the paths its capturing user could not read
/// (`unreadable`) and its character devices with that user's access to them (`dev-nodes`).
struct TreeManifest: Sendable {
    let unreadable: [String]
    let nodes: [String: DeviceNode]

    /// Reads both from the tree; an absent manifest is an empty one. Anything else wrong with
    /// them (too large, not a file, no openat2 on this kernel) is the tree's problem, said at once.
    init(reading read: (String) throws(HostFSError) -> [UInt8]) throws(HostFSError) {
        func manifest(_ name: String) throws(HostFSError) -> String {
            do { return String(decoding: try read(HostFS.manifestDirectory + "/" + name), as: UTF8.self) } catch .missing { return "" }
        }
        unreadable = try manifest("unreadable").split(separator: "\n").map { String($0).trimmed }.filter { $0.hasPrefix("/") }
        // Read through openat2, without which the reads fail with `noOpenat2`: no tree is read
        // on a kernel that cannot keep its links inside it.
        nodes = DeviceNodeManifest.parse(try manifest("dev-nodes"))
    }

    func isUnreadable(_ path: String) -> Bool {
        unreadable.contains { path == $0 || path.hasPrefix($0.hasSuffix("/") ? $0 : $0 + "/") }
    }
}
