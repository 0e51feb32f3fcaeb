import Foundation
import Testing
@testable import ProbeCore

/// A snapshot read back with --root gives the same static answer as the tree it was taken from.
struct SnapshotTests {
    static func summary(_ r: Report) -> [String] {
        [r.verdict.mode.rawValue, r.verdict.summary] + r.verdict.actions
            + r.verdict.devices.map { "\($0.address) \($0.mode) \($0.readiness) \($0.actions)" }
            + r.findings.map { "\($0.checkID) \($0.subject) \($0.status) \($0.summary)" }
    }

    @Test(arguments: HostFixture.allCases)
    func roundTrip(fixture: HostFixture) throws {
        let out = try scratchDirectory() + "/snap"
        defer { try? FileManager.default.removeItem(atPath: out) }
        let s = try Snapshot.capture(root: fixture.path, scope: .all, output: out)
        #expect(s.files > 10)
        var o = Pipeline.Options()
        o.root = fixture.path
        let original = try Pipeline.run(o)
        o.root = out
        let copy = try Pipeline.run(o)
        #expect(Self.summary(copy) == Self.summary(original))
    }

    /// A snapshot of the whole host, read later for one device, still knows its companions.
    @Test func fullSnapshotServesADeviceRead() throws {
        let out = try scratchDirectory() + "/snap"
        defer { try? FileManager.default.removeItem(atPath: out) }
        _ = try Snapshot.capture(root: HostFixture.sharedGroup.path, scope: .all, output: out)
        var o = Pipeline.Options()
        o.root = out
        o.devices = [PCIAddress("0000:01:00.0")!]
        let r = try Pipeline.run(o)
        #expect(r.verdict.devices.first?.readiness == .bindable)
        #expect(r.verdict.devices.first?.reasons == ["IOMMU group 10 is shared with 0000:01:00.1 on ixgbe"])
    }

    @Test func deviceScopeCopiesOnlyWhatItReads() throws {
        let out = try scratchDirectory() + "/snap"
        defer { try? FileManager.default.removeItem(atPath: out) }
        let s = try Snapshot.capture(root: HostFixture.sharedGroup.path, scope: .devices([PCIAddress("0000:01:00.0")!]), output: out)
        let devices = try FileManager.default.contentsOfDirectory(atPath: out + "/sys/bus/pci/devices")
        #expect(
            Set(devices) == ["0000:00:01.0", "0000:01:00.0", "0000:01:00.1"],
            "the device, its group companion and the root port above them (its ACS decides the group), nothing else")
        #expect(s.links > 0)
        let target = try FileManager.default.destinationOfSymbolicLink(atPath: out + "/sys/bus/pci/devices/0000:01:00.0")
        #expect(!target.hasPrefix("/"), "links stay relative: \(target)")
    }

    @Test func manifestsSurvive() throws {
        let out = try scratchDirectory() + "/snap"
        defer { try? FileManager.default.removeItem(atPath: out) }
        let s = try Snapshot.capture(root: HostFixture.nonroot.path, scope: .all, output: out)
        #expect(s.nodes >= 2 && s.unreadable >= 1)
        let fs = try HostFS(root: out)
        #expect(fs.node("/dev/vfio/noiommu-0").value?.usable == false)
        #expect(fs.read("/boot/config-6.12.95-vfiotest") == .unreadable(.permissionDenied("/boot/config-6.12.95-vfiotest")))
    }

    @Test func refusesANonEmptyOutput() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "x".write(toFile: dir + "/keep", atomically: true, encoding: .utf8)
        #expect(throws: Snapshot.Failure.self) { try Snapshot.capture(root: HostFixture.amdHost.path, scope: .all, output: dir) }
        #expect(FileManager.default.fileExists(atPath: dir + "/keep"))
    }

    @Test func pathHelpers() {
        #expect(Snapshot.normalize("/sys/bus/pci/devices/../../../devices/x") == "/sys/devices/x")
        #expect(Snapshot.normalize("/../../x") == "/x")
        #expect(Snapshot.relative(from: "/proc/12/fd", to: "/dev/vfio/10") == "../../../dev/vfio/10")
    }
}

/// Snapshots taken inside the VM matrix's real kernels, committed as regression fixtures: each
/// must still give the static verdict it gave when it was taken.
struct RecordedSnapshotTests {
    static let root = Repo.root + "/Tests/Fixtures/snapshots"
    static var names: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
    }

    @Test(arguments: names)
    func reproducesTheRecordedVerdict(name: String) throws {
        let dir = Self.root + "/" + name
        let expected = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/expected.json"))) as? [String: Any])
        var o = Pipeline.Options()
        o.root = dir + "/tree"
        o.devices = ((expected["devices_arg"] as? [String]) ?? []).compactMap(PCIAddress.init)
        o.noLive = true
        let doc = try #require(
            try JSONSerialization.jsonObject(with: Data(JSONReporter.render(try Pipeline.run(o)).utf8)) as? [String: Any])
        let recorded = try #require(expected["digest"] as? [String])
        // A check added after the snapshot was recorded has no recorded status to compare with
        // (re-record with Tests/VM/matrix.py --update-snapshots); every other line must match.
        let known = Set(recorded.compactMap { VMExpectation.checkID($0) })
        #expect(VMExpectation.digest(doc).filter { VMExpectation.checkID($0).map(known.contains) ?? true } == recorded)
    }
}

/// The part of a report a snapshot must reproduce: verdict, device answers, check statuses.
enum VMExpectation {
    static func digest(_ doc: [String: Any]) -> [String] {
        let v = doc["verdict"] as? [String: Any] ?? [:]
        var out = ["mode \(v["mode"] ?? "")"] + ((v["actions"] as? [String]) ?? []).map { "action \($0)" }
        for d in (doc["devices"] as? [[String: Any]]) ?? [] {
            out.append("device \(d["bdf"] ?? "") \(d["mode"] ?? "") \(d["readiness"] ?? "") \((d["actions"] as? [String]) ?? [])")
        }
        for c in (doc["checks"] as? [[String: Any]]) ?? [] where !((c["id"] as? String) ?? "").hasPrefix("live.") {
            out.append("check \(c["id"] ?? "") \(c["device"] ?? "host") \(c["status"] ?? "")")
        }
        return out
    }

    /// The check id of a digest line ("check ID SUBJECT STATUS"), nil for other lines.
    static func checkID(_ line: String) -> String? {
        let parts = line.split(separator: " ")
        return parts.count >= 2 && parts[0] == "check" ? String(parts[1]) : nil
    }
}
