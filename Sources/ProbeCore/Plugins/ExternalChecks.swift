#if canImport(Glibc)
import Glibc
#endif
import CShim

/// Site checks: executables in a directory (default /etc/vfio-probe/checks.d), each run with the
/// analysed root, that print findings as JSON lines. See README "External checks" and
/// examples/checks.d/. A plugin that fails, hangs or prints nonsense becomes a finding; the probe
/// never crashes or waits past the timeout for it.
///
/// Protocol: the plugin is run as `PLUGIN --root ROOT` with VFIO_PROBE_ROOT and
/// VFIO_PROBE_VERSION in its environment and /dev/null on stdin; each stdout line is one finding:
/// `{"id": "site.name", "status": "pass|warn|fail|skip|info", "summary": "…", "remedy": "…",
/// "detail": "…", "device": "0000:01:00.0", "blocks": ["vfio", "noiommu"]}` (id, status and summary
/// required). Empty lines and lines starting with # are ignored.
public struct ExternalChecks: Sendable {
    public var directory: String
    public var root: String
    public var timeoutMilliseconds: Int32 = 5000
    /// Whether a missing directory is worth a finding (it was named on the command line).
    public var explicit: Bool

    public init(directory: String, root: String, explicit: Bool) {
        self.directory = directory
        self.root = root
        self.explicit = explicit
    }

    public static let idPrefix = "site."

    /// At most this many findings from one plugin; the rest are dropped, and that is said.
    public static let findingLimit = 100

