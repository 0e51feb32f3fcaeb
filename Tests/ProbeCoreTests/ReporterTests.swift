import Foundation
import Testing
@testable import ProbeCore

/// Prometheus, NFD, groups and JSON: what fleets and operators wire in.
struct MachineReadableOutputTests {
    static let promtool = ["/usr/bin/promtool", "/usr/local/bin/promtool"].first { FileManager.default.isExecutableFile(atPath: $0) }

    @Test(
        .enabled(if: promtool != nil, "promtool (Debian package prometheus) is not installed: the lint does not run"),
        arguments: [HostFixture.intelVFIOReady, .noiommuEnabled, .hyperVGuest, .rmrrDirect, .intelNonroot])
    func prometheusPassesPromtool(fixture: HostFixture) throws {
        let r = try runBinary(["--root", fixture.path, "--format", "prometheus"])
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try r.stdout.write(toFile: dir + "/vfio_probe.prom", atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.promtool!)
        p.arguments = ["check", "metrics"]
        p.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: dir + "/vfio_probe.prom"))
        let err = Pipe()
        p.standardError = err
        p.standardOutput = err
        try p.run()
        p.waitUntilExit()
        let lint = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(p.terminationStatus == 0, "promtool: \(lint)")
        #expect(r.stdout.contains("vfio_probe_mode "))
    }

    @Test(arguments: [
        (HostFixture.intelVFIOReady, "vfio", "available"), (.noiommuEnabled, "noiommu", "enabled"),
        (.noiommuNotCompiled, "none", "unavailable"),
    ])
    func nfdLabels(fixture: HostFixture, mode: String, noiommu: String) throws {
        let text = NFDReporter.render(try probe(fixture))
        let lines = text.split(separator: "\n").filter { !$0.hasPrefix("#") }
        for l in lines {
            // Label names and values Kubernetes accepts.
            #expect(l.range(of: #"^[A-Za-z0-9][A-Za-z0-9._-]*=[A-Za-z0-9._-]{0,63}$"#, options: .regularExpression) != nil, "\(l)")
        }
        #expect(lines.contains("vfio.mode=\(mode)"[...]))
        #expect(lines.contains("vfio.noiommu=\(noiommu)"[...]))
    }
}

struct GroupsTests {
    @Test func sparseGroupsViabilityAndMdev() throws {
        let r = try runBinary(["groups", "--root", HostFixture.sharedGroup.path, "--format", "json"])
        #expect(r.status == 0)
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let groups = try #require(doc["groups"] as? [[String: Any]])
        #expect(groups.map { $0["id"] as? Int } == [0, 1, 10, 12], "sparse numbers, in order")
        let g10 = try #require(groups.first { $0["id"] as? Int == 10 })
        #expect(g10["viable"] as? Bool == false && g10["readiness"] as? String == "bindable")
        #expect((g10["devices"] as? [[String: Any]])?.map { $0["driver"] as? String } == ["vfio-pci", "ixgbe"])
        #expect(groups.first { $0["id"] as? Int == 1 }?["readiness"] as? String == "blocked", "a bridge alone cannot be assigned")
        let text = try runBinary(["groups", "--root", HostFixture.intelNoIR.path, "--color", "never"]).stdout
        #expect(text.contains("IOMMU group 2 (mdev, emulated IOMMU) viable"), "named vfio-noiommu, but VFIO's group for an mdev")
        #expect(text.contains("83b8f4f2-509f-382f-3c1e-e6bfe0fa1001  mdev mtty-2 on mtty  driver mtty"))
        let mdevJSON = try runBinary(["groups", "--root", HostFixture.mdevNoIOMMU.path, "--format", "json"]).stdout
        let mdevGroups = try #require(
            (try JSONSerialization.jsonObject(with: Data(mdevJSON.utf8)) as? [String: Any])?["groups"] as? [[String: Any]])
        #expect(mdevGroups.map { $0["kind"] as? String } == ["emulated-iommu"] && mdevGroups.map { $0["noiommu"] as? Bool } == [false])
        let noiommu = try runBinary(["groups", "--root", HostFixture.noiommuEnabled.path, "--color", "never"]).stdout
        #expect(noiommu.contains("IOMMU group 0 (no-IOMMU) viable, READY"))
        #expect(noiommu.contains("Not in an IOMMU group: 1 function\n  0000:00:00.0  Host bridge [0600]: "))
        // Without any group, one heading (no "no IOMMU groups" above "No IOMMU group"), and
        // each function with its class as in a group.
        let none = try runBinary(["groups", "--root", HostFixture.noiommuNotCompiled.path, "--color", "never"]).stdout
        #expect(none.hasPrefix("Not in an IOMMU group (no IOMMU is active): 2 functions\n"))
        #expect(!none.contains("no IOMMU groups") && none.contains("Ethernet controller [0200]: "))
    }
}

struct JSONStreamingTests {
    /// The streamed document is byte for byte the document rendered whole.
    @Test(arguments: [HostFixture.intelVFIOReady, .rmrrDirect, .noiommuEnabled])
    func streamedEqualsWhole(fixture: HostFixture) throws {
        let r = try probe(fixture)
        var chunks = 0
        var streamed: [UInt8] = []
        JSONReporter.write(r) {
            streamed += $0; chunks += 1
        }
        #expect(String(decoding: streamed, as: UTF8.self) == JSONReporter.document(r).render(pretty: true) + "\n")
        #expect(chunks >= 1)
    }
}
