#if canImport(Glibc)
import Glibc
#endif
import CShim
import SystemPackage

/// HostFS's system calls: the file half of the syscall seam, and the only place HostFS touches a
/// raw buffer. Each call is retried on EINTR; failures come back as `Errno`.
enum Syscalls {
    /// `body` again while it fails with EINTR; its result, or the errno it failed with.
    static func retrying(_ body: () -> CInt) throws(Errno) -> CInt {
        while true {
            let r = body()
            if r >= 0 { return r }
            if errno != EINTR { throw Errno(rawValue: errno) }
        }
    }

    /// The flags every open of the probe carries: it must never keep a descriptor across exec,
    /// block on a FIFO or take a terminal.
    static let openFlags = O_CLOEXEC | O_NONBLOCK | O_NOCTTY

    /// The columns of the terminal `fd` is (TIOCGWINSZ), nil when it is none.
    static func terminalColumns(_ fd: CInt) -> Int? {
        var size = winsize()
        let r = withUnsafeMutablePointer(to: &size) { Glibc.ioctl(fd, UInt(TIOCGWINSZ), $0) }
        return r == 0 && size.ws_col > 0 ? Int(size.ws_col) : nil
    }

    static func open(_ path: String, _ flags: CInt) throws(Errno) -> CInt {
        try retrying { Glibc.open(path, flags | openFlags) }
    }

    static func openat(_ dirfd: CInt, _ name: String, _ flags: CInt) throws(Errno) -> CInt {
        try retrying { Glibc.openat(dirfd, name, flags | openFlags) }
    }

    /// openat2(2) (Linux 5.6): ENOSYS before.
    static func openat2(_ dirfd: CInt, _ path: String, _ flags: CInt, resolve: UInt64) throws(Errno) -> CInt {
        // vp_openat2 retries EINTR and EAGAIN itself and never takes O_NONBLOCK with O_PATH.
        let fd = vp_openat2(dirfd, path, flags & vp_O_PATH != 0 ? flags : flags | O_NONBLOCK | O_NOCTTY, resolve)
        if fd < 0 { throw Errno(rawValue: errno) }
        return fd
    }

    static func close(_ fd: CInt) { _ = Glibc.close(fd) }

