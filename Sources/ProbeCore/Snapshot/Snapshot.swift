import SystemPackage
import CShim
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
        /// `--device` addresses that name no present function: nothing of them was copied.
        public var missing: [PCIAddress] = []
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
        for g in host.groups.keys { _ = fs.list("\(HostReader.iommuGroups)/\(g)/devices") }
        var w = Writer(fs: fs, out: HostFS.trimTrailingSlash(output))
        defer { if w.rootFD >= 0 { close(w.rootFD) } }
        try w.prepareOutput()
        for (path, access) in log.accesses { try w.write(path, access) }
        try w.finish(
            release: host.kernel.release.value, scope: scope, missing: host.missing,
            paths: log.accesses.filter { $0.1 != .unreadable }.map(\.0))
        w.summary.missing = host.missing
        return w.summary
    }

    /// Writes the tree into `OUT.partial`, made exclusively (mode 0700) so that no one else can
    /// put a link in it; every entry is made relative to its folder's descriptor without following
    /// a link (O_EXCL, O_NOFOLLOW: what exists already is an error); files keep the source's
    /// restrictions; the `partial` marker goes last, and the folder is renamed to OUT only then.
    struct Writer {
        let fs: HostFS
        let out: String
        var summary = Summary()
        var nodes: [DeviceNode] = []
        var unreadable: [String] = []
        var made: Set<String> = []
        /// Files a listing names whose contents were not read: made empty at the end, unless read.
        var listedOnly: [String: mode_t?] = [:]
        var rootFD: CInt = -1

        var partial: String { out + ".partial" }
        static let marker = HostFS.manifestDirectory + "/partial"

        func failure(_ what: String, _ e: CInt = errno) -> Failure { .output("\(what): \(String(cString: strerror(e)))") }

        mutating func prepareOutput() throws(Failure) {
            // OUT itself: absent, or an empty folder of this user's that no one else can enter.
            var st = stat()
            if lstat(out, &st) == 0 {
                guard (st.st_mode & S_IFMT) == S_IFDIR else { throw .output("\(out) exists and is not a folder") }
                guard st.st_uid == geteuid(), st.st_mode & 0o077 == 0 else {
                    throw .output("\(out) exists and is not this user's alone (mode 0700): choose a new folder")
                }
                guard let d = opendir(out) else { throw failure(out) }
                let empty = Syscalls.names(of: d).isEmpty
                closedir(d)
                if !empty { throw .output("\(out) exists and is not empty") }
            } else if errno == ENOENT || errno == ENOTDIR {
                try makeParents()
            } else {
                throw failure(out)
            }
            if mkdir(partial, 0o700) != 0 {
                if errno == EEXIST { throw .output("\(partial) exists (a snapshot that did not finish?): remove it first") }
                throw failure(partial)
            }
            rootFD = open(partial, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if rootFD < 0 { throw failure(partial) }
            // The folder opened is the one just made: this user's, 0700.
            var made = stat()
            guard fstat(rootFD, &made) == 0, made.st_uid == geteuid(), made.st_mode & 0o077 == 0 else {
                throw .output("\(partial) is not the folder this snapshot made")
            }
            try makeDirectory(HostFS.manifestDirectory)
            try writeFile(Writer.marker, Array("a snapshot is being written here\n".utf8), mode: 0o600)
        }

        /// `mkdir -p` of OUT's folder: each missing one made 0755 (less the umask), as mkdir -p does.
        func makeParents() throws(Failure) {
            let parts = out.split(separator: "/", omittingEmptySubsequences: false).dropLast()
            var path = out.hasPrefix("/") ? "" : "."
            for part in parts where !part.isEmpty {
                path += "/" + part
                var st = stat()
                if stat(path, &st) == 0 {
                    guard (st.st_mode & S_IFMT) == S_IFDIR else { throw .output("\(path) exists and is not a folder") }
                    continue
                }
                if errno != ENOENT { throw failure(path) }
                if mkdir(path, 0o755) != 0 && errno != EEXIST { throw failure(path) }
            }
        }

        /// The descriptor of `p`'s folder inside the tree (no link followed), and `p`'s name.
        func parent(_ p: String) throws(Failure) -> (fd: CInt, name: String, owned: Bool) {
            let (dir, name) = HostFS.split(p)
            if dir == "/" { return (rootFD, name, false) }
            do throws(Errno) {
                return (try Syscalls.openBeneath(rootFD, String(dir.dropFirst()), vp_O_PATH | O_DIRECTORY), name, true)
            } catch {
                throw failure(partial + dir, error.rawValue)
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
                // Of the kernel log, only the lines the matcher explains (KernelLogMatcher).
                let kept =
                    HostReader.isModulesAlias(path)
                    ? HostReader.variantAliasesOnly(path, bytes) : path == "/dev/kmsg" ? KernelLogMatcher.matchedOnly(bytes) : bytes
                try writeFile(join(parent, HostFS.split(path).1), kept, mode: fs.permissions(path))
            case .link(let target):
                guard let parent = try ensure(HostFS.split(path).0) else { return }
                try makeLink(join(parent, HostFS.split(path).1), target)
            case .directory(let names):
                guard let dir = try ensure(path) else { return }
                for name in names {
                    let child = join(dir, name)
                    switch fs.kind(child) {
                    case .directory: try makeDirectory(child)
                    case .link: if let t = fs.link(child).value { try makeLink(child, t) }
                    case .file: if !made.contains(child) { listedOnly[child] = fs.permissions(child) }
                    default: break
                    }
                }
            case .exists:
                _ = try ensure(path)
                if fs.kind(path) == .file, let parent = try ensure(HostFS.split(path).0) {
                    let p = join(parent, HostFS.split(path).1)
                    if !made.contains(p) { listedOnly[p] = fs.permissions(path) }
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
                    guard let t = fs.link(p).value else { return nil }
                    try makeLink(p, t)
                    guard let r = try ensure(Snapshot.normalize(t.hasPrefix("/") ? t : HostFS.split(p).0 + "/" + t), depth: depth + 1)
                    else { return nil }
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
            let (fd, name, owned) = try parent(p)
            defer { if owned { close(fd) } }
            if mkdirat(fd, name, 0o755) != 0 { throw failure(partial + p) }
            summary.directories += 1
        }

        mutating func makeLink(_ p: String, _ target: String) throws(Failure) {
            guard made.insert(p).inserted else { return }
            // Links stay relative so the tree is self-contained; absolute ones are rewritten.
            let t = target.hasPrefix("/") ? Snapshot.relative(from: HostFS.split(p).0, to: target) : target
            let (fd, name, owned) = try parent(p)
            defer { if owned { close(fd) } }
            if symlinkat(t, fd, name) != 0 { throw failure(partial + p) }
            summary.links += 1
        }

        /// A new file (never one that exists), readable by others only if the source was.
        mutating func writeFile(_ p: String, _ bytes: [UInt8], mode source: mode_t?) throws(Failure) {
            made.insert(p)
            summary.files += 1
            summary.bytes += bytes.count
            if summary.files > Snapshot.maxFiles { throw .tooLarge("more than \(Snapshot.maxFiles) files") }
            if summary.bytes > Snapshot.maxBytes { throw .tooLarge("more than \(Snapshot.maxBytes >> 20) MiB") }
            let mode = ((source ?? 0o600) & 0o644) | 0o600
            let (dir, name, owned) = try parent(p)
            defer { if owned { close(dir) } }
            let fd = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
            if fd < 0 { throw failure(partial + p) }
            defer { close(fd) }
            var rest = bytes[...]
            while !rest.isEmpty {
                let n = rest.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { throw failure(partial + p) }
                rest = rest.dropFirst(n)
            }
        }

        mutating func finish(release: String?, scope: Host.Scope, missing: [PCIAddress], paths: [String]) throws(Failure) {
            for (p, mode) in listedOnly.sorted(by: { $0.key < $1.key }) where !made.contains(p) { try writeFile(p, [], mode: mode) }
            let dir = HostFS.manifestDirectory
            if !nodes.isEmpty { try writeFile(dir + "/dev-nodes", Array(DeviceNodeManifest.render(nodes).utf8), mode: 0o644) }
            if !unreadable.isEmpty {
                try writeFile(dir + "/unreadable", Array((unreadable.joined(separator: "\n") + "\n").utf8), mode: 0o644)
            }
            let scopeLine: String =
                switch scope {
                case .all: "every PCI function"
                case .devices(let ds):
                    "only what --device \(ds.map(\.description).joined(separator: " --device ")) reads"
                        + (missing.isEmpty ? "" : " (no such device: \(missing.map(\.description).joined(separator: ", ")))")
                }
            let info = """
                vfio-probe \(Report.toolVersion) snapshot of \(fs.root == "/" ? "this host" : fs.root): \(scopeLine)
                kernel \(release ?? "unknown")
                Read it with: vfio-probe --root THIS-FOLDER --no-live
                dev-nodes: character devices (PATH c MAJOR:MINOR MODE UID GID ACCESS); unreadable: paths the capturing user could not read.

                Review it before you share it. It holds only what vfio-probe reads:
                \(Snapshot.contents(paths).map { "- " + $0 }.joined(separator: "\n"))

                """
            try writeFile(dir + "/README", Array(info.utf8), mode: 0o644)
            // Complete: the marker goes, then the folder takes its name.
            let (mfd, mname, owned) = try parent(Writer.marker)
            defer { if owned { close(mfd) } }
            if unlinkat(mfd, mname, 0) != 0 { throw failure(partial + Writer.marker) }
            if fsync(rootFD) != 0 { throw failure(partial) }
            if Glibc.rename(partial, out) != 0 { throw failure(out) }
            close(rootFD)
            rootFD = -1
        }

        func join(_ dir: String, _ name: String) -> String { dir == "/" ? "/" + name : dir + "/" + name }
    }

    /// What a snapshot of these paths holds, in words a user reviews before attaching it: the
    /// personal and site-specific items first. Only the items some path falls under; every file a
    /// snapshot copies falls under one (SnapshotCommandTests).
    static let contentItems: [(prefixes: [String], text: String)] = [
        (
            ["/proc/cmdline"],
            "/proc/cmdline: the kernel command line as booted (root=, UUIDs, and anything else passed on it)"
        ),
        (
            ["/etc/default/grub", "/etc/kernel/cmdline", "/boot/loader/entries"],
            "the next boot's command line: /etc/default/grub, /etc/kernel/cmdline, /boot/loader/entries"
        ),
        (
            ["/sys/class/dmi/id/"],
            "/sys/class/dmi/id: the machine's maker and model (sys_vendor, product_name) only; no serial number, UUID or asset tag (product_serial, product_uuid, board_serial, chassis_serial are not read)"
        ),
        (
            ["/proc/net/"],
            "/proc/net/route, ipv6_route, if_inet6: the routing tables and the IPv6 addresses (to tell which interfaces the host is reached through)"
        ),
        (["/sys/class/net"], "/sys/class/net: the network interfaces' names (no MAC address)"),
        (["/proc/self/mountinfo", "/proc/swaps"], "/proc/self/mountinfo, /proc/swaps: the mount points and swap devices"),
        (
            ["/proc/self/status", "/proc/self/limits"],
            "/proc/self/status, limits: the capturing process's user id, capabilities and limits"
        ),
        (
            ["/dev/kmsg"],
            "dev/kmsg: only the kernel log's records about the IOMMU, VFIO, resets and SEV-SNP that vfio-probe matches (kernel.log), in /dev/kmsg's record format (none when the log was unreadable)"
        ),
        (["/proc/iomem"], "/proc/iomem: the physical memory map (addresses, as root)"),
        (["/proc/cpuinfo"], "/proc/cpuinfo: the CPU model and flags"),
        (["/etc/os-release", "/usr/lib/os-release"], "/etc/os-release: the distribution"),
        (
            [
                "/etc/modprobe.d", "/run/modprobe.d", "/usr/lib/modprobe.d", "/usr/local/lib/modprobe.d", "/lib/modprobe.d",
                "/etc/driverctl.d",
            ],
            "modprobe.d and driverctl.d: module options and driver overrides"
        ),
        (
            ["/etc/initramfs-tools", "/etc/dracut.conf", "/usr/lib/dracut"],
            "initramfs-tools' modules file and dracut's configuration"
        ),
        (
            ["/sys/firmware/acpi/tables/"],
            "/sys/firmware/acpi/tables: the IOMMU tables (DMAR, IVRS, IORT, VIOT) with the firmware's OEM ids"
        ),
        (["/proc/config.gz", "/boot/config-"], "the kernel configuration"),
        (["/lib/modules/"], "/lib/modules: only modules.alias's vfio_pci lines and modules.builtin"),
        (
            ["/sys/bus/pci", "/sys/devices", "/sys/kernel/iommu_groups", "/sys/class/iommu"],
            "sysfs: the PCI functions' identities, drivers, config space and IOMMU groups; the IOMMU units"
        ),
        (["/sys/module/"], "/sys/module: module parameters"),
        (
            ["/proc/meminfo", "/sys/kernel/mm/", "/sys/devices/system/"],
            "memory, hugepage pools and NUMA nodes (/proc/meminfo, /sys/kernel/mm/hugepages, /sys/devices/system/node)"
        ),
        (["/proc/interrupts"], "/proc/interrupts: the interrupt controllers, with per-CPU counts"),
        (["/proc/sys/kernel/"], "/proc/sys/kernel: the kernel release, taint and dmesg_restrict"),
        (["/sys/class/block", "/sys/dev/block"], "/sys/class/block, /sys/dev/block: the disks' names and their devices"),
        (["/sys/bus/mdev", "/sys/class/mdev_bus"], "mdev parents, types and instances"),
        (["/sys/hypervisor/", "/sys/bus/vmbus"], "/sys/hypervisor, /sys/bus/vmbus: the hypervisor, when there is one"),
    ]

    public static func contents(_ paths: [String]) -> [String] {
        let items = contentItems
        return items.filter { item in paths.contains { p in item.prefixes.contains { p == $0 || p.hasPrefix($0) } } }.map(\.text)
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
