import Foundation
import Testing
@testable import ProbeCore
@testable import Live

/// The attacks of the hardening review, performed: each is refused or contained.
struct HardeningTests {
    func cleanUp(_ root: String) { try? FileManager.default.removeItem(atPath: (root as NSString).deletingLastPathComponent) }

    /// An escape sequence in a uevent and "\r\n" in a kernel release: the terminal shows them as
    /// \xNN, and neither the Prometheus nor the NFD file gains a line.
    @Test func controlCharactersAreEscaped() throws {
        let t = try scratchFixture(.intelVFIOReady) { root in
            let ue = root + "/sys/devices/pci0000:00/0000:00:01.0/0000:01:00.1/uevent"
            let text = try String(contentsOfFile: ue, encoding: .utf8)
                .replacingOccurrences(of: "DRIVER=i40e", with: "DRIVER=i40e\u{1b}[2J\u{1b}[HVerdict: VFIO -- all good\u{9b}1m")
            try text.write(toFile: ue, atomically: true, encoding: .utf8)
            try "6.12.95\r\nvfio_probe_mode 3\n".write(toFile: root + "/proc/sys/kernel/osrelease", atomically: true, encoding: .utf8)
        }
        defer { cleanUp(t) }
        let text = try runBinary(["--root", t, "--color", "never"]).stdout
        #expect(!text.unicodeScalars.contains { $0.value == 0x1b || $0.value == 0x9b || $0.value == 0x0d })
        #expect(text.contains("i40e\\x1b[2J\\x1b[HVerdict: VFIO -- all good\\xc2\\x9b1m"))
        let prom = try runBinary(["--root", t, "--format", "prometheus"]).stdout
        #expect(!prom.unicodeScalars.contains { $0.value == 0x0d })
        #expect(prom.split(separator: "\n").filter { $0.hasPrefix("vfio_probe_mode ") }.count == 1, "no injected sample")
        let lines = prom.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.allSatisfy { $0.isEmpty || $0.hasPrefix("#") || $0.hasPrefix("vfio_probe_") })
        let nfd = try runBinary(["--root", t, "--format", "nfd"]).stdout
        #expect(nfd.split(separator: "\n").allSatisfy { $0.hasPrefix("#") || $0.hasPrefix("vfio.") })
    }

    @Test func escapingOverScalars() {
        #expect(Escaping.terminal("a\r\nb") == "a\\x0d\\x0ab")
        #expect(Escaping.prometheusLabel("x\r\ny\"z\\") == "x\\\\x0d\\ny\\\"z\\\\")
        #expect(Escaping.oneLine("a\r\nb\u{7f}") == "a??b?")
    }
}

/// What runs unattended resets nothing: only a --device run opens devices by default.
struct LivePolicyTests {
    @Test func onlyADeviceRunOpensDevices() throws {
        var o = Pipeline.Options()
        #expect(!o.opensDevices, "a whole-host run (and every timer or fleet run) resets nothing")
        o.devices = [PCIAddress("0000:01:00.0")!]
        #expect(o.opensDevices)
        o.deviceOpen = false
        #expect(!o.opensDevices)
        o.devices = []
        o.deviceOpen = true
        #expect(o.opensDevices)
        #expect(try runBinary(["--device-open", "--no-device-open"]).status == 64)
    }

    /// Another vfio-probe run holding the group is "busy: retry", not an action.
    @Test func anotherProbeIsBusyNotAHolderToStop() throws {
        var walk = LiveWalk(kind: .type1, steps: [LiveStep(.open(.container), .ok), LiveStep(.open(.group(10)), .failed(.resourceBusy))])
        walk.facts.holders = ["pid 77 (vfio-probe)"]
        let host = HostReader(fs: try HostFS(root: HostFixture.intelVFIOReady.path), lookUpNames: false).read(scope: .all)
        let diag = try #require(LiveDiagnosis.of(walk, device: host.device(PCIAddress("0000:01:00.0")!), host: host))
        #expect(diag.impacts.allSatisfy { $0.kind == .undecided })
        #expect(!diag.impacts.flatMap(\.actions).contains { $0.hasPrefix("stop") })
    }
}

