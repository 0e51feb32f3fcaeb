#if canImport(Glibc)
import Glibc
#endif
import CShim
import SystemPackage

/// A folder of the host, open, whose entries are read relative to it: what the reader uses for
/// each function and group, so that a path is resolved once rather than for every attribute.
///
/// Its verbs take one name (`read` also a path through real folders): an entry is opened beneath the folder without
/// following a link (O_NOFOLLOW), so nothing leads out of it; links are read, never followed.
/// In a tree, a file is looked at before it is opened and checked after, so that no FIFO,
/// socket or device node is opened. Every access is recorded under its full path, as HostFS
/// records its own. Owned by the code that opened it: it closes its descriptor when released.
public final class HostDirectory {
    /// Its path under the root.
    public let path: String
    private let fs: HostFS
    private let fd: CInt

    init(fs: HostFS, path: String, fd: CInt) {
        self.fs = fs
        self.path = path
        self.fd = fd
    }

    deinit { Syscalls.close(fd) }

    /// An attribute's bytes, at most `limit` of them (a page on 64 KiB-page hosts). `name` may
    /// also be a path through real folders beneath this one (a group's "12/type" beneath
    /// /sys/kernel/iommu_groups): no link on the way is followed.
    public func read(_ name: String, limit: Int = 64 << 10) -> Reading<[UInt8]> {
        fs.recorded(full(name), { .file($0) }) { () throws(HostFSError) in
            let f = try open(name, O_RDONLY)
            defer { Syscalls.close(f) }
            do throws(Errno) { return try Syscalls.read(f, limit: limit, oneShow: true) } catch { throw HostFSError(error, full(name)) }
        }
    }

    /// The full path of entry `name`: made only for the access log and for errors.
    private func full(_ name: String) -> String { path + "/" + name }

    /// Its entries, sorted.
    public func list() -> Reading<[String]> {
        fs.recorded(path, { .directory($0) }) { () throws(HostFSError) in
            let copy = fcntl(fd, F_DUPFD_CLOEXEC, 0)  // fdopendir takes the descriptor it is given
            if copy < 0 { throw HostFSError(Errno(rawValue: errno), path) }
            do throws(Errno) { return try Syscalls.list(copy).sorted() } catch { throw HostFSError(error, path) }
        }
    }

    /// The entries of its subfolder `name`, sorted.
    public func list(_ name: String) -> Reading<[String]> {
        fs.recorded(full(name), { .directory($0) }) { () throws(HostFSError) in
            let f = try open(name, O_RDONLY | O_DIRECTORY)
            do throws(Errno) { return try Syscalls.list(f).sorted() } catch { throw HostFSError(error, full(name)) }
        }
    }

    /// File `name`'s first `limit` bytes, then pieces of it on the same descriptor: `visit` gets
    /// the bytes and a reader of `count` bytes at an offset (nil when the read fails), and makes
    /// what it needs of them — a function's header and capability list, then its extended list
    /// header by header, where reading 4 KiB would be a thousand config cycles. What is read is
    /// recorded at its offset.
    public func read<T>(
        _ name: String, limit: Int, then visit: (_ head: [UInt8], _ read: (_ offset: Int, _ count: Int) -> [UInt8]?) -> T
    ) -> Reading<T> {
        fs.recorded(full(name), nil) { () throws(HostFSError) in
            let f = try open(name, O_RDONLY)
            defer { Syscalls.close(f) }
            let head: [UInt8]
            do throws(Errno) { head = try Syscalls.read(f, limit: limit, oneShow: true) } catch { throw HostFSError(error, full(name)) }
            fs.log?.record(full(name), piece: head, at: 0)
            return visit(head) { offset, count in
                guard let b = try? Syscalls.pread(f, count: count, offset: offset) else { return nil }
                fs.log?.record(full(name), piece: b, at: offset)
                return b
            }
        }
    }

    /// The target of link `name`, as stored.
    public func link(_ name: String) -> Reading<String> {
        fs.recorded(full(name), { .link($0) }) { () throws(HostFSError) in
            try fs.guardReadable(full(name))
            do throws(Errno) {
                return try Syscalls.readlink(fd, try HostDirectory.entry(name))
            } catch .invalidArgument {
                throw .notALink(full(name))
            } catch {
                throw HostFSError(error, full(name))
            }
        }
    }

    /// Subfolder `name`, opened beneath this one.
    public func directory(_ name: String) -> Reading<HostDirectory> {
        directory(name, as: full(name))
    }

    /// Subfolder `name`, opened beneath this one, known by `path` (for the log, the unreadable
    /// manifest and errors): a link's target reached through its parent, under the link's name —
    /// a PCI function's folder under /sys/bus/pci/devices/BDF.
    func directory(_ name: String, as path: String) -> Reading<HostDirectory> {
        fs.recorded(path, nil) { () throws(HostFSError) in
            try fs.guardReadable(path)
            do throws(Errno) {
                return HostDirectory(
                    fs: fs, path: path, fd: try Syscalls.openat(fd, try HostDirectory.entry(name), O_RDONLY | O_DIRECTORY | O_NOFOLLOW))
            } catch {
                throw HostFSError(error, path)
            }
        }
    }

    /// The character device `name` in this (/dev) folder, on the host itself.
    public func node(_ name: String) -> Reading<DeviceNode> {
        fs.recorded(full(name), { .node($0) }) { () throws(HostFSError) in
            do throws(Errno) { _ = try HostDirectory.entry(name) } catch { throw HostFSError(error, full(name)) }
            return try HostFS.statNode(fd, name, path: full(name))
        }
    }

    // MARK: opening

    /// Entry `name` opened beneath this folder with `flags`, no link followed. In a tree a file
    /// must be a regular file before and after it is opened, and the same one.
    private func open(_ name: String, _ flags: CInt) throws(HostFSError) -> CInt {
        try fs.guardReadable(full(name))
        let checked = !fs.isHostRoot && flags & O_DIRECTORY == 0
        do throws(Errno) {
            let through = name.utf8.contains(UInt8(ascii: "/"))  // a path through real folders ("12/type")
            let name = through ? name : try HostDirectory.entry(name)
            let before = checked ? try Syscalls.lstat(fd, name) : stat()
            if checked, (before.st_mode & S_IFMT) != S_IFREG {
                throw (before.st_mode & S_IFMT) == S_IFLNK ? Errno.tooManySymbolicLinkLevels : Errno.noSuchAddressOrDevice
            }
            let f = through ? try Syscalls.openBeneath(fd, name, flags) : try Syscalls.openat(fd, name, flags | O_NOFOLLOW)
            if checked {
                let after = try? Syscalls.fstat(f)
                guard let after, after.st_dev == before.st_dev, after.st_ino == before.st_ino, (after.st_mode & S_IFMT) == S_IFREG else {
                    Syscalls.close(f)
                    throw Errno.noSuchAddressOrDevice
                }
            }
            return f
        } catch {
            throw HostFSError(error, full(name))
        }
    }

    /// `name` when it is one entry of a folder (not empty, ".", ".." or a path), for the calls
    /// relative to the folder: none of them can then leave it.
    private static func entry(_ name: String) throws(Errno) -> String {
        guard !name.isEmpty, name != ".", name != "..", !name.utf8.contains(UInt8(ascii: "/")) else { throw .improperLink }
        return name
    }
}