    /// What `name` beneath `dirfd` is, its final link not followed.
    static func lstat(_ dirfd: CInt, _ name: String) throws(Errno) -> stat {
        var st = stat()
        _ = try retrying { fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) }
        return st
    }

    static func fstat(_ fd: CInt) throws(Errno) -> stat {
        var st = stat()
        _ = try retrying { Glibc.fstat(fd, &st) }
        return st
    }

    /// `path` (relative, through real folders: "sys/bus/pci", "12/type") opened beneath `dirfd`
    /// with no link followed, so nothing leads out of `dirfd` (EXDEV for an empty, "." or ".."
    /// component): openat2(RESOLVE_NO_SYMLINKS), or one component at a time with O_NOFOLLOW on
    /// kernels before 5.6.
    static func openBeneath(_ dirfd: CInt, _ path: String, _ flags: CInt) throws(Errno) -> CInt {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard !parts.isEmpty, parts.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." }) else { throw .improperLink }
        do {
            return try openat2(dirfd, path, flags, resolve: vp_RESOLVE_NO_SYMLINKS | vp_RESOLVE_NO_MAGICLINKS)
        } catch .noFunction {}
        var at = dirfd
        for (i, part) in parts.enumerated() {
            let last = i == parts.count - 1
            let next: CInt
            do throws(Errno) {
                next = try openat(at, String(part), (last ? flags : vp_O_PATH | O_DIRECTORY) | O_NOFOLLOW)
            } catch {
                if at != dirfd { close(at) }
                throw error
            }
            if at != dirfd { close(at) }
            at = next
        }
        return at
    }

    /// Reads to end of file or `limit` bytes. procfs and sysfs hand a seq_file or a binary file
    /// out at most a page per read(2), so only a read of nothing is the end; `oneShow` is for a
    /// sysfs attribute, produced by one show(): a short read is all of it (as it is the end of a
    /// regular file in a tree), which saves the last, empty read.
    static func read(_ fd: CInt, limit: Int, oneShow: Bool = false) throws(Errno) -> [UInt8] {
        var out: [UInt8] = []
        var want = min(limit, 512)
        while want > 0 {
            let part = try read(fd, upTo: want)
            if out.isEmpty { out = part } else { out += part }
            if part.isEmpty || (oneShow && part.count < want) { break }
            if part.count == want { want = min(want * 4, limit - out.count) } else { want = min(want, limit - out.count) }
        }
        return out
    }
    /// One read(2) of at most `count` bytes.
    private static func read(_ fd: CInt, upTo count: Int) throws(Errno) -> [UInt8] {
        var failure: Errno?
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { buf, got in
            got = 0
            do {
                got = try FileDescriptor(rawValue: fd).read(into: UnsafeMutableRawBufferPointer(buf), retryOnInterrupt: true)
            } catch {
                failure = error as? Errno ?? .ioError
            }
        }
        if let failure { throw failure }
        return bytes
    }

    /// The records of /dev/kmsg open at `fd` (O_NONBLOCK), oldest first: one record per read(2)
    /// (devkmsg_read hands out one whole record, EINVAL when the buffer is smaller), until EAGAIN
    /// (no record left: the read never waits). EPIPE says records were overwritten before they
    /// were read (the reader's sequence number fell behind the ring): the next read resumes at
    /// the oldest record left, so it is counted and the read goes on. Stops after `maxRecords`
    /// records or `maxBytes` bytes (`capped`).
    static func readRecords(
        _ fd: CInt, maxRecords: Int, maxBytes: Int
    ) throws(Errno) -> (records: [[UInt8]], overwritten: Int, capped: Bool) {
        // CONSOLE_EXT_LOG_MAX (8192): the largest record devkmsg_read formats. One buffer for all
        // reads, each record copied out at its own size (a few dozen bytes, not 8 KiB each).
        var buffer = [UInt8](repeating: 0, count: 8192)
        return try readRecords(maxRecords: maxRecords, maxBytes: maxBytes) { () throws(Errno) in
            var failure: Errno?
            let n = buffer.withUnsafeMutableBytes { p -> Int in
                do { return try FileDescriptor(rawValue: fd).read(into: p, retryOnInterrupt: true) } catch {
                    failure = error as? Errno ?? .ioError
                    return 0
                }
            }
            if let failure { throw failure }
            return Array(buffer[0..<n])
        }
    }

    /// The loop of `readRecords(_:maxRecords:maxBytes:)` over `next`, one read(2) a call (a test
    /// scripts EAGAIN and EPIPE through it); any other error is the read's.
    static func readRecords(
        maxRecords: Int, maxBytes: Int, next: () throws(Errno) -> [UInt8]
    ) throws(Errno) -> (
        records: [[UInt8]], overwritten: Int, capped: Bool
    ) {
        var records: [[UInt8]] = []
        var bytes = 0
        var overwritten = 0
        while true {
            if records.count >= maxRecords || bytes >= maxBytes { return (records, overwritten, true) }
            do throws(Errno) {
                let r = try next()
                if r.isEmpty { return (records, overwritten, false) }
                bytes += r.count
                records.append(r)
            } catch .resourceTemporarilyUnavailable {
                return (records, overwritten, false)
            } catch .brokenPipe {
                overwritten += 1
                if overwritten > maxRecords { return (records, overwritten, true) }
            }
        }
    }

    /// One pread(2) of at most `count` bytes at `offset`.
    static func pread(_ fd: CInt, count: Int, offset: Int) throws(Errno) -> [UInt8] {
        var failure: Errno?
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { buf, got in
            got = 0
            do {
                got = try FileDescriptor(rawValue: fd).read(
                    fromAbsoluteOffset: Int64(offset), into: UnsafeMutableRawBufferPointer(buf), retryOnInterrupt: true)
            } catch {
                failure = error as? Errno ?? .ioError
            }
        }
        if let failure { throw failure }
        return bytes
    }

    /// The target of the link `name` beneath `dirfd` (or of the absolute `name` with AT_FDCWD).
    static func readlink(_ dirfd: CInt, _ name: String) throws(Errno) -> String {
        // sysfs targets are a few dozen bytes: a small buffer first, a page when it fills.
        for size in [256, 4096] {
            var failure: Errno?
            let target = [UInt8](unsafeUninitializedCapacity: size) { buf, count in
                let n = readlinkat(dirfd, name, UnsafeMutableRawPointer(buf.baseAddress!).assumingMemoryBound(to: CChar.self), size)
                if n < 0 { failure = Errno(rawValue: errno) }
                count = max(n, 0)
            }
            if let failure { throw failure }
            if target.count < size { return String(decoding: target, as: UTF8.self) }
        }
        throw .fileNameTooLong
    }

    /// Every name in the directory open at `fd` but "." and "..", in the order the kernel gives
    /// them. Takes `fd` over (closes it).
    static func list(_ fd: CInt) throws(Errno) -> [String] {
        guard let dir = fdopendir(fd) else {
            let e = Errno(rawValue: errno)
            close(fd)
            throw e
        }
        defer { closedir(dir) }
        return names(of: dir)
    }

    /// Every name a directory stream yields but "." and "..".
    static func names(of dir: OpaquePointer) -> [String] {
        var names: [String] = []
        while let ent = readdir(dir) {
            let name = withUnsafePointer(to: ent.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Whether this process may read (and write) `name` beneath `dirfd`, by its effective ids (so
    /// ACLs and LSMs count).
    static func access(_ dirfd: CInt, _ name: String, _ mode: CInt) -> Bool {
        faccessat(dirfd, name, mode, AT_EACCESS) == 0
    }
}