/// Site check plugins run as root: only from a directory and files nobody else controls, from
/// the descriptor that was checked, in a process group of their own, within the deadline.
struct PluginTrustTests {
    func dir(_ scripts: [String: String]) throws -> String { try pluginDirectory(scripts) }
    func run(_ d: String, timeout: Int32 = 1000) -> [Finding] {
        var ext = ExternalChecks(directory: d, root: HostFixture.intelVFIOReady.path, explicit: true)
        ext.timeoutMilliseconds = timeout
        return ext.run(builtinIDs: [])
    }
    static let ok = #"echo '{"id": "site.ok", "status": "pass", "summary": "ran"}'"#

    @Test func worldWritableDirectoryIsRefused() throws {
        let d = try dir(["p": Self.ok])
        defer { try? FileManager.default.removeItem(atPath: d) }
        chmod(d, 0o777)
        let f = run(d)
        #expect(f.map(\.checkID) == ["plugins.directory"])
        #expect(f.first?.summary.contains("writable by every user") == true)
        #expect(f.first?.impacts.contains { $0.kind == .undecided } == true, "a check that did not run grants nothing")
    }

    @Test func pluginOwnedByAnotherUserIsRefused() throws {
        let d = try dir(["p": Self.ok])
        defer { try? FileManager.default.removeItem(atPath: d) }
        guard geteuid() == 0 else { return }  // only root can give a file away
        chown(d + "/p", 1000, 1000)
        let f = run(d)
        #expect(f.first?.checkID == "plugins.p" && f.first?.summary.contains("owned by uid 1000") == true)
        #expect(!f.contains { $0.checkID == "site.ok" })
    }

    @Test func linksOnlyInsideTheDirectory() throws {
        let outside = try dir(["evil": Self.ok])
        let d = try dir([:])
        defer { [d, outside].forEach { try? FileManager.default.removeItem(atPath: $0) } }
        try FileManager.default.createSymbolicLink(atPath: d + "/out", withDestinationPath: outside + "/evil")
        // A ConfigMap's layout: name -> ..data/name, ..data -> ..2026_12_01, a real folder.
        try FileManager.default.createDirectory(atPath: d + "/..2026_12_01", withIntermediateDirectories: true)
        try ("#!/bin/sh\n" + Self.ok + "\n").write(toFile: d + "/..2026_12_01/cm", atomically: true, encoding: .utf8)
        chmod(d + "/..2026_12_01/cm", 0o755)
        try FileManager.default.createSymbolicLink(atPath: d + "/..data", withDestinationPath: "..2026_12_01")
        try FileManager.default.createSymbolicLink(atPath: d + "/cm", withDestinationPath: "..data/cm")
        let f = run(d)
        #expect(f.contains { $0.checkID == "plugins.out" && $0.summary.contains("leads out of") })
        #expect(f.contains { $0.checkID == "site.ok" }, "the ConfigMap plugin ran")
        #expect(f.filter { $0.checkID == "site.ok" }.count == 1, "the outside one did not")
    }

    /// A plugin that closes its pipes and sleeps, and one that leaves a child behind: the probe
    /// returns at the deadline and nothing of theirs is left running.
    @Test func hangingAndForkingPluginsAreContained() throws {
        let marker = "vp-hang-\(getpid())"
        let d = try dir([
            "hang": "exec >&- 2>&-; exec sleep 30 # \(marker)",
            "fork": "(sleep 30; echo \(marker)) & echo '{\"id\": \"site.fork\", \"status\": \"pass\", \"summary\": \"forked\"}'",
        ])
        defer { try? FileManager.default.removeItem(atPath: d) }
        let start = Date()
        let f = run(d, timeout: 800)
        #expect(Date().timeIntervalSince(start) < 5)
        #expect(f.contains { $0.checkID == "plugins.hang" && $0.summary.contains("did not finish within 800 ms") })
        #expect(f.contains { $0.checkID == "site.fork" })
        #expect(try survivors("[s]leep 30") == 0, "no sleep of theirs survives")
    }