    public func run(builtinIDs: Set<String>) -> [Finding] {
        // The directory, opened without following a link, and trusted only as a root-owned
        // /etc would be: see `Trust`.
        let dfd = open(directory, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard dfd >= 0 else {
            let e = errno
            if e == ENOENT && !explicit { return [] }
            return [
                Finding(
                    "plugins.directory", .warn, .host, "cannot read the checks directory \(directory): \(String(cString: strerror(e)))",
                    remedy: "Create it, or point --checks-dir at an existing directory.")
            ]
        }
        defer { close(dfd) }
        if let why = Trust.directoryProblem(dfd, path: directory) {
            return [
                Finding(
                    "plugins.directory", .fail, .host, "the checks directory \(directory) is refused: \(why)",
                    remedy:
                        "Make \(directory) and every folder above it owned by root (or by the user running vfio-probe) and writable by no one else.",
                    impacts: Impact.undecided(
                        Mode.usable, "the site checks in \(directory) were not run (\(why)): a veto they might make is unknown",
                        ["chown root: and chmod go-w \(directory) (and the folders above it)"]))
            ]
        }
        var out: [Finding] = []
        for name in Trust.names(dfd) where !name.hasPrefix(".") {
            let fd = vp_openat2(dfd, name, vp_O_PATH, vp_RESOLVE_BENEATH | vp_RESOLVE_NO_MAGICLINKS)
            if fd < 0 {
                let e = errno
                out.append(
                    refused(
                        name,
                        e == EXDEV ? "it is a link that leads out of \(directory)" : "it cannot be opened: \(String(cString: strerror(e)))")
                )
                continue
            }
            defer { close(fd) }
            var st = stat()
            guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, st.st_mode & 0o111 != 0 else { continue }  // not a program
            if let why = Trust.fileProblem(st) ?? Trust.interpreterProblem(fd) { out.append(refused(name, why)); continue }
            out += runOne(name: name, file: fd, builtinIDs: builtinIDs)
        }
        return out
    }

    /// A plugin that was not run: what it might have vetoed is unknown.
    func refused(_ name: String, _ why: String) -> Finding {
        Finding(
            "plugins." + name, .fail, .host, "plugin \(name) is refused: \(why)",
            remedy:
                "Make it a regular file owned by root (or by the user running vfio-probe) that no one else can write, inside \(directory).",
            impacts: Impact.undecided(
                Mode.usable, "the site check \(name) was not run (\(why))", ["fix or remove the site check \(directory)/\(name)"]))
    }

    func runOne(name: String, file: CInt, builtinIDs: Set<String>) -> [Finding] {
        let pluginID = "plugins." + name
        let path = directory + "/" + name
        let result = Spawn.run(
            file, arguments: [path, "--root", root],
            environment: ["VFIO_PROBE_ROOT=\(root)", "VFIO_PROBE_VERSION=\(Report.toolVersion)", "PATH=/usr/sbin:/usr/bin:/sbin:/bin"],
            timeoutMilliseconds: timeoutMilliseconds)
        // A site check that did not answer may have vetoed: what it would have said is unknown,
        // and unknown never grants.
        func unanswered(_ status: Status, _ summary: String) -> Finding {
            Finding(
                pluginID, status, .host, summary, remedy: "Fix the plugin or remove it from \(directory).",
                impacts: Impact.undecided(
                    Mode.usable, "the site check \(name) did not answer (\(summary))", ["fix or remove the site check \(path)"]))
        }
        switch result {
        case .failedToStart(let e):
            return [unanswered(.warn, "plugin \(name) could not be started: \(String(cString: strerror(e)))")]
        case .timedOut(let stdout):
            var fs = parse(name: name, output: stdout, builtinIDs: builtinIDs)
            fs.append(unanswered(.fail, "plugin \(name) did not finish within \(timeoutMilliseconds) ms and was killed"))
            return fs
        case .exited(let status, let stdout, let stderr):
            var fs = parse(name: name, output: stdout, builtinIDs: builtinIDs)
            if status != 0 {
                let tail = stderr.split(separator: "\n").suffix(3).joined(separator: " | ")
                fs.append(unanswered(.warn, "plugin \(name) exited with status \(status)\(tail.isEmpty ? "" : ": \(tail)")"))
            }
            return fs
        }
    }

    func parse(name: String, output: String, builtinIDs: Set<String>) -> [Finding] {
        var out: [Finding] = []
        let pluginID = "plugins." + name
        var kept = 0
        for (n, raw) in output.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmed
            if line.isEmpty || line.hasPrefix("#") { continue }
            if kept == Self.findingLimit {
                out.append(
                    Finding(
                        pluginID, .warn, .host, "plugin \(name) printed more than \(Self.findingLimit) findings: the rest are ignored",
                        impacts: Impact.undecided(
                            Mode.usable, "the site check \(name) printed more than \(Self.findingLimit) findings",
                            ["fix the site check \(directory)/\(name)"])))
                break
            }
            kept += 1
            func bad(_ why: String) {
                out.append(
                    Finding(
                        pluginID, .warn, .host, "plugin \(name), line \(n + 1): \(why)", detail: String(line.prefix(200)),
                        impacts: Impact.undecided(
                            Mode.usable, "the site check \(name) printed a line that is not a finding (line \(n + 1): \(why))",
                            ["fix the site check \(directory)/\(name)"])))
            }
            guard let v = try? JSONParser.parse(line) else { bad("not JSON"); continue }
            guard let id = v["id"]?.stringValue, let statusText = v["status"]?.stringValue, let summary = v["summary"]?.stringValue else {
                bad("needs id, status and summary"); continue
            }
            guard id.hasPrefix(Self.idPrefix), id.count > Self.idPrefix.count, !builtinIDs.contains(id) else {
                bad("id \"\(id)\" must start with \"\(Self.idPrefix)\""); continue
            }
            guard let status = Status(rawValue: statusText) else {
                bad("status \"\(statusText)\" is not pass, warn, fail, skip or info"); continue
            }
            var subject = Subject.host
            if let dev = v["device"]?.stringValue {
                guard let a = PCIAddress(dev) else { bad("device \"\(dev)\" is not a PCI address"); continue }
                subject = .device(a)
            }
            var impacts: [Impact] = []
            if case .array(let modes)? = v["blocks"] {
                // "vfio" vetoes the IOMMU path, so VFIO without interrupt isolation too.
                let named = modes.compactMap(\.stringValue).compactMap(Mode.init).flatMap { $0 == .vfio ? Mode.iommuBacked : [$0] }
                for m in Mode.usable where named.contains(m) {
                    impacts.append(.blocks(m, "\(id): \(summary)", fix: v["remedy"]?.stringValue.map { [$0] } ?? []))
                }
            }
            out.append(
                Finding(
                    id, status, subject, summary, detail: v["detail"]?.stringValue, remedy: v["remedy"]?.stringValue,
                    evidence: [Evidence(directory + "/" + name, "plugin")], impacts: impacts))
        }
        return out
    }
}

