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

    public func run(builtinIDs: Set<String>) -> [Finding] {
        guard let dir = opendir(directory) else {
            return explicit ? [Finding("plugins.directory", .warn, .host, "cannot read the checks directory \(directory): \(String(cString: strerror(errno)))",
                                       remedy: "Create it, or point --checks-dir at an existing directory.")] : []
        }
        var out: [Finding] = []
        for name in HostFS.names(of: dir) where !name.hasPrefix(".") {
            let path = directory + "/" + name
            var st = stat()
            guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, access(path, X_OK) == 0 else { continue }
            out += runOne(name: name, path: path, builtinIDs: builtinIDs)
        }
        return out
    }

    func runOne(name: String, path: String, builtinIDs: Set<String>) -> [Finding] {
        let pluginID = "plugins." + name
        let result = Spawn.run(path, arguments: ["--root", root],
                               environment: ["VFIO_PROBE_ROOT=\(root)", "VFIO_PROBE_VERSION=\(Report.toolVersion)", "PATH=/usr/sbin:/usr/bin:/sbin:/bin"],
                               timeoutMilliseconds: timeoutMilliseconds)
        // A site check that did not answer may have vetoed: what it would have said is unknown,
        // and unknown never grants.
        func unanswered(_ status: Status, _ summary: String) -> Finding {
            Finding(pluginID, status, .host, summary, remedy: "Fix the plugin or remove it from \(directory).",
                    impacts: Impact.undecided(Mode.usable, "the site check \(name) did not answer (\(summary))", ["fix or remove the site check \(path)"]))
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
        for (n, raw) in output.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmed
            if line.isEmpty || line.hasPrefix("#") { continue }
            func bad(_ why: String) {
                out.append(Finding(pluginID, .warn, .host, "plugin \(name), line \(n + 1): \(why)", detail: String(line.prefix(200)),
                                   impacts: Impact.undecided(Mode.usable, "the site check \(name) printed a line that is not a finding (line \(n + 1): \(why))",
                                                             ["fix the site check \(directory)/\(name)"])))
            }
            guard let v = try? JSONParser.parse(line) else { bad("not JSON"); continue }
            guard let id = v["id"]?.stringValue, let statusText = v["status"]?.stringValue, let summary = v["summary"]?.stringValue else {
                bad("needs id, status and summary"); continue
            }
            guard id.hasPrefix(Self.idPrefix), id.count > Self.idPrefix.count, !builtinIDs.contains(id) else {
                bad("id \"\(id)\" must start with \"\(Self.idPrefix)\""); continue
            }
            guard let status = Status(rawValue: statusText) else { bad("status \"\(statusText)\" is not pass, warn, fail, skip or info"); continue }
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
            out.append(Finding(id, status, subject, summary, detail: v["detail"]?.stringValue, remedy: v["remedy"]?.stringValue,
                               evidence: [Evidence(directory + "/" + name, "plugin")], impacts: impacts))
        }
        return out
    }
}

/// posix_spawn with pipes and a deadline: the only place the probe starts a process.
enum Spawn {
    enum Result {
        case exited(Int32, String, String)
        case timedOut(String)
        case failedToStart(Int32)
    }

    static func run(_ path: String, arguments: [String], environment: [String], timeoutMilliseconds: Int32) -> Result {
        var outPipe: [Int32] = [0, 0]
        var errPipe: [Int32] = [0, 0]
        guard vp_pipe_cloexec(&outPipe) == 0, vp_pipe_cloexec(&errPipe) == 0 else { return .failedToStart(errno) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &actions, nil, argv, envp)
        close(outPipe[1])
        close(errPipe[1])
        if rc != 0 {
            close(outPipe[0]); close(errPipe[0])
            return .failedToStart(rc)
        }
        var out: [UInt8] = [], err: [UInt8] = []
        var open: [Int32: Bool] = [outPipe[0]: true, errPipe[0]: true]
        var remaining = Int(timeoutMilliseconds)
        var timedOut = false
        var buf = [UInt8](repeating: 0, count: 8192)
        while open.values.contains(true) {
            var fds = open.filter(\.value).keys.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            let start = monotonicMilliseconds()
            let n = poll(&fds, nfds_t(fds.count), Int32(max(0, remaining)))
            remaining -= monotonicMilliseconds() - start
            if n < 0 && errno == EINTR { continue }
            if n <= 0 || remaining <= 0 { timedOut = n == 0 || remaining <= 0; break }
            for p in fds where p.revents != 0 {
                let got = buf.withUnsafeMutableBytes { read(p.fd, $0.baseAddress, $0.count) }
                if got <= 0 { open[p.fd] = false; continue }
                if p.fd == outPipe[0] { if out.count < 1 << 20 { out += buf[0..<got] } } else if err.count < 64 << 10 { err += buf[0..<got] }
            }
        }
        close(outPipe[0]); close(errPipe[0])
        if timedOut { kill(pid, SIGKILL) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let stdout = String(decoding: out, as: UTF8.self)
        if timedOut { return .timedOut(stdout) }
        let exit = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return .exited(exit, stdout, String(decoding: err, as: UTF8.self))
    }

    static func monotonicMilliseconds() -> Int {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return ts.tv_sec * 1000 + ts.tv_nsec / 1_000_000
    }
}