    /// Only 0-2 (and 3, the script itself) reach a plugin, whatever the caller had open.
    @Test func noInheritedDescriptors() throws {
        let d = try dir(["fds": #"printf '{"id": "site.fds", "status": "info", "summary": "%s"}\n' "$(ls /proc/self/fd | tr '\n' ' ')""#])
        defer { try? FileManager.default.removeItem(atPath: d) }
        let r = try runBinary(
            [
                "-c", "exec 5</dev/null 7</dev/null; exec \"$0\" --root \"$1\" --checks-dir \"$2\" --format json",
                Repo.binary, HostFixture.intelVFIOReady.path, d,
            ], executable: "/bin/sh")
        let line = try #require(
            r.stdout.split(separator: "\n").first { $0.contains("site.fds") }
                ?? r.stdout.split(separator: "\n").first { $0.contains("\"summary\"") && $0.contains(" 0 1 2") })
        #expect(!line.contains(" 5 ") && !line.contains(" 7 "), "\(line)")
    }

    @Test func findingsAreCapped() throws {
        let d = try dir([
            "many": #"i=0; while [ $i -lt 500 ]; do echo '{"id": "site.n", "status": "info", "summary": "x"}'; i=$((i+1)); done"#
        ])
        defer { try? FileManager.default.removeItem(atPath: d) }
        let f = run(d, timeout: 3000)
        #expect(f.filter { $0.checkID == "site.n" }.count == ExternalChecks.findingLimit)
        #expect(f.contains { $0.checkID == "plugins.many" && $0.summary.contains("more than 100") })
    }
}

/// `snapshot --output` runs as root into folders others may have prepared: it writes nothing
/// through a link, into nothing it did not make, and a snapshot that did not finish is never
/// read as one that did.
struct SnapshotOutputTests {
    let source = HostFixture.intelVFIOReady.path

    @Test func plantedLinkIsRefused() throws {
        let d = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: d) }
        try "secret\n".write(toFile: d + "/victim", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: d + "/snap", withDestinationPath: d + "/victim")
        #expect(throws: Snapshot.Failure.self) { try Snapshot.capture(root: source, scope: .all, output: d + "/snap") }
        // A planted DIR.partial (a link, or a folder with a link in it) is refused too.
        try FileManager.default.createDirectory(atPath: d + "/other.partial", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: d + "/other.partial/proc", withDestinationPath: d + "/victim")
        #expect(throws: Snapshot.Failure.self) { try Snapshot.capture(root: source, scope: .all, output: d + "/other") }
        #expect(try String(contentsOfFile: d + "/victim", encoding: .utf8) == "secret\n")
    }

    @Test func anExistingFolderMustBeEmptyAndPrivate() throws {
        let d = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: d) }
        try FileManager.default.createDirectory(atPath: d + "/open", withIntermediateDirectories: true)
        chmod(d + "/open", 0o755)
        #expect(throws: Snapshot.Failure.self) { try Snapshot.capture(root: source, scope: .all, output: d + "/open") }
        try FileManager.default.createDirectory(atPath: d + "/private", withIntermediateDirectories: true)
        chmod(d + "/private", 0o700)
        let s = try Snapshot.capture(root: source, scope: .all, output: d + "/private")
        #expect(s.files > 10)
        #expect(!FileManager.default.fileExists(atPath: d + "/private.partial"))
        #expect(!FileManager.default.fileExists(atPath: d + "/private/vfio-probe-snapshot/partial"))
        var st = stat()
        #expect(stat(d + "/private", &st) == 0 && st.st_mode & 0o777 == 0o700)
    }

    /// Root-only sources stay root-only: a 0400 ACPI table is copied 0600, not 0644.
    @Test func sourceModesAreKept() throws {
        let t = try scratchFixture(.intelVFIOReady) { chmod($0 + "/sys/firmware/acpi/tables/DMAR", 0o400) }
        defer { try? FileManager.default.removeItem(atPath: (t as NSString).deletingLastPathComponent) }
        let out = (t as NSString).deletingLastPathComponent + "/snap"
        _ = try Snapshot.capture(root: t, scope: .all, output: out)
        var st = stat()
        #expect(stat(out + "/sys/firmware/acpi/tables/DMAR", &st) == 0 && st.st_mode & 0o777 == 0o600)
        #expect(stat(out + "/proc/cmdline", &st) == 0 && st.st_mode & 0o077 == 0o044)
    }

    @Test func anUnfinishedSnapshotIsNotReadAsOne() throws {
        let t = try scratchFixture(.intelVFIOReady) {
            try "x\n".write(toFile: $0 + "/vfio-probe-snapshot/partial", atomically: true, encoding: .utf8)
        }
        defer { try? FileManager.default.removeItem(atPath: (t as NSString).deletingLastPathComponent) }
        let r = try runBinary(["--root", t, "--quiet"])
        #expect(r.status == 1 && r.stderr.contains("a snapshot that did not finish"))
    }
}

