#if canImport(Glibc)
import Glibc
#endif
import CShim
import Synchronization
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

    public var path: String {
        switch self {
        case .missing(let p), .permissionDenied(let p), .notALink(let p), .notADirectory(let p), .io(let p, _), .notAFile(let p),
             .tooLarge(let p, _), .noOpenat2(let p): p
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
        case .noOpenat2(let p): "\(p): this kernel has no openat2 (Linux before 5.6), without which a tree's links could lead out of it: read the tree on Linux 5.6 or later"
        }
    }
}

/// A character device node as this process sees it.
public struct DeviceNode: Sendable, Equatable, Codable {
    public var path: String
    public var major: UInt32
    public var minor: UInt32
    public var mode: UInt32
    public var uid: UInt32
    public var gid: UInt32
    public var readable: Bool
    public var writable: Bool
    public var usable: Bool { readable && writable }
}

/// The only code that reads the host. Every path is absolute ("/sys/...") and is resolved inside
/// `root`: "/" for this host, or a fixture or snapshot tree. There is no write API.
///
/// Inside a tree that is not "/", paths are opened with openat2(RESOLVE_IN_ROOT) so that links
/// resolve as they would on the host and never lead out of the tree. Two things a tree cannot
/// hold as files are described in `ROOT/vfio-probe-snapshot/` (see Tests/Fixtures/README.md):
/// `dev-nodes` (character devices and this user's access to them) and `unreadable` (paths the
/// capturing user could not read).
public final class HostFS: Sendable {
    public let root: String
    public var isHostRoot: Bool { root == "/" }
    private let rootFD: CInt
    private let unreadable: [String]
    /// The dev-nodes manifest's text, parsed on the first lookup (once, byte by byte).
    private let manifestText: String
    private let manifest = Mutex<[String: DeviceNode]?>(nil)
    /// When set, every access is recorded: what `vfio-probe snapshot` copies.
    public let log: AccessLog?

    /// Where a tree keeps what cannot be files.
    public static let manifestDirectory = "/vfio-probe-snapshot"

