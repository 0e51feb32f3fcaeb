import Foundation
@testable import ProbeCore

/// Paths into the repository, found from this file.
enum Repo {
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        restoreEmptyDirectories(url.path)
        return url.path
    }()

    /// git keeps no empty folder, and a snapshot has many (an empty /sys/bus/mdev/devices, a
    /// function's vfio-dev/vfio0): Tests/Fixtures/empty-directories lists them, and they are
    /// made again in a fresh clone before any fixture is read.
    static func restoreEmptyDirectories(_ root: String) {
        guard let list = try? String(contentsOfFile: root + "/Tests/Fixtures/empty-directories", encoding: .utf8) else { return }
        for line in list.split(separator: "\n") where line.hasPrefix("Tests/Fixtures/") && !line.contains("..") {
            try? FileManager.default.createDirectory(atPath: root + "/" + line, withIntermediateDirectories: true)
        }
    }
    static func fixture(_ name: String) -> String { "\(root)/Tests/Fixtures/hosts/\(name)" }
    /// The vfio-probe binary `swift build` / `swift test` made beside the tests.
    static var binary: String { "\(root)/.build/debug/vfio-probe" }
}

/// Runs the whole probe on a fixture.
func probe(
    _ fixture: HostFixture, devices: [String] = [], only: [String] = [], skip: [String] = [], workload: Workload = Workload()
) throws -> Report {
    var o = Pipeline.Options()
    o.workload = workload
    o.root = fixture.path
    o.devices = devices.compactMap(PCIAddress.init)
    o.only = only
    o.skip = skip
    return try Pipeline.run(o)
}

/// Runs the whole probe on a tree (a scratch copy of a fixture, a snapshot).
func probe(root: String, devices: [String] = [], only: [String] = []) throws -> Report {
    var o = Pipeline.Options()
    o.root = root
    o.devices = devices.compactMap(PCIAddress.init)
    o.only = only
    return try Pipeline.run(o)
}

/// Runs the vfio-probe binary (or `executable`); returns its exit status and standard output.
func runBinary(
    _ arguments: [String], executable: String = Repo.binary, in directory: String? = nil
) throws -> (
    status: Int32, stdout: String, stderr: String
) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = arguments
    if let directory { p.currentDirectoryURL = URL(fileURLWithPath: directory) }
    // The text report wraps to COLUMNS when it is set: the tests' runs are at the default, 80.
    p.environment = ProcessInfo.processInfo.environment.filter { $0.key != "COLUMNS" }
    let out = Pipe()
    let err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
}

/// A scratch directory, removed by the caller.
func scratchDirectory() throws -> String {
    let dir = NSTemporaryDirectory() + "vfio-probe-test-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

/// A synthetic host from the benchmark's generator (Tests/Bench/make-tree.py): `pfs` PFs behind
/// root ports, `vfs` VFs each. Removed by the caller.
func syntheticHost(pfs: Int, vfs: Int) throws -> String {
    let dir = try scratchDirectory()
    let gen = Process()
    gen.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    gen.arguments = ["python3", Repo.root + "/Tests/Bench/make-tree.py", dir, "\(pfs)", "\(vfs)"]
    gen.standardOutput = FileHandle.nullDevice
    try gen.run()
    gen.waitUntilExit()
    guard gen.terminationStatus == 0 else { throw CocoaError(.fileWriteUnknown) }
    return dir
}

/// A copy of a fixture tree, changed by `edit` (given the copy's root), removed by the caller.
func scratchFixture(_ fixture: HostFixture, _ edit: (String) throws -> Void) throws -> String {
    let dir = try scratchDirectory() + "/" + fixture.rawValue
    try FileManager.default.copyItem(atPath: fixture.path, toPath: dir)
    try edit(dir)
    return dir
}

extension String {
    /// Appends a line to the file at this path (a fixture's manifest, a command line).
    func appendLine(_ line: String) throws {
        let old = (try? String(contentsOfFile: self, encoding: .utf8)) ?? ""
        try (old + line + "\n").write(toFile: self, atomically: true, encoding: .utf8)
    }
}

/// A scratch directory of site-check plugins: each script a `#!/bin/sh` file, mode 0755.
func pluginDirectory(_ scripts: [String: String]) throws -> String {
    let dir = try scratchDirectory()
    for (name, body) in scripts {
        try ("#!/bin/sh\n" + body + "\n").write(toFile: dir + "/" + name, atomically: true, encoding: .utf8)
        chmod(dir + "/" + name, 0o755)
    }
    return dir
}