/// A tree from someone else (a snapshot attached to a bug report) is data, not a place to run
/// into: no FIFO hangs the probe, no device node in it is opened, no manifest is read past 4 MiB,
/// and without openat2 no tree is read at all.
struct CraftedTreeTests {
    func cleanUp(_ root: String) { try? FileManager.default.removeItem(atPath: (root as NSString).deletingLastPathComponent) }

    @Test func fifosDoNotHang() throws {
        let t = try scratchFixture(.intelVFIOReady) { root in
            try FileManager.default.removeItem(atPath: root + "/proc/cmdline")
            mkfifo(root + "/proc/cmdline", 0o644)
            let ue = root + "/sys/devices/pci0000:00/0000:00:01.0/0000:01:00.1/uevent"
            try FileManager.default.removeItem(atPath: ue)
            mkfifo(ue, 0o644)
            try FileManager.default.removeItem(atPath: root + "/vfio-probe-snapshot/dev-nodes")
            mkfifo(root + "/vfio-probe-snapshot/dev-nodes", 0o644)
        }
        defer { cleanUp(t) }
        let start = Date()
        let r = try runBinary(["--root", t, "--format", "json"])
        #expect(Date().timeIntervalSince(start) < 10)
        #expect(r.status == 1, "the manifest is no file: the tree is refused, said at once: \(r.stderr)")
        #expect(r.stderr.contains("not a regular file"))
        // Without the FIFO manifest, the other two are unreadable facts, not hangs.
        try FileManager.default.removeItem(atPath: t + "/vfio-probe-snapshot/dev-nodes")
        let again = try runBinary(["--root", t, "--format", "json"])
        #expect(again.stdout.contains("/proc/cmdline: not a regular file"))
    }

    @Test func deviceNodesInATreeAreNeverOpened() throws {
        guard geteuid() == 0 else { return }  // mknod needs CAP_MKNOD
        let t = try scratchFixture(.intelVFIOReady) { root in
            let cfg = root + "/sys/devices/pci0000:00/0000:00:01.0/0000:01:00.1/config"
            try FileManager.default.removeItem(atPath: cfg)
            #expect(mknod(cfg, S_IFCHR | 0o600, (1 << 8) | 3) == 0)  // /dev/null's numbers
        }
        defer { cleanUp(t) }
        let fs = try HostFS(root: t)
        #expect(fs.read("/sys/bus/pci/devices/0000:01:00.1/config") == .unreadable(.notAFile("/sys/bus/pci/devices/0000:01:00.1/config")))
        let dir = try #require(fs.directory("/sys/devices/pci0000:00/0000:00:01.0/0000:01:00.1").value)
        #expect(dir.read("config").failure == .notAFile("/sys/devices/pci0000:00/0000:00:01.0/0000:01:00.1/config"))
        let r = try runBinary(["--root", t, "--format", "json"])
        #expect(r.stdout.contains("not a regular file"))
    }

    @Test func aSparseManifestIsRefusedQuickly() throws {
        let t = try scratchFixture(.intelVFIOReady) { root in
            let m = root + "/vfio-probe-snapshot/unreadable"
            #expect(FileManager.default.createFile(atPath: m, contents: nil))
            #expect(truncate(m, 1 << 30) == 0)
        }
        defer { cleanUp(t) }
        let start = Date()
        let r = try runBinary(["--root", t, "--quiet"])
        #expect(Date().timeIntervalSince(start) < 5)
        #expect(r.status == 1 && r.stderr.contains("larger than 4 MiB"))
    }