/// Who may provide the programs vfio-probe runs as root: a directory and every folder above it
/// owned by root or by this user and writable by no one else (a world-writable folder with the
/// sticky bit, such as /tmp, may sit above: no one else can rename what is in it), and files of
/// the same kind.
enum Trust {
    static func trusted(uid: uid_t) -> Bool { uid == 0 || uid == geteuid() }

    /// Whether the directory opened as `dfd` may be trusted: the path as given is walked from
    /// "/" one component at a time without following anything first — every folder on the way
    /// must be trusted (a sticky world-writable one, such as /tmp, as a container only), every
    /// link must be owned by root or this user (it sits in a folder already found trusted), and
    /// what the walk arrives at must be what was opened.
    static func directoryProblem(_ dfd: CInt, path: String) -> String? {
        var st = stat()
        guard fstat(dfd, &st) == 0 else { return String(cString: strerror(errno)) }
        var v = statvfs()
        let readOnly = fstatvfs(dfd, &v) == 0 && v.f_flag & UInt(ST_RDONLY) != 0
        if let why = ownershipProblem(st, what: "it"), !(trusted(uid: st.st_uid) && readOnly) { return why }
        var cwd = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let absolute = path.hasPrefix("/") ? path : (getcwd(&cwd, cwd.count) != nil ? cString(cwd) : "") + "/" + path
        var todo = absolute.split(separator: "/").map(String.init)
        var at = "/"
        var links = 0
        var root = stat()
        guard lstat("/", &root) == 0 else { return "/: \(String(cString: strerror(errno)))" }
        if let why = ownershipProblem(root, what: "/") { return why }
        while !todo.isEmpty {
            let c = todo.removeFirst()
            if c == "." || c.isEmpty { continue }
            if c == ".." { at = HostFS.split(at).0; continue }
            let p = at == "/" ? "/" + c : at + "/" + c
            var l = stat()
            guard lstat(p, &l) == 0 else { return "\(p): \(String(cString: strerror(errno)))" }
            if (l.st_mode & S_IFMT) == S_IFLNK {
                links += 1
                if links > 40 { return "\(p): too many links" }
                if !trusted(uid: l.st_uid) { return "\(p) is a link owned by uid \(l.st_uid), not root or this user" }
                var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
                let n = readlink(p, &buf, buf.count - 1)
                guard n > 0 else { return "\(p): \(String(cString: strerror(errno)))" }
                let target = String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
                if target.hasPrefix("/") { at = "/" }
                todo = target.split(separator: "/").map(String.init) + todo
                continue
            }
            guard (l.st_mode & S_IFMT) == S_IFDIR else { return "\(p) is not a folder" }
            let last = todo.allSatisfy { $0 == "." || $0.isEmpty }
            if !last, l.st_mode & S_ISVTX != 0, trusted(uid: l.st_uid) {
                at = p
                continue
            }
            // A read-only mount is written by no one, whatever its modes say (a Kubernetes
            // ConfigMap volume is root's, 1777, and mounted read-only).
            if let why = ownershipProblem(l, what: last ? "it" : p), !(trusted(uid: l.st_uid) && readOnlyMount(p)) { return why }
            at = p
        }
        // What was walked is what was opened (no swap between the open and the walk).
        var walked = stat()
        guard stat(at, &walked) == 0, walked.st_dev == st.st_dev, walked.st_ino == st.st_ino else {
            return "it changed while it was checked"
        }
        return nil
    }

    /// The `#!` interpreter of a script must be trusted as the script is: an absolute path to a
    /// file of root's or this user's, in folders no one else can write.
    static func interpreterProblem(_ fd: CInt) -> String? {
        let f = open("/proc/thread-self/fd/\(fd)", O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard f >= 0 else { return nil }
        defer { close(f) }
        var head = [UInt8](repeating: 0, count: 256)
        let n = read(f, &head, head.count)
        guard n > 2, head[0] == UInt8(ascii: "#"), head[1] == UInt8(ascii: "!") else { return nil }
        let line = String(decoding: head[2..<n].prefix { $0 != 0x0a }, as: UTF8.self)
        guard let interp = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).first.map(String.init) else {
            return "its #! line names no interpreter"
        }
        guard interp.hasPrefix("/") else { return "its interpreter \(interp) is not an absolute path" }
        let dir = HostFS.split(interp).0
        let dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dfd >= 0 else { return "its interpreter \(interp): \(String(cString: strerror(errno)))" }
        defer { close(dfd) }
        if let why = directoryProblem(dfd, path: dir) { return "its interpreter's folder \(dir): \(why)" }
        var ist = stat()
        guard stat(interp, &ist) == 0 else { return "its interpreter \(interp): \(String(cString: strerror(errno)))" }
        if let why = ownershipProblem(ist, what: "its interpreter \(interp)") { return why }
        return nil
    }

