import ACPI
import Foundation
import Testing
@testable import ProbeCore

/// The command line as an operator meets it: the top-level help, typos, short options, options
/// before the subcommand, and the listings scripts read.
struct CommandLineTests {
    @Test func topLevelHelpShowsTheDefaultCommandsOptions() throws {
        let r = try runBinary(["--help"])
        #expect(r.status == 0)
        let check = try runBinary(["check", "--help"])
        for option in ["--root", "--device", "--format", "--require", "--only", "--no-live", "--quiet", "--memory"] {
            #expect(check.stdout.contains(option))
            #expect(r.stdout.contains(option), "vfio-probe --help lacks \(option)")
        }
        #expect(r.stdout.contains("USAGE: vfio-probe [check] [<options>]"))
        #expect(r.stdout.contains("SUBCOMMANDS:") && r.stdout.contains("snapshot"))
        #expect(r.stdout.contains("-V, --version"))
        // `help` alone is the same screen.
        #expect(try runBinary(["help"]).stdout == r.stdout)
    }

    @Test(arguments: [
        (["chek"], "'check'"), (["chekcs"], "'checks'"), (["grups"], "'groups'"), (["snap"], "'snapshot'"),
        (["--root", "/", "acip"], "'acpi'"),
    ])
    func mistypedSubcommandIsAUsageErrorWithASuggestion(args: [String], suggestion: String) throws {
        let r = try runBinary(args)
        #expect(r.status == 64)
        #expect(r.stderr.contains("unknown subcommand '\(args.last!)'; did you mean \(suggestion)?"), "stderr: \(r.stderr)")
        #expect(r.stdout.isEmpty)
    }

    @Test func wordThatIsNoSubcommandNamesThem() throws {
        let r = try runBinary(["frobnicate"])
        #expect(r.status == 64)
        #expect(r.stderr.contains("unknown subcommand 'frobnicate' (the subcommands: check, "))
        for name in ["checks", "groups", "snapshot", "acpi"] { #expect(r.stderr.contains(name)) }
        let bdf = try runBinary(["0000:01:00.0"])
        #expect(bdf.status == 64)
        #expect(bdf.stderr.contains("did you mean --device 0000:01:00.0?"))
    }

    @Test func shortOptions() throws {
        let root = HostFixture.intelVFIOReady.path
        // -d is --device, -q is --quiet, -j is --format json, -V is --version.
        let long = try runBinary(["--root", root, "--device", "01:00.0", "--format", "json", "--no-live"])
        let short = try runBinary(["--root", root, "-d", "01:00.0", "-j", "--no-live"])
        #expect(short.status == long.status)
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(short.stdout.utf8)) as? [String: Any])
        #expect(doc["scope"] as? [String] == ["0000:01:00.0"])
        let quiet = try runBinary(["--root", root, "-q"])
        #expect(quiet.status == 0 && quiet.stdout.isEmpty)
        #expect(try runBinary(["-V"]).stdout == (try runBinary(["--version"])).stdout)
        #expect(try runBinary(["-V"]).status == 0)
        // -j beside another --format is a contradiction, not a choice.
        #expect(try runBinary(["--root", root, "-j", "--format", "text"]).status == 64)
        #expect(try runBinary(["--root", root, "-j", "--format", "json", "-q"]).status == 0)
        // snapshot's -d, and groups' / checks' / acpi's -j.
        #expect(try runBinary(["snapshot", "--help"]).stdout.contains("-d, --device"))
        for sub in ["groups", "checks", "acpi"] { #expect(try runBinary([sub, "--help"]).stdout.contains("-j "), "\(sub) -j") }
        // No clash with the short options that were there: checks' -v, everyone's -h.
        #expect(try runBinary(["checks", "-v"]).stdout.contains("why: "))
        #expect(try runBinary(["-h"]).status == 0)
    }

    @Test func globalOptionsBeforeTheSubcommand() throws {
        let root = HostFixture.intelVFIOReady.path
        let after = try runBinary(["groups", "--root", root, "--format", "json"])
        let before = try runBinary(["--root", root, "--format", "json", "groups"])
        #expect(before.status == 0, "stderr: \(before.stderr)")
        #expect(before.stdout == after.stdout)
        let acpi = try runBinary(["--root", HostFixture.amdHost.path, "acpi"])
        #expect(acpi.status == 0 && acpi.stdout.contains("IVMD 21h"))
        // An option the subcommand does not have is that subcommand's usage error.
        let wrong = try runBinary(["--no-live", "groups", "--root", root])
        #expect(wrong.status == 64)
        #expect(wrong.stderr.contains("--no-live"))
    }