    /// Without openat2 (a seccomp filter answers ENOSYS, as a kernel before 5.6 does), a tree is
    /// refused rather than read by a path its links could lead out of.
    @Test func noOpenat2NoTree() throws {
        let helper = Repo.root + "/Tests/Support/without-openat2.py"
        let r = try runBinary(
            ["python3", helper, Repo.binary, "--root", HostFixture.intelVFIOReady.path, "--quiet"], executable: "/usr/bin/env")
        #expect(r.status == 1)
        #expect(r.stderr.contains("this kernel has no openat2"))
    }
}

/// The holder of a VFIO node is named by what its descriptor refers to, not by the name a link
/// shows: a process in a mount namespace of its own can make /proc/PID/fd/N read any path.
struct HolderScanTests {
    @Test func aNameInAnotherNamespaceIsNotTheNode() throws {
        guard geteuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare") else { return }
        let fake = try scratchDirectory() + "/fake"
        defer { try? FileManager.default.removeItem(atPath: (fake as NSString).deletingLastPathComponent) }
        try "not a device\n".write(toFile: fake, atomically: true, encoding: .utf8)
        // In its own mount namespace, a regular file bound over /dev/null, held open as fd 9.
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        p.arguments = ["-m", "--propagation", "private", "sh", "-c", "mount --bind \(fake) /dev/null && exec 9</dev/null && exec sleep 5"]
        try p.run()
        defer { p.terminate() }
        // Wait (boundedly) for fd 9 to be open; without mount namespaces there is nothing to attack with.
        var link: String?
        for _ in 0..<60 where link == nil && p.isRunning {
            usleep(50_000)
            link = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(p.processIdentifier)/fd/9")
        }
        guard p.isRunning, link != nil else { return }
        #expect(link == "/dev/null", "the link reads /dev/null, though it is a regular file")
        let holders = Holders.of("/dev/null", fs: try HostFS(root: "/"))
        #expect(!holders.contains { $0.hasPrefix("pid \(p.processIdentifier) ") }, "\(holders)")
    }
}

/// The attacker review's findings, performed again.
struct HardeningReviewTests {
    /// A link in a folder the attacker owns, pointing at a trusted folder of programs: refused,
    /// with or without a trailing slash.
    @Test func aLinkThroughAnUntrustedFolderIsRefused() throws {
        guard geteuid() == 0 else { return }
        let base = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: base) }
        let programs = try pluginDirectory(["sys": #"echo '{"id": "site.sys", "status": "pass", "summary": "ran"}'"#])
        defer { try? FileManager.default.removeItem(atPath: programs) }
        try FileManager.default.createDirectory(atPath: base + "/home-alice", withIntermediateDirectories: true)
        chown(base + "/home-alice", 1001, 1001)
        try FileManager.default.createSymbolicLink(atPath: base + "/home-alice/checks", withDestinationPath: programs)
        lchown(base + "/home-alice/checks", 1001, 1001)
        for dir in [base + "/home-alice/checks", base + "/home-alice/checks/"] {
            let f = ExternalChecks(directory: dir, root: "/", explicit: true).run(builtinIDs: [])
            #expect(!f.contains { $0.checkID == "site.sys" }, "\(dir)")
            #expect(f.first?.checkID == "plugins.directory", "\(dir): \(f.map(\.summary))")
        }
    }

    /// What a plugin starts in a session or group of its own is killed and reaped all the same.
    @Test func escapedChildrenAreReaped() throws {
        let marker = "vp-escape-\(getpid())"
        let d = try pluginDirectory([
            "escape":
                "setsid sleep 61 & (exec -a \(marker) sleep 62) & echo '{\"id\": \"site.e\", \"status\": \"pass\", \"summary\": \"x\"}'"
        ])
        defer { try? FileManager.default.removeItem(atPath: d) }
        var ext = ExternalChecks(directory: d, root: HostFixture.intelVFIOReady.path, explicit: true)
        ext.timeoutMilliseconds = 2000
        #expect(ext.run(builtinIDs: []).contains { $0.checkID == "site.e" })
        #expect(try survivors("[s]leep 6[12]") == 0)
    }

    @Test func anUntrustedInterpreterIsRefused() throws {
        let d = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: d) }
        try "#!tmp/evil\necho hi\n".write(toFile: d + "/rel", atomically: true, encoding: .utf8)
        chmod(d + "/rel", 0o755)
        let f = ExternalChecks(directory: d, root: "/", explicit: true).run(builtinIDs: [])
        #expect(f.contains { $0.checkID == "plugins.rel" && $0.summary.contains("not an absolute path") })
    }

    /// Thousands of links to one function's folder are not thousands of functions.
    @Test func aliasLinksNameNoFunction() throws {
        let t = try scratchFixture(.intelVFIOReady) { root in
            for i in 0..<50 {
                try FileManager.default.createSymbolicLink(
                    atPath: root + String(format: "/sys/bus/pci/devices/0000:02:%02x.0", i),
                    withDestinationPath: "../../../devices/pci0000:00/0000:00:1f.0")
            }
        }
        defer { try? FileManager.default.removeItem(atPath: (t as NSString).deletingLastPathComponent) }
        let r = try probeRoot(t)
        #expect(!r.host.devices.keys.contains { $0.bus == 2 })
        #expect(r.host.readProblems.contains { $0.contains("links to a folder that is not its own") })
    }

    @Test func bidiAndPathsAreEscaped() throws {
        #expect(Escaping.terminal("a\u{202E}b\u{2028}c") == "a\\xe2\\x80\\xaeb\\xe2\\x80\\xa8c")
        let d = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: d) }
        let name = d + "/DMAR\u{1b}]0;PWN\u{07}"
        try Data([0x44, 0x4d, 0x41, 0x52, 0xff, 0, 0, 0]).write(to: URL(fileURLWithPath: name))
        let r = try runBinary(["acpi", name])
        #expect(!r.stdout.unicodeScalars.contains { $0.value == 0x1b || $0.value == 0x07 })
        let root = try runBinary(["--root", d + "/\u{1b}[2Jnope", "--quiet"])
        #expect(!root.stderr.unicodeScalars.contains { $0.value == 0x1b })
    }
}

