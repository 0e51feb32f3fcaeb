import Foundation
import Testing
@testable import ProbeCore

/// The command-line contract scripts rely on: exit statuses and the JSON document.
struct CLITests {
    @Test(
        arguments: [
            (HostFixture.intelVFIOReady, [String](), Int32(0)),
            (HostFixture.noiommuEnabled, [], 2),
            (HostFixture.noiommuNotCompiled, [], 3),
            (HostFixture.noiommuEnabled, ["--require", "noiommu"], 0),
            (HostFixture.noiommuEnabled, ["--require", "vfio"], 2),
            (HostFixture.intelVFIOReady, ["--require", "vfio", "--device", "01:00.0"], 0),
            (HostFixture.rmrrDirect, ["--device", "0000:01:00.0", "--require", "noiommu"], 3),
        ] as [(HostFixture, [String], Int32)])
    func exitStatus(fixture: HostFixture, extra: [String], status: Int32) throws {
        let r = try runBinary(["--root", fixture.path, "--quiet"] + extra)
        #expect(r.status == status, "stderr: \(r.stderr)")
        #expect(r.stdout.isEmpty, "--quiet printed \(r.stdout)")
    }

    @Test func usageErrorsExit64() throws {
        #expect(try runBinary(["--device", "not-a-bdf"]).status == 64)
        #expect(try runBinary(["--only", "no.such-check"]).status == 64)
        #expect(try runBinary(["--format", "yaml"]).status == 64)
    }

    @Test func probeFailureExits1() throws {
        let r = try runBinary(["--root", "/nonexistent/vfio-probe-root"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("cannot open the root"))
    }

    @Test func checksSubcommandListsEveryCheck() throws {
        let r = try runBinary(["checks"])
        #expect(r.status == 0)
        for c in CheckRegistry.all { #expect(r.stdout.contains(c.descriptor.id)) }
    }

    @Test func textReportHasVerdictAndRemedies() throws {
        let r = try runBinary(["--root", HostFixture.intelIOMMUOff.path, "--color", "never", "--wide"])
        #expect(r.status == 2)
        #expect(r.stdout.contains("FAIL  kernel.cmdline"))
        #expect(
            r.stdout.contains("→ " + TextReporter.sentence(Actions.kernelParameter(replace: "intel_iommu=off", with: "intel_iommu=on"))))
        #expect(r.stdout.contains("Verdict: NO-IOMMU ONLY"))
        #expect(!r.stdout.contains("\u{1b}["), "no colour with --color never")
        let coloured = try runBinary(["--root", HostFixture.intelIOMMUOff.path, "--color", "always"])
        #expect(coloured.stdout.contains("\u{1b}[31mFAIL"))
    }

    /// Every field the README documents, with its type.
    @Test(arguments: [HostFixture.intelVFIOReady, HostFixture.noiommuEnabled, HostFixture.hyperVGuest, HostFixture.nonroot])
    func jsonContract(fixture: HostFixture) throws {
        let r = try runBinary(["--root", fixture.path, "--format", "json"])
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(doc["schema_version"] as? Int == 2)
        let verdict = try #require(doc["verdict"] as? [String: Any])
        let mode = try #require(verdict["mode"] as? String)
        #expect(["vfio", "unsafe-interrupts", "noiommu", "none", "unknown"].contains(mode))
        #expect(["complete", "partial", "unknown"].contains(verdict["answer"] as? String ?? ""))
        #expect(verdict["mode_at_most"] is String && verdict["holds_now"] is Bool && verdict["undecided"] is [String])
        #expect(verdict["summary"] is String)
        #expect(verdict["actions"] is [String])
        #expect(verdict["reasons"] is [String])
        #expect(verdict["exit_code"] as? Int == Int(r.status))
        let devices = try #require(doc["devices"] as? [[String: Any]])
        #expect(!devices.isEmpty)
        for d in devices {
            for key in ["bdf", "vendor_id", "device_id", "class", "name", "mode", "readiness"] {
                #expect(d[key] is String, "device.\(key)")
            }
            #expect(d["driver"] is String || d["driver"] is NSNull)
            #expect(d["iommu_group"] is Int || d["iommu_group"] is NSNull)
            #expect(["ready", "bindable", "blocked", "unknown"].contains(d["readiness"] as? String ?? ""))
            #expect(d["reasons"] is [String] && d["actions"] is [String])
            #expect((d["vendor_id"] as? String)?.count == 4 && (d["class"] as? String)?.count == 6)
        }
        let checks = try #require(doc["checks"] as? [[String: Any]])
        #expect(!checks.isEmpty)
        for c in checks {
            #expect(c["id"] is String && c["title"] is String && c["summary"] is String)
            #expect(["pass", "warn", "fail", "skip", "info"].contains(c["status"] as? String ?? ""))
            #expect(c["detail"] is String || c["detail"] is NSNull)
            #expect(c["remedy"] is String || c["remedy"] is NSNull)
            #expect(c["device"] == nil || c["device"] is String)
            #expect(c["evidence"] is [[String: String]])
        }
    }

    /// The machine the tests run on: the probe completes with a valid report, whatever it finds.
    @Test func realHost() throws {
        let r = try runBinary(["--format", "json"])
        #expect([0, 2, 3].contains(r.status), "stderr: \(r.stderr)")
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let verdict = try #require(doc["verdict"] as? [String: Any])
        #expect(verdict["exit_code"] as? Int == Int(r.status))
        let text = try runBinary(["--color", "never"])
        #expect(text.status == r.status)
        #expect(text.stdout.contains("Verdict: "))
    }
}

/// README and man page stay true to --help.
struct DocumentationTests {
    @Test(arguments: ["check", "checks", "groups", "snapshot", "acpi", "cdi", "diff"])
    func everyOptionIsDocumented(subcommand: String) throws {
        let help = try runBinary([subcommand, "--help"]).stdout
        let options = Set(
            help.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "," || $0 == "[" || $0 == "]" || $0 == "<" })
                .map(String.init).filter { $0.hasPrefix("--") && $0.count > 2 })
        #expect(!options.isEmpty)
        let readme = try String(contentsOfFile: Repo.root + "/README.md", encoding: .utf8)
        let man = try String(contentsOfFile: Repo.root + "/man/vfio-probe.1", encoding: .utf8)
        for o in options {
            #expect(readme.contains(o), "README.md does not document \(o)")
            #expect(man.contains("Fl -" + o.dropFirst(2)), "man/vfio-probe.1 does not document \(o)")
        }
    }

    @Test func readmeNamesEveryCheck() throws {
        let readme = try String(contentsOfFile: Repo.root + "/README.md", encoding: .utf8)
        for c in CheckRegistry.all { #expect(readme.contains("`\(c.descriptor.id)`"), "README.md: \(c.descriptor.id)") }
    }
}

