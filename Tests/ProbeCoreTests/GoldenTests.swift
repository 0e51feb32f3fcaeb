import Foundation
import Testing

/// The whole output, per scenario, as committed text: the text, JSON, Prometheus and NFD reports
/// and the `groups` listing of every fixture host and snapshot (with `--no-live`), and of a
/// synthetic host large enough (320 functions) to take every concurrent path. A change to any
/// byte shows up here as a diff; one that is meant is committed with the new files
/// (`scripts/update-goldens.sh`).
@Suite(.serialized) struct GoldenTests {
    /// One run of the binary whose standard output and status are kept.
    struct Run: Sendable, CustomStringConvertible {
        var file: String
        var arguments: [String]
        /// Only for these scenarios (nil: every one).
        var only: Set<String>? = nil
        var description: String { file }
    }

    static let runs: [Run] = [
        // At 80 columns (standard output is a pipe and COLUMNS is unset), and unwrapped.
        Run(file: "report.txt", arguments: ["--color", "never"]),
        Run(file: "report.wide.txt", arguments: ["--color", "never", "--wide"]),
        // Every check with its evidence, the chipset listed: on hosts of each vendor and kind.
        Run(
            file: "report.verbose.txt", arguments: ["--color", "never", "-v", "--all"],
            only: ["hosts/intel-vfio-ready", "hosts/amd-host", "hosts/arm-its", "hosts/noiommu-enabled", "hosts/host-in-use"]),
        Run(file: "report.json", arguments: ["--format", "json"]),
        Run(file: "report.prom", arguments: ["--format", "prometheus"]),
        Run(file: "report.nfd", arguments: ["--format", "nfd"]),
        Run(file: "groups.txt", arguments: ["groups", "--color", "never"]),
        Run(file: "groups.json", arguments: ["groups", "--format", "json"]),
        // The CDI spec of hosts with a ready unit of each kind: a cdev host, a no-IOMMU one, a
        // legacy-only one and one with bindable units; every mode admitted, to show the no-IOMMU rename.
        Run(
            file: "cdi.json", arguments: ["cdi", "--include", "bindable", "--mode", "noiommu"],
            only: ["hosts/intel-vfio-ready", "hosts/noiommu-enabled", "hosts/sriov-pf", "hosts/shared-group", "hosts/bridge-group"]),
    ]

    static let update = ProcessInfo.processInfo.environment["VFIO_PROBE_UPDATE_GOLDENS"] == "1"

    static func normalized(_ output: String) -> String {
        output.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.hasPrefix("vfio_probe_last_run_timestamp_seconds ") ? "vfio_probe_last_run_timestamp_seconds $TIME" : String(line)
        }.joined(separator: "\n")
    }

    @Test(arguments: Scenario.all)
    func output(of scenario: Scenario) throws {
        let tree = try scenario.root()
        defer { scenario.release(tree) }
        // The text report wraps its first line, which names the root: read through a link whose
        // path is the same in every checkout.
        let root = "/tmp/vfio-probe-golden/\(scenario.name)"
        try? FileManager.default.removeItem(atPath: root)
        try FileManager.default.createDirectory(
            atPath: (root as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: root, withDestinationPath: tree)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let dir = "\(Repo.root)/Tests/Golden/\(scenario.name)"
        if GoldenTests.update { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        // The synthetic host keeps the three outputs that differ in kind from a small host's.
        let runs =
            scenario.isSynthetic
            ? GoldenTests.runs.filter { ["report.txt", "report.wide.txt", "report.json", "groups.txt"].contains($0.file) }
            : GoldenTests.runs
        for run in runs where run.only?.contains(scenario.name) ?? true {
            let command = run.arguments.first.map { ["groups", "cdi"].contains($0) } == true ? [run.arguments[0]] : []
            let r = try runBinary(
                command + ["--root", root] + run.arguments.dropFirst(command.count) + (command != ["groups"] ? ["--no-live"] : []))
            // The tree's own path and the time of the run are what differ between runs.
            let got = "exit \(r.status)\n" + GoldenTests.normalized(r.stdout.replacingOccurrences(of: root, with: "$ROOT"))
            let path = "\(dir)/\(run.file)"
            if GoldenTests.update {
                try got.write(toFile: path, atomically: true, encoding: .utf8)
                #expect(FileManager.default.contents(atPath: path) == Data(got.utf8))
                continue
            }
            let want = try? String(contentsOfFile: path, encoding: .utf8)
            #expect(want != nil, "\(path) is missing: run scripts/update-goldens.sh")
            if let want, want != got {
                let line = zip(
                    want.split(separator: "\n", omittingEmptySubsequences: false),
                    got.split(separator: "\n", omittingEmptySubsequences: false)
                )
                .enumerated().first { $0.element.0 != $0.element.1 }
                Issue.record(
                    """
                    \(path) is out of date: run scripts/update-goldens.sh and read the diff
                    first difference at line \((line?.offset ?? 0) + 1):
                      want: \(line.map { String($0.element.0) } ?? "(length differs)")
                       got: \(line.map { String($0.element.1) } ?? "(length differs)")
                    """)
            }
        }
    }

    /// The typed fixture lists name exactly the trees on disk: a new fixture gets its goldens.
    @Test func fixtureEnumsListEveryTree() throws {
        let fm = FileManager.default
        let hosts = try fm.contentsOfDirectory(atPath: "\(Repo.root)/Tests/Fixtures/hosts").filter { !$0.hasPrefix(".") }.sorted()
        let snapshots = try fm.contentsOfDirectory(atPath: "\(Repo.root)/Tests/Fixtures/snapshots").filter { !$0.hasPrefix(".") }.sorted()
        #expect(HostFixture.allCases.map(\.rawValue).sorted() == hosts)
        #expect(SnapshotFixture.allCases.map(\.rawValue).sorted() == snapshots)
    }

    /// Every empty folder of the fixtures is in Tests/Fixtures/empty-directories, which a fresh
    /// clone (git keeps no empty folder) makes again: regenerate it with
    /// `find Tests/Fixtures -type d -empty | sort > Tests/Fixtures/empty-directories`.
    @Test func emptyFoldersAreListed() throws {
        let listed = try String(contentsOfFile: "\(Repo.root)/Tests/Fixtures/empty-directories", encoding: .utf8).split(separator: "\n")
            .map(String.init)
        var empty: [String] = []
        let fm = FileManager.default
        let base = "\(Repo.root)/"
        for case let rel as String in fm.enumerator(atPath: base + "Tests/Fixtures")! {
            let path = base + "Tests/Fixtures/" + rel
            var isDir: ObjCBool = false
            guard (try? fm.destinationOfSymbolicLink(atPath: path)) == nil, fm.fileExists(atPath: path, isDirectory: &isDir),
                isDir.boolValue,
                (try? fm.contentsOfDirectory(atPath: path))?.isEmpty == true
            else { continue }
            empty.append("Tests/Fixtures/" + rel)
        }
        #expect(empty.sorted() == listed.sorted(), "Tests/Fixtures/empty-directories is out of date")
    }
}