    @Test func checksAsJSONListEveryDescriptor() throws {
        for args in [["checks", "--format", "json"], ["checks", "-j"]] {
            let r = try runBinary(args)
            #expect(r.status == 0)
            let doc = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
            #expect(doc["schema_version"] as? Int == 1)
            let checks = try #require(doc["checks"] as? [[String: Any]])
            let descriptors: [CheckDescriptor] = CheckRegistry.all.map { $0.descriptor }
            #expect(checks.compactMap { $0["id"] as? String } == descriptors.map { $0.id })
            for i in 0..<min(checks.count, descriptors.count) {
                let c = checks[i]
                let registered = descriptors[i]
                #expect(c["title"] as? String == registered.title)
                #expect(c["category"] as? String == registered.category.rawValue)
                #expect(c["rationale"] as? String == registered.rationale)
                #expect(c["remedy"] as? String == registered.remedy)
                #expect(c["looks_at"] as? [String] == registered.looksAt)
                #expect(c["decides"] as? Bool == registered.decides)
            }
        }
        #expect(try runBinary(["checks", "--format", "yaml"]).status == 64)
    }

    @Test func groupsNumericLooksNothingUp() throws {
        let r = try runBinary(["groups", "--root", HostFixture.intelVFIOReady.path, "--numeric", "--format", "json"])
        #expect(r.status == 0)
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let devices = try #require((doc["groups"] as? [[String: Any]])?.flatMap { ($0["devices"] as? [[String: Any]]) ?? [] })
        #expect(!devices.isEmpty)
        for d in devices where d["bdf"] != nil {
            let v = try #require(d["vendor_id"] as? String), dev = try #require(d["device_id"] as? String)
            #expect(d["name"] as? String == "[\(v):\(dev)]")
        }
        let text = try runBinary(["groups", "--root", HostFixture.intelVFIOReady.path, "--numeric"]).stdout
        #expect(!text.contains("] ["), "the numeric name is not repeated: \(text.prefix(300))")
    }

    /// "iommu" (a category) and "iommu." (an id prefix) name the same family.
    @Test func onlyFamilyWithOrWithoutItsDot() throws {
        for family in ["iommu", "device", "kernel", "vfio", "interrupts"] {
            let bare = try CheckRegistry.select(only: [family], skip: []).map { $0.descriptor.id }
            let dotted = try CheckRegistry.select(only: [family + "."], skip: []).map { $0.descriptor.id }
            #expect(!bare.isEmpty)
            #expect(bare == dotted, "\(family)")
        }
        let iommu = try CheckRegistry.select(only: ["iommu"], skip: []).map { $0.descriptor }
        #expect(iommu.contains { $0.id == "iommu.irq-remapping" }, "filed under interrupts, named iommu.")
        #expect(iommu.allSatisfy { $0.category == .iommu || $0.id.hasPrefix("iommu.") })
        let root = HostFixture.intelVFIOReady.path
        let a = try runBinary(["--root", root, "--only", "iommu", "-j"])
        let b = try runBinary(["--root", root, "--only", "iommu.", "-j"])
        #expect(a.status == b.status)
        func ids(_ s: String) throws -> Set<String> {
            let doc = try #require(try JSONSerialization.jsonObject(with: Data(s.utf8)) as? [String: Any])
            return Set((doc["checks"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String })
        }
        #expect(try ids(a.stdout) == ids(b.stdout))
    }
}

/// `vfio-probe acpi` says what each file held.
struct ACPIInputTests {
    /// acpidump's text format, as ap_dump_table_buffer and acpi_ut_dump_buffer_to_file write it.
    static func acpidumpText(_ tables: [(signature: String, address: UInt64, bytes: [UInt8])]) -> String {
        var out = ""
        for t in tables {
            out += "\(t.signature) @ 0x\(String(format: "%016llX", t.address))\n"
            for start in stride(from: 0, to: t.bytes.count, by: 16) {
                let chunk = t.bytes[start..<min(start + 16, t.bytes.count)]
                let hex = chunk.map { String(format: "%02X ", $0) }.joined() + String(repeating: "   ", count: 16 - chunk.count)
                let ascii = String(chunk.map { (0x20..<0x7f).contains($0) ? Character(UnicodeScalar($0)) : "." })
                out += String(format: "%8.4X: ", start) + hex + " " + ascii + "\n"
            }
            out += "\n"
        }
        return out
    }

    /// A table with a valid header and checksum.
    static func table(_ signature: String, body: [UInt8]) -> [UInt8] {
        let n = UInt32(36 + body.count)
        var b = Array(signature.utf8) + [UInt8(n & 0xff), UInt8(n >> 8 & 0xff), 0, 0, 1, 0]
        b += Array("VPTEST".utf8) + Array("VPTABLE ".utf8) + [1, 0, 0, 0] + Array("VPRB".utf8) + [1, 0, 0, 0] + body
        b[9] = 0 &- b.reduce(0, &+)
        return b
    }