struct ACPICommandTests {
    @Test(.enabled(if: SharedTables.available, Comment(rawValue: SharedTables.absent)))
    func decodesFiles() throws {
        let r = try runBinary(["acpi", SharedTables.dir + "/dmar/hp-proliant-dl360-g7.DMAR.bin", "--format", "json"])
        #expect(r.status == 0)
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let t = try #require((doc["tables"] as? [[String: Any]])?.first)
        #expect(t["signature"] as? String == "DMAR")
        #expect((t["fields"] as? [[String: Any]])?.contains { $0["name"] as? String == "End Address (limit)" } == true)
        let text = try runBinary(["acpi", SharedTables.dir + "/dmar/hp-proliant-dl360-g7.DMAR.bin"])
        #expect(text.stdout.contains("RMRR 2 segment 0000 0xdf61e000-0xdf61ffff: PCI endpoint 0:1.0/0.0"))
    }

    @Test func saysPlainlyWhenNotRoot() throws {
        let r = try runBinary(["acpi", "--root", HostFixture.intelNonroot.path])
        #expect(r.status == 1)
        #expect(r.stdout.contains("readable only by root"))
    }

    @Test func badFilesAreErrorsNotCrashes() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data([0x44, 0x4d, 0x41, 0x52, 0xff, 0, 0, 0]).write(to: URL(fileURLWithPath: dir + "/bad"))
        let r = try runBinary(["acpi", dir + "/bad", dir + "/missing", "--format", "json"])
        #expect(r.status == 1)
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect((doc["tables"] as? [[String: Any]])?.count == 2)
    }

    @Test func fixtureTablesDecode() throws {
        let r = try runBinary(["acpi", "--root", HostFixture.amdHost.path])
        #expect(r.status == 0)
        #expect(r.stdout.contains("IVMD 21h: device 04:00.3 0x9a000000 length 0x1000"))
    }
}
