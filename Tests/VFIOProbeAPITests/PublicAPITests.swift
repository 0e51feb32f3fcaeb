import Foundation
import Testing
import VFIOProbe

// Only `import VFIOProbe`, never @testable: what a Swift VMM or dataplane embedding the probe
// can write. The trees are the committed fixtures (Tests/Fixtures/hosts), read as --root.

/// The repository's fixture tree `name`. git keeps no empty folder, and the trees need theirs (a
/// function's vfio-dev/vfio0): Tests/Fixtures/empty-directories lists them; they are made first.
private func fixture(_ name: String) -> String {
    let tests = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    restoreEmptyDirectories
    return tests.appendingPathComponent("Fixtures/hosts/\(name)").path
}

private let restoreEmptyDirectories: Void = {
    let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let list = (try? String(contentsOf: repo.appendingPathComponent("Tests/Fixtures/empty-directories"), encoding: .utf8)) ?? ""
    for line in list.split(separator: "\n") where line.hasPrefix("Tests/Fixtures/") && !line.contains("..") {
        try? FileManager.default.createDirectory(at: repo.appendingPathComponent(String(line)), withIntermediateDirectories: true)
    }
}()

private func probe(_ name: String, devices: [String] = []) -> Probe {
    var p = Probe(root: fixture(name))
    p.devices = devices.compactMap(PCIAddress.init)
    p.live = .off
    p.lookUpNames = false
    return p
}

@Suite("The VFIOProbe library, through its public API")
struct PublicAPITests {
    @Test("readHost gives the host's functions and groups as values")
    func readHost() throws {
        let host = try probe("intel-vfio-ready").readHost()
        let address = try #require(PCIAddress("0000:01:00.0"))
        let nic = try #require(host.devices[address])
        #expect(nic.iommuGroup == 10)
        #expect(nic.driver == "vfio-pci")
        #expect(host.groups[10]?.pciMembers.contains(address) == true)
    }

    @Test("run folds the verdict: safe VFIO, one function ready, one bindable with its actions")
    func verdict() throws {
        let report = try probe("intel-vfio-ready").run()
        #expect(report.verdict.mode == .vfio)
        #expect(report.exitStatus == 0)
        let nic = try #require(report.verdict.devices.first { $0.address == PCIAddress("0000:01:00.0") })
        #expect(nic.readiness == .ready)
        let second = try #require(report.verdict.devices.first { $0.address == PCIAddress("0000:01:00.1") })
        #expect(second.readiness == .bindable)
        #expect(!second.actions.isEmpty)
        #expect(report.findings.contains { $0.checkID == "iommu.groups" })
    }

    @Test("devices scope the run to the named functions and their groups")
    func scoped() throws {
        let report = try probe("intel-vfio-ready", devices: ["01:00.0"]).run()
        #expect(report.verdict.devices.map(\.address.description) == ["0000:01:00.0"])
    }

    @Test("required turns the exit status into the gate's: no-IOMMU host, vfio required")
    func gate() throws {
        var p = probe("noiommu-enabled")
        #expect(try p.run().verdict.mode == .noiommu)
        p.required = .vfio
        #expect(try p.run().exitStatus != 0)
    }

    @Test("a folder that is not a root is a Failure with a reason, not a report")
    func notARoot() {
        #expect(throws: Probe.Failure.self) { try Probe(root: "/nonexistent/vfio-probe").run() }
        var p = probe("intel-vfio-ready")
        p.only = ["no.such.check"]
        #expect(throws: Probe.Failure.self) { try p.validate() }
    }

    @Test("every format renders; JSON parses and carries the verdict's mode")
    func formats() throws {
        let report = try probe("intel-vfio-ready").run()
        #expect(ReportFormat.all.first == .text)
        for f in ReportFormat.all { #expect(!report.render(f).isEmpty, "\(f)") }
        var streamed: [UInt8] = []
        report.write(.json) { streamed += $0 }
        #expect(String(decoding: streamed, as: UTF8.self) == report.render(.json))
        let doc = try #require(JSONSerialization.jsonObject(with: Data(streamed)) as? [String: Any])
        #expect((doc["verdict"] as? [String: Any])?["mode"] as? String == "vfio")
        #expect(report.renderGroups(json: false).contains("0000:01:00.0"))
        #expect(ReportFormat(name: "xml") == nil)
    }

    @Test("the check registry: unique ids, each with a rationale and a remedy; listings render")
    func checks() {
        let ids = Probe.checks.map(\.id)
        #expect(ids.count > 20 && Set(ids).count == ids.count)
        #expect(Probe.checks.allSatisfy { !$0.rationale.isEmpty && !$0.remedy.isEmpty })
        #expect(CheckListing.json.render().contains("\"iommu.groups\""))
    }

    @Test("drift: a report against itself has no change; against another host it does")
    func drift() throws {
        let a = try probe("intel-vfio-ready").run()
        let view = try DriftView(reportJSON: a.render(.json))
        #expect(view.changes(since: view).isEmpty)
        let tree = try DriftView(tree: fixture("intel-vfio-ready"))
        #expect(tree.changes(since: view).isEmpty)
        let other = try DriftView(tree: fixture("amd-host"))
        #expect(!other.changes(since: view).isEmpty)
        #expect(throws: Probe.Failure.self) { try DriftView(reportJSON: "{}") }
    }

    @Test("a CDI spec of the ready unit: the kind, and the legacy or cdev device nodes")
    func cdi() throws {
        let report = try probe("intel-vfio-ready").run()
        func nodes(_ backend: CDIReporter.Backend) throws -> [String] {
            var options = CDIReporter.Options()
            options.backend = backend
            let spec = report.cdiSpec(options)
            #expect(spec.units.map(\.group) == [10])
            let json = try #require(spec.json)
            let doc = try #require(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
            #expect(doc["kind"] as? String == CDIReporter.defaultKind)
            let devices = try #require(doc["devices"] as? [[String: Any]])
            let edits = try #require(devices.first?["containerEdits"] as? [String: Any])
            return try #require(edits["deviceNodes"] as? [[String: Any]]).compactMap { $0["path"] as? String }
        }
        #expect(try nodes(.legacy) == ["/dev/vfio/vfio", "/dev/vfio/10"])
        // This tree has /dev/iommu and the function's cdev: auto picks the cdev path.
        #expect(try nodes(.auto) == ["/dev/iommu", "/dev/vfio/devices/vfio0"])
    }

    @Test("ByteCount and Workload: the DMA a service maps")
    func workload() throws {
        #expect(ByteCount.parse("2M") == 2 << 20)
        var p = probe("budget-memlock")
        p.workload = Workload(memory: try #require(ByteCount.parse("64G")))
        #expect(try p.run().findings.contains { $0.checkID == "vfio.dma-budget" })
    }
}