    static let apic = table("APIC", body: [0, 0, 0xe0, 0xfe, 1, 0, 0, 0, 0, 8, 0, 0, 1, 0, 0, 0])

    @Test func anELFIsNamedWithHowToGetTables() throws {
        let r = try runBinary(["acpi", Repo.binary])
        #expect(r.status == 1)
        #expect(r.stdout.contains("not an ACPI table: an ELF file"))
        #expect(r.stdout.contains("acpidump -b"))
        let json = try runBinary(["acpi", Repo.binary, "-j"])
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let t = try #require((doc["tables"] as? [[String: Any]])?.first)
        #expect((t["not_a_table"] as? String)?.hasPrefix("an ELF file") == true)
    }

    @Test func aTableThatIsNotAnIOMMUTableIsNamedNotDecoded() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data(Self.apic).write(to: URL(fileURLWithPath: dir + "/APIC.dat"))
        let r = try runBinary(["acpi", dir + "/APIC.dat"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("APIC (\(dir)/APIC.dat): 52 bytes: not an IOMMU table (MADT: the interrupt controllers); not decoded"))
        let json = try runBinary(["acpi", dir + "/APIC.dat", "--format", "json"])
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let t = try #require((doc["tables"] as? [[String: Any]])?.first)
        #expect(t["signature"] as? String == "APIC" && t["iommu_table"] as? Bool == false)
        // Only the header is read: its nine fields, no summary.
        #expect((t["fields"] as? [[String: Any]])?.count == 9)
        #expect((t["summary"] as? [String])?.isEmpty == true)
    }

    @Test(.enabled(if: SharedTables.available, Comment(rawValue: SharedTables.absent)))
    func acpidumpsTextOutputIsReadTableByTable() throws {
        let dmar = try SharedTables.bytes("dmar/hp-proliant-dl360-g7.DMAR.bin")
        let ivrs = try SharedTables.bytes("ivrs/asus-prime-x399-a.IVRS.bin")
        let rsdp = Array("RSD PTR ".utf8) + [UInt8](repeating: 0, count: 12)
        let text = Self.acpidumpText([
            ("RSD ", 0xf_0490, rsdp), ("APIC", 0x7b7f_0000, Self.apic), ("DMAR", 0x7b7f_5000, dmar),
            ("SSDT", 0x7b7f_6000, Self.table("SSDT", body: [0x10])), ("SSDT", 0x7b7f_7000, Self.table("SSDT", body: [0x11])),
            ("IVRS", 0x7b7f_8000, ivrs),
        ])
        // The parser gives back exactly the bytes.
        guard case .acpidumpText(let parsed) = ACPIFile.identify(Array(text.utf8)) else {
            Issue.record("not read as acpidump text")
            return
        }
        #expect(parsed.map(\.signature) == ["RSDP", "APIC", "DMAR", "SSDT", "SSDT", "IVRS"])
        #expect(try parsed[2].bytes.get() == dmar)
        #expect(try parsed[5].bytes.get() == ivrs)
        #expect(parsed[2].address == 0x7b7f_5000)

        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/acpidump.txt"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let r = try runBinary(["acpi", path])
        #expect(r.status == 0, "stdout: \(r.stdout)")
        #expect(
            r.stdout.contains(
                "acpidump's text output, 6 tables; IOMMU tables: DMAR, IVRS; not IOMMU tables, not decoded: RSDP, APIC, SSDT×2"))
        // The same decode as the binary table's.
        #expect(r.stdout.contains("RMRR 2 segment 0000 0xdf61e000-0xdf61ffff: PCI endpoint 0:1.0/0.0"))
        let binary = try runBinary(["acpi", SharedTables.dir + "/dmar/hp-proliant-dl360-g7.DMAR.bin"])
        let decoded = binary.stdout.split(separator: "\n").dropFirst().prefix { !$0.isEmpty }
        #expect(!decoded.isEmpty)
        for line in decoded { #expect(r.stdout.contains(line)) }
        #expect(r.stdout.contains("DMAR (\(path) @ 0x7b7f5000, line "))

        let json = try runBinary(["acpi", path, "-j"])
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let tables = try #require(doc["tables"] as? [[String: Any]])
        #expect(tables.map { $0["signature"] as? String } == ["RSDP", "APIC", "DMAR", "SSDT", "SSDT", "IVRS"])
        #expect(tables.map { $0["iommu_table"] as? Bool } == [false, false, true, false, false, true])
        #expect(tables[2]["address"] as? String == "0x000000007b7f5000")
        #expect(tables.allSatisfy { $0["format"] as? String == "acpidump-text" })
    }