    static func readOnlyMount(_ path: String) -> Bool {
        var v = statvfs()
        return statvfs(path, &v) == 0 && v.f_flag & UInt(ST_RDONLY) != 0
    }

    static func fileProblem(_ st: stat) -> String? { ownershipProblem(st, what: "it") }

    static func ownershipProblem(_ st: stat, what: String) -> String? {
        if !trusted(uid: st.st_uid) { return "\(what) is owned by uid \(st.st_uid), not root or this user" }
        if st.st_mode & 0o022 != 0 { return "\(what) is writable by \(st.st_mode & 0o002 != 0 ? "every user" : "its group")" }
        return nil
    }

    /// The names in the open directory, sorted.
    static func names(_ dfd: CInt) -> [String] {
        let copy = dup(dfd)
        guard copy >= 0 else { return [] }
        return ((try? Syscalls.list(copy)) ?? []).sorted()
    }
}

/// posix_spawn with pipes and a deadline: the only place the probe starts a process. The
/// program runs from the descriptor that was checked, in a process group of its own with only
/// descriptors 0-2 (and 3, itself, for a script's interpreter); the group is killed at the
/// deadline, when the plugin is done, and if the probe is stopped meanwhile; the deadline holds
/// through the wait.
enum Spawn {
    enum Result {
        case exited(Int32, String, String)
        case timedOut(String)
        case failedToStart(Int32)
    }

    static func run(_ file: CInt, arguments: [String], environment: [String], timeoutMilliseconds: Int32) -> Result {
        let outPipe: (read: CInt, write: CInt), errPipe: (read: CInt, write: CInt)
        switch pipe() {
        case .success(let p): outPipe = p
        case .failure(let e): return .failedToStart(e.rawValue)
        }
        switch pipe() {
        case .success(let p): errPipe = p
        case .failure(let e):
            close(outPipe.read); close(outPipe.write)
            return .failedToStart(e.rawValue)
        }
        // What this run starts carries its mark, so that only its own strays are reaped.
        let mark = "VFIO_PROBE_PLUGIN=\(getpid())-\(monotonicMilliseconds())-\(UInt32.random(in: 0...UInt32.max))"
        let spawned = spawn(file, arguments: arguments, environment: environment + [mark], out: outPipe.write, err: errPipe.write)
        close(outPipe.write)
        close(errPipe.write)
        let pid: pid_t
        switch spawned {
        case .success(let p): pid = p
        case .failure(let e):
            close(outPipe.read); close(errPipe.read)
            return .failedToStart(e.rawValue)
        }
        let group = GroupGuard(group: pid)
        let exitFD = vp_pidfd_open(pid)
        var status: Int32 = 0
        var exited = false
        defer {
            if !exited { kill(-pid, SIGKILL) }  // whatever it started goes with it
            reapOrphans(mark: mark)  // and what left its group (setsid, setpgid) too
            group.end()
            if exitFD >= 0 { close(exitFD) }
            close(outPipe.read); close(errPipe.read)
        }
        var out: [UInt8] = [], err: [UInt8] = []
        var open: Set<Int32> = [outPipe.read, errPipe.read]
        let deadline = monotonicMilliseconds() + Int(timeoutMilliseconds)
        var buf = [UInt8](repeating: 0, count: 8192)
        // Its group is killed while the leader is still a zombie, so the group id cannot have been
        // handed to anyone else yet; then the leader is reaped.
        func reap() {
            guard !exited else { return }
            var info = siginfo_t()
            guard waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0, info._sifields._kill.si_pid == pid else { return }
            kill(-pid, SIGKILL)
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            exited = true
        }
        while !(exited && open.isEmpty) {
            let remaining = deadline - monotonicMilliseconds()
            if remaining <= 0 { break }
            var fds = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            if exitFD >= 0 && !exited { fds.append(pollfd(fd: exitFD, events: Int16(POLLIN), revents: 0)) }
            // Without pidfd (before 5.3), look at the child every 50 ms; once it is gone, what it
            // started may hold the pipes a moment longer, no more.
            let wait = exited ? min(remaining, 100) : exitFD >= 0 ? remaining : min(remaining, 50)
            let n = poll(&fds, nfds_t(fds.count), Int32(wait))
            if n < 0 && errno != EINTR { break }
            reap()
            for p in fds where p.revents != 0 && p.fd != exitFD {
                let got = read(p.fd, &buf, buf.count)
                if got <= 0 { open.remove(p.fd); continue }
                if p.fd == outPipe.read {
                    if out.count < 1 << 20 { out += buf[0..<got] }
                } else if err.count < 64 << 10 {
                    err += buf[0..<got]
                }
            }
            // Exited, but something it started keeps the pipes: done all the same.
            if exited && !open.isEmpty && n == 0 { break }
        }
        let stdout = String(decoding: out, as: UTF8.self)
        guard exited else {
            kill(-pid, SIGKILL)
            // Reaped once it is dead, within two seconds (a busy machine takes a moment to deliver
            // SIGKILL); one stuck in the kernel is left to init.
            let give = monotonicMilliseconds() + 2000
            while !exited && monotonicMilliseconds() < give {
                if exitFD >= 0 {
                    var p = [pollfd(fd: exitFD, events: Int16(POLLIN), revents: 0)]
                    _ = poll(&p, 1, Int32(max(1, give - monotonicMilliseconds())))
                } else {
                    usleep(10_000)
                }
                reap()
            }
            return .timedOut(stdout)
        }
        let code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return .exited(code, stdout, String(decoding: err, as: UTF8.self))
    }