/// A Kubernetes ConfigMap volume: root's, mode 1777, mounted read-only, files behind ..data links.
struct ConfigMapPluginTests {
    @Test func aReadOnlyConfigMapVolumeIsTrusted() throws {
        guard geteuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare") else { return }
        let d = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: d) }
        try FileManager.default.createDirectory(atPath: d + "/cm", withIntermediateDirectories: true)
        let script = """
            mount -t tmpfs -o mode=1777 tmpfs \(d)/cm || exit 99
            mkdir \(d)/cm/..2026_12_01 && printf '#!/bin/sh\\necho "{\\\\"id\\\\": \\\\"site.cm\\\\", \\\\"status\\\\": \\\\"pass\\\\", \\\\"summary\\\\": \\\\"ran\\\\"}"\\n' > \(d)/cm/..2026_12_01/p
            chmod 755 \(d)/cm/..2026_12_01/p && ln -s ..2026_12_01 \(d)/cm/..data && ln -s ..data/p \(d)/cm/p
            mount -o remount,ro \(d)/cm || exit 99
            exec "$0" --root "$1" --checks-dir \(d)/cm --format json
            """
        let r = try runBinary(
            ["-m", "--propagation", "private", "sh", "-c", script, Repo.binary, HostFixture.intelVFIOReady.path],
            executable: "/usr/bin/unshare")
        guard r.status != 99 else { return }  // no mount namespace here
        #expect(r.stdout.contains("site.cm"), "\(r.stdout.prefix(300)) \(r.stderr)")
        #expect(!r.stdout.contains("plugins.directory"))
    }
}

/// How many live processes match `pattern` (an extended regular expression over their command
/// lines), once they have had two seconds to go: SIGKILL takes a moment on a busy machine.
func survivors(_ pattern: String) throws -> Int {
    var left = -1
    for _ in 0..<20 {
        let out = try runBinary(["-c", "ps -eo stat,args | grep -v '^Z' | grep -cE '\(pattern)' || true"], executable: "/bin/sh").stdout
        left = Int(out.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
        if left == 0 { break }
        usleep(100_000)
    }
    return left
}
