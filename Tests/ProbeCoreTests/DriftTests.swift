import Foundation
import Testing

@testable import ProbeCore

/// `vfio-probe diff` and `--baseline`: the changes between two runs that matter to VFIO.
struct DriftTests {
    func view(_ f: HostFixture) throws -> DriftView { try DriftView(report: JSONReporter.document(try probe(f))) }

    @Test func identicalRunsHaveNoChange() throws {
        #expect(try view(.intelVFIOReady).changes(since: try view(.intelVFIOReady)).isEmpty)
    }

    /// intel-vfio-ready → shared-group: the NIC's two ports merged into one group (the kernel
    /// found no ACS between them), a new NIC model and driver, and the port no longer ready.
    @Test func mergedGroupsDriversAndReadiness() throws {
        let c = try view(.sharedGroup).changes(since: try view(.intelVFIOReady))
        #expect(c.contains { $0.kind == .groupMerged && $0.text.hasPrefix("groups 10, 11 merged into group 10") })
        #expect(c.contains { $0.kind == .groupNumber && $0.subject == "0000:01:00.1" && $0.text == "IOMMU group 11 → 10" })
        #expect(c.contains { $0.kind == .driver && $0.text == "driver i40e → ixgbe" })
        #expect(c.contains { $0.kind == .readiness && $0.subject == "0000:01:00.0" && $0.text == "readiness ready → bindable" })
        // The other way round, the group splits.
        let back = try view(.intelVFIOReady).changes(since: try view(.sharedGroup))
        #expect(back.contains { $0.kind == .groupSplit && $0.text == "group 10 split into groups 10, 11" })
    }

    @Test func hostChanges() throws {
        let c = try view(.intelNoIR).changes(since: try view(.intelVFIOReady))
        #expect(c.contains { $0.kind == .interruptRemapping && $0.text == "interrupt remapping on → off" })
        #expect(c.contains { $0.kind == .verdict && $0.text == "verdict vfio → unsafe-interrupts" })
        #expect(c.contains { $0.kind == .cmdline })
        #expect(c.contains { $0.kind == .removed } && c.contains { $0.kind == .added })
    }

    @Test func onlyReportsOfThisSchemaAreRead() {
        #expect(throws: DriftView.Failure.self) { try DriftView(report: .object([("schema_version", .int(1))])) }
        #expect(throws: DriftView.Failure.self) { try DriftView(report: .array([])) }
    }

    @Test func diffCommandExitsAsDiffDoes() throws {
        let same = try runBinary(["diff", HostFixture.intelVFIOReady.path, HostFixture.intelVFIOReady.path])
        #expect(same.status == 0 && same.stdout == "no relevant change\n")
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let saved = try runBinary(["--root", HostFixture.intelVFIOReady.path, "--no-live", "--format", "json"])
        try saved.stdout.write(toFile: dir + "/old.json", atomically: true, encoding: .utf8)
        let changed = try runBinary(["diff", dir + "/old.json", HostFixture.sharedGroup.path, "--format", "json"])
        #expect(changed.status == 1)
        let doc = try JSONParser.parse(changed.stdout)
        guard case .array(let xs) = doc else {
            Issue.record("not an array: \(changed.stdout)")
            return
        }
        #expect(xs.contains { $0["kind"]?.stringValue == "group-merged" })
        let bad = try runBinary(["diff", dir + "/old.json", "/etc/hostname"])
        #expect(bad.status == 2 && bad.stderr.contains("not JSON"))
    }

    /// --baseline: the changes as platform.drift warnings, in every format, changing no readiness.
    @Test func baselineTurnsChangesIntoFindings() throws {
        var o = Pipeline.Options()
        o.root = HostFixture.sharedGroup.path
        o.baseline = try view(.intelVFIOReady)
        let r = try Pipeline.run(o)
        let drift = r.findings.filter { $0.checkID == "platform.drift" }
        #expect(drift.contains { $0.status == .warn && $0.subject == .device(PCIAddress("0000:01:00.0")!) })
        #expect(drift.allSatisfy { $0.impacts.isEmpty })
        #expect(r.checks.contains { $0.id == "platform.drift" })
        let plain = try probe(.sharedGroup)
        #expect(r.verdict.devices.map(\.readiness) == plain.verdict.devices.map(\.readiness))
        o.baseline = try view(.sharedGroup)
        let same = try Pipeline.run(o).findings.filter { $0.checkID == "platform.drift" }
        #expect(same.map(\.status) == [.pass])
    }
}