    @Test func aDamagedDumpSaysWhereAndFails() throws {
        var text = Self.acpidumpText([("APIC", 0x1000, Self.apic)])
        text = text.replacingOccurrences(of: "    0010: ", with: "    0020: ")
        guard case .acpidumpText(let parsed) = ACPIFile.identify(Array(text.utf8)) else {
            Issue.record("not read as acpidump text")
            return
        }
        #expect(throws: ACPIDecodeError.self) { try parsed[0].bytes.get() }
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try text.write(toFile: dir + "/dump.txt", atomically: true, encoding: .utf8)
        let r = try runBinary(["acpi", dir + "/dump.txt"])
        #expect(r.status == 1)
        #expect(r.stdout.contains("line 3: offset 0x20 where 0x10 was expected"))
    }

    @Test func otherFilesSayWhatTheyAre() throws {
        #expect(ACPIFile.identify([]) == .notATable("an empty file"))
        #expect(ACPIFile.identify(Array("hello\nworld\n".utf8)) == .notATable("a text file without acpidump's \"SIG @ 0x...\" table lines"))
        #expect(ACPIFile.identify([0x1f, 0x8b, 8, 0]) == .notATable("gzip-compressed data (decompress it first)"))
        guard case .notATable(let what) = ACPIFile.identify([0xde, 0xad, 0xbe, 0xef]) else {
            Issue.record("binary junk taken for a table")
            return
        }
        #expect(what.contains("signature"))
        // A table whose signature is valid but whose bytes are cut is still a table (the decoder names the offset).
        guard case .table = ACPIFile.identify(Array(Self.apic.prefix(20))) else {
            Issue.record("a truncated table not taken for a table")
            return
        }
    }

    @Test func rootWithFilesIsAUsageError() throws {
        let r = try runBinary(["acpi", "--root", HostFixture.amdHost.path, Repo.binary])
        #expect(r.status == 64)
        #expect(r.stderr.contains("--root"))
    }
}

/// `vfio-probe snapshot`'s edges.
struct SnapshotCommandTests {
    @Test func missingDeviceWarnsAndParentsAreMade() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = dir + "/a/b/snap"
        let r = try runBinary([
            "snapshot", "--root", HostFixture.intelVFIOReady.path, "--output", out, "-d", "0000:99:00.0", "--device", "01:00.0",
        ])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.stderr.contains("warning: --device 0000:99:00.0: no such PCI device"))
        #expect(!r.stderr.contains("0000:01:00.0"))
        #expect(FileManager.default.fileExists(atPath: out + "/sys/bus/pci/devices/0000:01:00.0"))
        let readme = try String(contentsOfFile: out + "/vfio-probe-snapshot/README", encoding: .utf8)
        #expect(readme.contains("no such device: 0000:99:00.0"))
        #expect(readme.contains("/proc/cmdline: the kernel command line"))
        #expect(readme.contains("no serial number"))
        #expect(r.stdout.contains("vfio-probe-snapshot/README"))
    }

    @Test func emptyOutputIsAUsageError() throws {
        let r = try runBinary(["snapshot", "--root", HostFixture.intelVFIOReady.path, "--output", ""])
        #expect(r.status == 64)
        #expect(r.stderr.contains("--output"))
        #expect(try runBinary(["--root", HostFixture.intelVFIOReady.path, "--output", ""]).status == 64)
    }

    @Test func parentThatIsAFileIsRefused() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data().write(to: URL(fileURLWithPath: dir + "/file"))
        let r = try runBinary(["snapshot", "--root", HostFixture.intelVFIOReady.path, "--output", dir + "/file/snap"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("exists and is not a folder"))
    }

    /// Every file a snapshot copies is one the README's list names.
    @Test(arguments: [HostFixture.hostInUse, .intelVFIOReady, .amdHost, .bootBinding, .hyperVGuest, .mdevNoIOMMU])
    func everyFileCopiedIsListed(fixture: HostFixture) throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try Snapshot.capture(root: fixture.path, scope: .all, output: dir + "/s")
        let files = try #require(FileManager.default.enumerator(atPath: dir + "/s")).compactMap { $0 as? String }
            .filter { !$0.hasPrefix("vfio-probe-snapshot") }
            .filter { (try? FileManager.default.attributesOfItem(atPath: dir + "/s/" + $0)[.type] as? FileAttributeType) == .typeRegular }
        #expect(!files.isEmpty)
        for f in files { #expect(Snapshot.contents(["/" + f]).count >= 1, "\(fixture): /\(f) is in no item of the snapshot's README") }
    }

    /// What the README says a snapshot holds is what one holds: each item names paths captured.
    @Test func contentsFollowThePathsCaptured() {
        #expect(Snapshot.contents(["/proc/cmdline"]).count == 1)
        #expect(Snapshot.contents(["/sys/bus/pci/devices/0000:00:00.0/vendor"]).allSatisfy { !$0.contains("cmdline") })
        #expect(Snapshot.contents([]).isEmpty)
    }
}