    /// Kills and reaps the remaining children of this process whose environment holds `mark` (the
    /// run's VFIO_PROBE_PLUGIN=… entry): what a plugin left behind in a session or group of its own,
    /// reparented here (`spawn` made the probe a child subreaper). Other children are not touched.
    static func reapOrphans(mark: String) {
        let me = getpid()
        var empty = 0
        for _ in 0..<50 {
            var found = 0
            guard let dir = opendir("/proc") else { break }
            let names = Syscalls.names(of: dir)
            closedir(dir)
            for name in names {
                guard !name.isEmpty, name.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let pid = pid_t(name), pid > 0 else { continue }
                guard parent(of: pid) == me, environment(of: pid).contains(Array(mark.utf8)) else { continue }
                found += 1
                kill(pid, SIGKILL)
                var status: Int32 = 0
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            }
            if found == 0 {
                empty += 1
                if empty > 3 { break }
                usleep(20_000)  // a moment for what is being reparented
            } else {
                empty = 0
            }
        }
    }

    /// Up to `cap` bytes of a /proc file, nil when it cannot be read or is empty.
    static func procFile(_ path: String, cap: Int) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buf = [UInt8](repeating: 0, count: cap)
        let n = read(fd, &buf, cap)
        return n > 0 ? Array(buf[0..<n]) : nil
    }

    /// The parent in /proc/PID/stat: the field after the state, after the last ")" (a process's
    /// name may hold spaces and parentheses).
    static func parent(of pid: pid_t) -> pid_t? {
        guard let stat = procFile("/proc/\(pid)/stat", cap: 511), let paren = stat.lastIndex(of: UInt8(ascii: ")")) else { return nil }
        let fields = stat[(paren + 1)...].split(whereSeparator: { $0 == 0x20 || ($0 >= 0x09 && $0 <= 0x0d) })
        guard fields.count >= 2 else { return nil }
        return pid_t(String(decoding: fields[1], as: UTF8.self))
    }

    /// The NUL-separated entries of /proc/PID/environ (its first 64 KiB).
    static func environment(of pid: pid_t) -> [[UInt8]] {
        procFile("/proc/\(pid)/environ", cap: 65535)?.split(separator: 0, omittingEmptySubsequences: false).map(Array.init) ?? []
    }

    static func monotonicMilliseconds() -> Int {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return ts.tv_sec * 1000 + ts.tv_nsec / 1_000_000
    }
}
