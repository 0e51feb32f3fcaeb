import Foundation
import Testing
@testable import ProbeCore

struct ExternalCheckTests {
    func plugins(_ scripts: [String: String]) throws -> String {
        let dir = try pluginDirectory(scripts)
        try "not executable".write(toFile: dir + "/README", atomically: true, encoding: .utf8)
        return dir
    }

    @Test func protocolAndFailures() throws {
        let dir = try plugins([
            "good":
                #"echo '{"id": "site.bios", "status": "warn", "summary": "BIOS too old", "remedy": "update it"}'; echo '# a comment'; echo"#,
            "broken":
                #"echo '{"id": "site.x", "status": "maybe", "summary": "?"}'; echo '{oops'; echo '{"id": "vfio.modules", "status": "pass", "summary": "s"}'; exit 4"#,
            "slow": "sleep 5",
            "veto": #"echo '{"id": "site.slot", "status": "fail", "summary": "wrong slot", "device": "0000:01:00.0", "blocks": ["vfio"]}'"#,
            "root": #"echo "{\"id\": \"site.root\", \"status\": \"info\", \"summary\": \"$VFIO_PROBE_ROOT $1 $2\"}""#,
        ])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var ext = ExternalChecks(directory: dir, root: HostFixture.intelVFIOReady.path, explicit: true)
        ext.timeoutMilliseconds = 500
        var o = Pipeline.Options()
        o.root = HostFixture.intelVFIOReady.path
        o.devices = [PCIAddress("0000:01:00.0")!]
        o.externalChecks = ext
        let r = try Pipeline.run(o)
        func f(_ id: String) -> [Finding] { r.findings.filter { $0.checkID == id } }
        #expect(f("site.bios").first?.status == .warn && f("site.bios").first?.remedy == "update it")
        #expect(
            f("plugins.broken").map(\.summary) == [
                "plugin broken, line 1: status \"maybe\" is not pass, warn, fail, skip or info",
                "plugin broken, line 2: not JSON",
                "plugin broken, line 3: id \"vfio.modules\" must start with \"site.\"",
                "plugin broken exited with status 4",
            ])
        #expect(f("plugins.slow").first?.status == .fail)
        #expect(f("plugins.README").isEmpty, "only executables run")
        #expect(f("site.root").first?.summary == "\(HostFixture.intelVFIOReady.path) --root \(HostFixture.intelVFIOReady.path)")
        #expect(r.verdict.mode == .unusable, "a site veto decides")
        #expect(r.verdict.reasons.contains("site.slot: wrong slot"))
        #expect(r.checks.contains { $0.id == "site.slot" && $0.category == .site })
    }

    @Test func missingDirectory() throws {
        #expect(ExternalChecks(directory: "/nonexistent/checks.d", root: "/", explicit: false).run(builtinIDs: []).isEmpty)
        #expect(ExternalChecks(directory: "/nonexistent/checks.d", root: "/", explicit: true).run(builtinIDs: []).first?.status == .warn)
    }

    @Test func jsonParser() throws {
        let v = try JSONParser.parse(#"{"a": [1, -2, true, null, "x\n\u00e9"], "b": {"c": 1.5}}"#)
        #expect(v["a"] == .array([.int(1), .int(-2), .bool(true), .null, .string("x\né")]))
        #expect(try JSONParser.parse(#""\ud83d\ude00""#) == .string("😀"), "a surrogate pair is one scalar")
        for bad in ["{", "[1,]", #"{"a" 1}"#, "tru", #""unterminated"#, "{} x", String(repeating: "[", count: 100)] {
            #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(bad) }
        }
    }
}