    public init(root: String = "/", log: AccessLog? = nil) throws(HostFSError) {
        self.log = log
        let normalized = root == "/" ? "/" : HostFS.trimTrailingSlash(root)
        self.root = normalized
        let fd = open(normalized, vp_O_PATH | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 { throw HostFS.error(errno, normalized) }
        self.rootFD = fd
        treeFlags = normalized == "/" ? 0 : vp_O_REGULAR
        if normalized == "/" {
            unreadable = []
            manifestText = ""
        } else {
            // The manifests of a tree: absent is none; anything else wrong with them (too large,
            // not a file, no openat2 on this kernel) is the tree's problem, said at once.
            let reader = RootedOpener(rootFD: fd, root: normalized)
            func manifest(_ name: String) throws(HostFSError) -> String {
                do { return try reader.readText(HostFS.manifestDirectory + "/" + name) } catch .missing { return "" }
            }
            do throws(HostFSError) {
                unreadable = try manifest("unreadable").split(separator: "\n").map { String($0).trimmed }.filter { $0.hasPrefix("/") }
                manifestText = try manifest("dev-nodes")
                // The kernel's openat2 is what keeps the tree's links inside it: asked once here.
                let probe = vp_open_in_tree(fd, ".", vp_O_PATH)
                if probe >= 0 { close(probe) } else if errno == ENOSYS { throw HostFSError.noOpenat2(normalized) }
            } catch {
                close(fd)
                throw error
            }
        }
    }

    /// vp_O_REGULAR for a tree (no FIFO, socket or device node in it is opened), 0 for this host.
    let treeFlags: CInt

    deinit { close(rootFD) }

    // MARK: reading

    /// The bytes of a file, at most `limit` of them.
    public func bytes(_ path: String, limit: Int = 4 << 20) throws(HostFSError) -> [UInt8] {
        do {
            let b = try readBytes(path, limit: limit)
            log?.record(path, .file(b))
            return b
        } catch {
            if case .permissionDenied = error { log?.record(path, .unreadable) }
            throw error
        }
    }

    private func readBytes(_ path: String, limit: Int) throws(HostFSError) -> [UInt8] {
        try guardReadable(path)
        let fd = try openInRoot(path, O_RDONLY)
        defer { close(fd) }
        return try HostFS.readAll(fd, path: path, limit: limit)
    }

    /// Reads to the end (or `limit`) into the array itself: most sysfs attributes are a few bytes,
    /// so no scratch buffer is allocated or zeroed per read.
    static func readAll(_ fd: CInt, path: String, limit: Int) throws(HostFSError) -> [UInt8] {
        var out: [UInt8] = []
        var capacity = min(limit, 256)
        while out.count < limit {
            if out.count == capacity { capacity = min(limit, capacity * 4) }
            let start = out.count
            let want = capacity - start
            var err: CInt = 0
            var got = 0
            out.append(contentsOf: repeatElement(0, count: want))
            out.withUnsafeMutableBytes { buf in
                let n = read(fd, buf.baseAddress! + start, want)
                if n < 0 { err = errno } else { got = n }
            }
            out.removeLast(want - got)
            if err == EINTR { continue }
            if err != 0 { throw HostFS.error(err, path) }
            if got == 0 { break }
        }
        return out
    }

    /// A text file with trailing white space removed (sysfs attributes end in "\n").
    public func text(_ path: String, limit: Int = 4 << 20) throws(HostFSError) -> String {
        let b = try bytes(path, limit: limit)
        return String(decoding: b, as: UTF8.self).trimmingTrailingWhitespace
    }

    /// A directory opened once, whose entries are read relative to it: what the reader uses for
    /// each device and group, so a path is resolved once rather than for every attribute.
    public func directory(_ path: String) throws(HostFSError) -> HostDirectory {
        do {
            try guardReadable(path)
            return HostDirectory(fs: self, path: path, fd: try openInRoot(path, O_RDONLY | O_DIRECTORY))
        } catch {
            // A snapshot keeps what could not be listed, so that --root reads it as unknown too.
            if case .permissionDenied = error { log?.record(path, .unreadable) }
            throw error
        }
    }

    /// The names in a directory, sorted, without "." and "..".
    public func entries(_ path: String) throws(HostFSError) -> [String] {
        try directory(path).names()
    }

    /// Every name a directory stream yields, without "." and "..", sorted unless the caller
    /// sorts what it makes of them (PCI addresses, group numbers). Closes the stream.
    public static func names(of dir: OpaquePointer, sorted: Bool = true) -> [String] {
        defer { closedir(dir) }
        var names: [String] = []
        while let ent = readdir(dir) {
            let name = withUnsafePointer(to: ent.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return sorted ? names.sorted() : names
    }

    /// The target of a symbolic link, as stored in the link.
    public func link(_ path: String) throws(HostFSError) -> String {
        try guardReadable(path)
        let (parent, name) = HostFS.split(path)
        let dfd = try openInRoot(parent, vp_O_PATH | O_DIRECTORY)
        defer { close(dfd) }
        var buf = [CChar](repeating: 0, count: 4096)
        let n = readlinkat(dfd, name, &buf, buf.count - 1)
        if n < 0 {
            if errno == EINVAL { throw .notALink(path) }
            throw HostFS.error(errno, path)
        }
        let target = String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        log?.record(path, .link(target))
        return target
    }

    /// The last component of a link's target: a driver's name from `driver`, a group number from
    /// `iommu_group`, a PF's address from `physfn`.
    public func linkName(_ path: String) throws(HostFSError) -> String {
        let target = try link(path)
        return String(target.split(separator: "/").last ?? Substring(target))
    }

    public func exists(_ path: String) -> Bool {
        if isUnreadable(path) { return true }
        guard let fd = try? openInRoot(path, vp_O_PATH) else { return false }
        close(fd)
        log?.record(path, .exists)
        return true
    }

    /// Whether a path is there, without reading it: `.unreadable` when a folder on the way may
    /// not be searched (the path may or may not exist).
    public func presence(_ path: String) -> Reading<Bool> {
        do {
            try guardReadable(path)
            let fd = try openInRoot(path, vp_O_PATH)
            close(fd)
            log?.record(path, .exists)
            return .value(true)
        } catch .missing, .notADirectory {
            return .absent
        } catch {
            if case .permissionDenied = error { log?.record(path, .unreadable) }
            return .unreadable(error.description)
        }
    }

    /// Why a `--root` tree does not look like a host's root (no `sys`, `proc` or `sys/bus/pci`),
    /// or nil. A folder the probe may not search counts as there: its facts are then unknown.
    public func rootProblem() -> String? {
        guard !isHostRoot else { return nil }
        let lacking = ["/sys", "/proc", "/sys/bus/pci"].filter { if case .absent = presence($0) { true } else { false } }
        if case .value = presence(HostFS.manifestDirectory + "/partial") {
            return "\(root) is a snapshot that did not finish (\(root)\(HostFS.manifestDirectory)/partial is there): take it again"
        }
        guard let first = lacking.first else { return nil }
        var hint = ""
        for sub in ["tree", "root"] where HostFS.isDirectory(root + "/" + sub + "/sys") {
            hint = "; \(root)/\(sub) looks like the snapshot: pass --root \(root)/\(sub)"
        }
        if hint.isEmpty && root.hasPrefix("/proc") { hint = "; --root takes a tree laid out like /, not /proc" }
        return "\(root) does not look like a host's root: it has no \(first.dropFirst())\(hint)"
    }

    /// The permission bits of a file (lstat), for a snapshot to keep what was restricted.
    public func permissions(_ path: String) -> mode_t? {
        let (parent, name) = HostFS.split(path)
        guard let dfd = try? openInRoot(parent, vp_O_PATH | O_DIRECTORY) else { return nil }
        defer { close(dfd) }
        var st = stat()
        return fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 ? st.st_mode & 0o7777 : nil
    }

    /// A real directory of this machine (outside any tree): for the hint above only.
    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    public func isDirectory(_ path: String) -> Bool {
        guard let fd = try? openInRoot(path, vp_O_PATH | O_DIRECTORY) else { return false }
        close(fd)
        log?.record(path, .exists)
        return true
    }

    public enum Kind: Sendable, Equatable { case file, directory, link, characterDevice, other, missing }

    /// What a path is, without following a final symbolic link (lstat).
    public func kind(_ path: String) -> Kind {
        if path == "/" { return .directory }
        let (parent, name) = HostFS.split(path)
        guard let dfd = try? openInRoot(parent, vp_O_PATH | O_DIRECTORY) else { return .missing }
        defer { close(dfd) }
        var st = stat()
        if fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 { return .missing }
        switch st.st_mode & S_IFMT {
        case S_IFREG: return .file
        case S_IFDIR: return .directory
        case S_IFLNK: return .link
        case S_IFCHR: return .characterDevice
        default: return .other
        }
    }

    /// A character device node and this process's access to it. In a tree that is not "/", the
    /// node comes from the `dev-nodes` manifest.
    public func deviceNode(_ path: String) throws(HostFSError) -> DeviceNode {
        let node = try readDeviceNode(path)
        log?.record(path, .node(node))
        return node
    }

    private func readDeviceNode(_ path: String) throws(HostFSError) -> DeviceNode {
        if !isHostRoot {
            guard let node = manifestNodes[path] else { throw .missing(path) }
            return node
        }
        return try HostFS.statDeviceNode(AT_FDCWD, path, path: path)
    }

    /// A character device's numbers and mode (lstat), and what this process may do with it
    /// (faccessat with the effective ids, so ACLs and LSMs count), `name` relative to `dirfd`.
    static func statDeviceNode(_ dirfd: CInt, _ name: String, path: String) throws(HostFSError) -> DeviceNode {
        var st = stat()
        if fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 { throw HostFS.error(errno, path) }
        guard (st.st_mode & S_IFMT) == S_IFCHR else { throw .missing(path) }
        return DeviceNode(
            path: path, major: vp_major(UInt64(st.st_rdev)), minor: vp_minor(UInt64(st.st_rdev)),
            mode: st.st_mode & 0o7777, uid: st.st_uid, gid: st.st_gid,
            readable: faccessat(dirfd, name, R_OK, AT_EACCESS) == 0,
            writable: faccessat(dirfd, name, W_OK, AT_EACCESS) == 0)
    }

    /// The character device an open file descriptor of another process refers to, by the device
    /// number of what `/proc/PID/fd/N` leads to (stat follows the magic link to the open file):
    /// a name in another mount namespace cannot pass for a VFIO node. This host only; nil for
    /// anything that is not a character device, or when it cannot be seen.
    public func characterDevice(behind path: String) -> (major: UInt32, minor: UInt32)? {
        guard isHostRoot else { return nil }
        var st = stat()
        guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFCHR else { return nil }
        return (vp_major(UInt64(st.st_rdev)), vp_minor(UInt64(st.st_rdev)))
    }

    /// The character device nodes directly inside a /dev directory.
    public func deviceNodes(in dir: String) throws(HostFSError) -> [DeviceNode] {
        if !isHostRoot {
            let prefix = dir.hasSuffix("/") ? dir : dir + "/"
            let all = manifestNodes
            let inside = all.values.filter { $0.path.utf8.starts(with: prefix.utf8) }
            let nodes = inside.filter { !$0.path.utf8.dropFirst(prefix.utf8.count).contains(UInt8(ascii: "/")) }
            if inside.isEmpty {
                throw .missing(dir)
            }
            let sorted = nodes.sorted { $0.path < $1.path }
            for n in sorted { log?.record(n.path, .node(n)) }
            return sorted
        }
        // Each node relative to the open folder: a large host has a group node and a device
        // cdev per assignable function.
        let folder = try directory(dir)
        return try folder.names().compactMap { name in
            guard let node = try? folder.deviceNode(name) else { return nil }
            log?.record(node.path, .node(node))
            return node
        }
    }

    // MARK: internals

    private var manifestNodes: [String: DeviceNode] {
        manifest.withLock { m in
            if m == nil { m = DeviceNodeManifest.parse(manifestText) }
            return m!
        }
    }

    var hasUnreadableManifest: Bool { !unreadable.isEmpty }
    /// No read is recorded (snapshot) or checked against an unreadable manifest (fixture): the
    /// fast paths may skip building full path strings.
    var readsArePlain: Bool { unreadable.isEmpty && log == nil }

    func isUnreadable(_ path: String) -> Bool {
        unreadable.contains { path == $0 || path.hasPrefix($0.hasSuffix("/") ? $0 : $0 + "/") }
    }

    private func guardReadable(_ path: String) throws(HostFSError) {
        if isUnreadable(path) { throw .permissionDenied(path) }
    }

    private func openInRoot(_ path: String, _ flags: CInt) throws(HostFSError) -> CInt {
        try RootedOpener(rootFD: rootFD, root: root).open(path, flags)
    }

    static func error(_ code: CInt, _ path: String) -> HostFSError {
        switch code {
        case ENOENT: .missing(path)
        case EACCES, EPERM: .permissionDenied(path)
        case ENOTDIR: .notADirectory(path)
        case ENXIO: .notAFile(path)
        default: .io(path, Errno(rawValue: code))
        }
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

/// An open sysfs directory of the host (a device's, the groups'). Entries are opened beneath it
/// without following any link (`vp_open_beneath`: a name, or a path through real directories
/// such as a group's `12/type`), so nothing leads out of it; links are read, never followed. Its files are attributes: each is read with one read(2), which is how the kernel
/// hands out an attribute (see `vp_read_attribute`). Every access is recorded under its full
/// path, as HostFS records its own.
public final class HostDirectory {
    /// Its path under the root; built on first use (errors, the access log), as most folders a
    /// reader opens never need it.
    public var path: String { parent.map { $0.path + "/" + leaf } ?? leaf }
    private let parent: HostDirectory?
    private let leaf: String
    private let fs: HostFS
    private let fd: CInt
    /// For a view (the folder `leaf` reached through its parent's descriptor, not opened itself):
    /// `leaf` as the C string the shim takes, made once.
    private let withinC: ContiguousArray<CChar>?

    init(fs: HostFS, path: String, fd: CInt) {
        self.fs = fs
        parent = nil
        leaf = path
        self.fd = fd
        withinC = nil
    }

    private init(fs: HostFS, parent: HostDirectory, name: String, fd: CInt, view: Bool = false) {
        self.fs = fs
        self.parent = parent
        leaf = name
        self.fd = fd
        withinC = view ? name.utf8CString : nil
    }

    /// The `within` argument of the shim's calls.
    private func withWithin<R>(_ body: (UnsafePointer<CChar>?) -> R) -> R {
        guard let w = withinC else { return body(nil) }
        return w.withUnsafeBufferPointer { body($0.baseAddress) }
    }

    deinit { if !isView { close(fd) } }

    /// Subfolder `name` (a single component, no link) as a view: its entries are reached as
    /// `name/entry` through this folder's descriptor, saving the open and close of a folder the
    /// reader visits once. Only where reads are neither recorded nor filtered; the caller sees
    /// through its first read that `name` is a real folder (no link is followed on the way).
    func view(_ name: String) -> HostDirectory? {
        guard plain, !isView, !name.isEmpty, !name.utf8.contains(UInt8(ascii: "/")), name != ".", name != ".." else { return nil }
        return HostDirectory(fs: fs, parent: self, name: name, fd: fd, view: true)
    }

    var isView: Bool { withinC != nil }

    /// `name` relative to the descriptor.
    private func relative(_ name: String) -> String { isView ? leaf + "/" + name : name }

    func full(_ name: String) -> String { path + "/" + name }

    /// Whether reads must pass the unreadable manifest or be recorded (fixtures and snapshots):
    /// otherwise the fast paths build no path strings at all.
    private var plain: Bool { fs.readsArePlain }

    /// The entries, sorted unless `sorted` is false.
    public func names(sorted: Bool = true) throws(HostFSError) -> [String] {
        let dupfd = isView ? vp_open_beneath(fd, leaf, O_RDONLY | O_DIRECTORY) : fcntl(fd, F_DUPFD_CLOEXEC, 0)
        guard dupfd >= 0 else { throw HostFS.error(errno, path) }
        guard let dir = fdopendir(dupfd) else {
            let e = errno
            close(dupfd)
            throw HostFS.error(e, path)
        }
        let names = HostFS.names(of: dir, sorted: sorted || fs.log != nil)
        fs.log?.record(path, .directory(names))
        return names
    }

    /// An attribute's bytes, at most `limit` of them (a page on 64 KiB-page hosts).
    public func bytes(_ name: String, limit: Int = 64 << 10) throws(HostFSError) -> [UInt8] {
        if plain {
            var err: CInt = 0
            let b = [UInt8](unsafeUninitializedCapacity: limit) { buf, count in
                let n = withWithin { vp_read_attribute(fd, $0, name, buf.baseAddress!, limit, fs.treeFlags) }
                if n < 0 { err = errno; count = 0 } else { count = n }
            }
            if err != 0 { throw HostFS.error(err, full(name)) }
            return b
        }
        if fs.isUnreadable(full(name)) {
            fs.log?.record(full(name), .unreadable)
            throw .permissionDenied(full(name))
        }
        let f = vp_open_beneath(fd, relative(name), O_RDONLY | fs.treeFlags)
        if f < 0 {
            let e = HostFS.error(errno, full(name))
            if case .permissionDenied = e { fs.log?.record(full(name), .unreadable) }
            throw e
        }
        defer { close(f) }
        let b = try HostFS.readAll(f, path: name, limit: limit)
        if let log = fs.log { log.record(full(name), .file(b)) }
        return b
    }

    /// An attribute with trailing white space (and NULs) removed, handed to `body` as bytes.
    /// Attributes are at most a page: they are read into a stack buffer, with no array or string
    /// unless `body` makes one.
    public func withAttribute<R>(_ name: String, _ body: (UnsafeRawBufferPointer) -> R) throws(HostFSError) -> R {
        func trimmed(_ b: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
            var end = b.count
            while end > 0, b[end - 1] == 0x0a || b[end - 1] == 0x20 || b[end - 1] == 0x09 || b[end - 1] == 0 { end -= 1 }
            return UnsafeRawBufferPointer(rebasing: b[..<end])
        }
        if plain {
            let r: R? = try withUnsafeTemporaryAllocation(byteCount: 4096, alignment: 8) { (buf) throws(HostFSError) -> R? in
                let n = withWithin { vp_read_attribute(fd, $0, name, buf.baseAddress!, 4096, fs.treeFlags) }
                if n < 0 { throw HostFS.error(errno, full(name)) }
                // A full buffer: a longer attribute (64 KiB pages), read again whole below.
                return n == 4096 ? nil : body(trimmed(UnsafeRawBufferPointer(rebasing: buf[..<Int(n)])))
            }
            if let r { return r }
        }
        let b = try bytes(name)
        return b.withUnsafeBytes { body(trimmed($0)) }
    }

    /// An attribute as text, trailing white space (and NULs) removed.
    public func text(_ name: String) throws(HostFSError) -> String {
        try withAttribute(name) { String(decoding: $0, as: UTF8.self) }
    }

    /// A decimal attribute (`numa_node`, `sriov_totalvfs`); nil when it is not a number.
    public func integer(_ name: String) throws(HostFSError) -> Int? {
        try withAttribute(name) { HostDirectory.decimal($0) }
    }

    /// A decimal number, optionally negative (`numa_node` is -1 without NUMA).
    static func decimal(_ b: some Collection<UInt8>) -> Int? {
        let negative = b.first == UInt8(ascii: "-")
        guard let v = unsignedNumber(negative ? b.dropFirst() : b[...]).flatMap({ Int(exactly: $0) }) else { return nil }
        return negative ? -v : v
    }

    /// The smallest name in subdirectory `name` that starts with `prefix` (`vfio-dev/vfioN`);
    /// nil when the subdirectory is missing or has no such entry.
    public func firstEntry(in name: String, prefix: String) -> String? {
        guard plain else { return ((try? subdirectory(name).names()) ?? []).first { $0.hasPrefix(prefix) } }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: 256) { buf -> String? in
            withWithin { vp_first_entry(fd, $0, name, prefix, buf.baseAddress!, 256) } == 1 ? String(cString: buf.baseAddress!) : nil
        }
    }

    /// A link's target as bytes, handed to `body`. `name` is a single component.
    public func withLink<R>(_ name: String, _ body: (UnsafeRawBufferPointer) -> R) throws(HostFSError) -> R {
        if fs.hasUnreadableManifest, fs.isUnreadable(full(name)) { throw .permissionDenied(full(name)) }
        return try withUnsafeTemporaryAllocation(byteCount: 4096, alignment: 8) { (buf) throws(HostFSError) -> R in
            let n = withWithin { vp_readlink(fd, $0, name, buf.baseAddress!.assumingMemoryBound(to: CChar.self), 4095) }
            if n < 0 {
                if errno == EINVAL { throw .notALink(full(name)) }
                throw HostFS.error(errno, full(name))
            }
            let target = UnsafeRawBufferPointer(rebasing: buf[..<n])
            if let log = fs.log { log.record(full(name), .link(String(decoding: target, as: UTF8.self))) }
            return body(target)
        }
    }

    /// A link's target, as stored. `name` is a single component.
    public func link(_ name: String) throws(HostFSError) -> String {
        try withLink(name) { String(decoding: $0, as: UTF8.self) }
    }

    /// The last component of a link's target: a driver's name, a group number, a PF's address.
    public func linkName(_ name: String) throws(HostFSError) -> String {
        try withLink(name) { String(decoding: HostDirectory.lastComponent($0), as: UTF8.self) }
    }

    /// The last component of a link's target, as bytes, handed to `body`.
    public func withLinkName<R>(_ name: String, _ body: (UnsafeRawBufferPointer) -> R) throws(HostFSError) -> R {
        try withLink(name) { body(HostDirectory.lastComponent($0)) }
    }

    static func lastComponent(_ b: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        guard let slash = b.lastIndex(of: UInt8(ascii: "/")) else { return b }
        return UnsafeRawBufferPointer(rebasing: b[(slash + 1)...])
    }

    /// A character device in this (/dev) folder, on the host itself.
    func deviceNode(_ name: String) throws(HostFSError) -> DeviceNode {
        try HostFS.statDeviceNode(fd, relative(name), path: full(name))
    }

    /// A subdirectory, opened beneath this one.
    public func subdirectory(_ name: String) throws(HostFSError) -> HostDirectory {
        if fs.hasUnreadableManifest, fs.isUnreadable(full(name)) { throw .permissionDenied(full(name)) }
        let f = vp_open_beneath(fd, relative(name), O_RDONLY | O_DIRECTORY)
        if f < 0 { throw HostFS.error(errno, full(name)) }
        return HostDirectory(fs: fs, parent: self, name: name, fd: f)
    }
}

/// Opens paths relative to a root directory without ever leaving it.
struct RootedOpener {
    let rootFD: CInt
    let root: String

    func open(_ path: String, _ flags: CInt) throws(HostFSError) -> CInt {
        if root == "/" {
            let fd = Glibc.open(path, flags | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
            if fd < 0 { throw HostFS.error(errno, path) }
            return fd
        }
        let relative = path.hasPrefix("/") ? "." + path : path
        let fd = vp_open_in_tree(rootFD, relative, flags | vp_O_REGULAR)
        if fd >= 0 { return fd }
        // Without openat2 a link could lead out of the tree: such a kernel reads no tree.
        if errno == ENOSYS { throw .noOpenat2(root) }
        throw HostFS.error(errno, path)
    }

    /// A manifest: at most 4 MiB, like every file the probe reads (a sparse 1 GiB file is refused).
    func readText(_ path: String, limit: Int = 4 << 20) throws(HostFSError) -> String {
        let fd = try open(path, O_RDONLY)
        defer { close(fd) }
        let b = try HostFS.readAll(fd, path: path, limit: limit + 1)
        if b.count > limit { throw .tooLarge(path, limit) }
        return String(decoding: b, as: UTF8.self)
    }
}

/// `dev-nodes`: one node a line, `PATH c MAJOR:MINOR MODE UID GID ACCESS`, where MODE is octal and
/// ACCESS is what the capturing process could do: `rw`, `r`, `w` or `-`. Lines starting with `#`
/// are comments.
public enum DeviceNodeManifest {
    /// "PATH c MAJOR:MINOR MODE UID GID ACCESS" lines; comments, blank and malformed lines are
    /// skipped. Byte by byte: a large host's manifest has a line per group and per device cdev.
    public static func parse(_ text: String) -> [String: DeviceNode] {
        var nodes: [String: DeviceNode] = [:]
        var text = text
        text.withUTF8 { b in
            func number(_ f: UnsafeBufferPointer<UInt8>.SubSequence, radix: UInt64 = 10) -> UInt32? {
                unsignedNumber(f, radix: radix).flatMap { UInt32(exactly: $0) }
            }
            var start = 0
            for i in 0...b.count where i == b.count || b[i] == 0x0a {
                let f = b[start..<i].split(whereSeparator: { $0 == 0x20 || $0 == 0x09 || $0 == 0x0d })
                start = i + 1
                guard f.count >= 7, f[0].first != UInt8(ascii: "#"), f[1].elementsEqual("c".utf8) else { continue }
                let mm = f[2].split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
                guard mm.count == 2, let major = number(mm[0]), let minor = number(mm[1]),
                      let mode = number(f[3], radix: 8), let uid = number(f[4]), let gid = number(f[5]) else { continue }
                let path = String(decoding: f[0], as: UTF8.self)
                nodes[path] = DeviceNode(path: path, major: major, minor: minor, mode: mode, uid: uid, gid: gid,
                                         readable: f[6].contains(UInt8(ascii: "r")), writable: f[6].contains(UInt8(ascii: "w")))
            }
        }
        return nodes
    }

    public static func render(_ nodes: [DeviceNode]) -> String {
        var s = "# PATH c MAJOR:MINOR MODE UID GID ACCESS(rw|r|w|-) -- written by vfio-probe\n"
        for n in nodes.sorted(by: { $0.path < $1.path }) {
            let access = (n.readable ? "r" : "") + (n.writable ? "w" : "")
            s += "\(n.path) c \(n.major):\(n.minor) \(String(n.mode, radix: 8)) \(n.uid) \(n.gid) \(access.isEmpty ? "-" : access)\n"
        }
        return s
    }
}

extension StringProtocol {
    var trimmed: String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
    var trimmingTrailingWhitespace: String {
        var s = Substring(self)
        while let l = s.last, l.isWhitespace || l == "\0" { s.removeLast() }
        return String(s)
    }
}
