import ACPI
import Foundation
import Testing

/// The real tables in ../shared/fixtures/acpi, each with ACPICA's `iasl -d` disassembly beside it.
enum SharedTables {
    static let dir = Repo.root + "/../shared/fixtures/acpi"
    static let available = FileManager.default.fileExists(atPath: dir)
    static let absent = "../shared/fixtures/acpi is absent (a user's clone): the real-table tests do not run"

    /// Every .bin that has a .dsl, as "folder/name".
    static var withDisassembly: [String] {
        ["dmar", "ivrs", "qemu", "synthetic"].flatMap { sub -> [String] in
            ((try? FileManager.default.contentsOfDirectory(atPath: dir + "/" + sub)) ?? [])
                .filter { $0.hasSuffix(".bin") && FileManager.default.fileExists(atPath: dir + "/" + sub + "/" + $0.dropLast(4) + ".dsl") }
                .map { sub + "/" + $0.dropLast(4) }
        }.sorted()
    }
    static var allBinaries: [String] {
        ["dmar", "ivrs", "qemu", "synthetic"].flatMap { sub in
            ((try? FileManager.default.contentsOfDirectory(atPath: dir + "/" + sub)) ?? []).filter { $0.hasSuffix(".bin") }.map {
                sub + "/" + $0
            }
        }.sorted()
    }
    static func bytes(_ file: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: dir + "/" + file))) }
}

/// One line of iasl's disassembly: `[030h 0048 002h]   Subtable Type : 0000 [Hardware Unit Definition]`.
struct DSLField: CustomStringConvertible {
    var offset: Int
    var length: Int
    var name: String
    var value: ACPIField.Value
    var description: String { "\(name) @0x\(String(offset, radix: 16)) = \(value)" }

    static func parse(_ text: String) -> [DSLField] {
        text.split(separator: "\n").compactMap { line -> DSLField? in
            guard line.hasPrefix("["), let close = line.firstIndex(of: "]") else { return nil }
            let pos = line[line.index(after: line.startIndex)..<close].split(separator: " ")
            guard pos.count == 3, let off = Int(pos[1]), let len = Int(pos[2].dropLast(), radix: 16) else { return nil }
            let rest = line[line.index(after: close)...]
            guard let sep = rest.range(of: " : ") else { return nil }
            let name = rest[..<sep.lowerBound].trimmingCharacters(in: .whitespaces)
            var raw = rest[sep.upperBound...].trimmingCharacters(in: .whitespaces)
            if let c = raw.range(of: "/*") { raw = raw[..<c.lowerBound].trimmingCharacters(in: .whitespaces) }
            let value: ACPIField.Value
            if raw.hasPrefix("\"") {
                guard let end = raw.lastIndex(of: "\""), end > raw.startIndex else { return nil }
                value = .string(String(raw[raw.index(after: raw.startIndex)..<end]))
            } else if raw.hasPrefix("[") {
                return nil  // a composite's label, its parts follow
            } else {
                let first = raw.split(separator: " ").first.map(String.init) ?? ""
                if first.contains(",") {
                    value = .bytes(first.split(separator: ",").compactMap { UInt8($0, radix: 16) })
                } else if len > 8 {
                    value = .bytes(raw.split(separator: " ").compactMap { UInt8($0, radix: 16) })
                } else {
                    guard let v = UInt64(first, radix: 16) else { return nil }
                    value = .int(v)
                }
            }
            return DSLField(offset: off, length: len, name: name, value: value)
        }
    }
}

struct ACPIDisassemblyTests {
    /// Every field iasl prints is decoded at the same offset, under the same name, to the same value.
    @Test(.enabled(if: SharedTables.available, Comment(rawValue: SharedTables.absent)), arguments: SharedTables.withDisassembly)
    func agreesWithIasl(table: String) throws {
        let bin = try SharedTables.bytes(table + ".bin")
        let dslText = try String(contentsOfFile: SharedTables.dir + "/" + table + ".dsl", encoding: .utf8)
        let expected = DSLField.parse(dslText)
        #expect(expected.count > 12, "the .dsl parsed")
        let t = try ACPI.decode(bin)
        var missing: [String] = []
        var wrong: [String] = []
        for e in expected {
            // iasl shows an IORT named component's "Padding" with bytes from the table's start
            // (0x72: "IORT\\."), not from the node: a disassembler quirk, not a field to match.
            if e.name == "Padding" && table.contains("iort") { continue }
            let mine = t.fields.filter { $0.offset == e.offset && $0.name == e.name }
            guard let f = mine.first else { missing.append(e.description); continue }
            if Self.iaslView(f.value) != e.value { wrong.append("\(e) but decoded \(f.value)") }
        }
        #expect(missing.isEmpty, "not decoded: \(missing.prefix(12))")
        #expect(wrong.isEmpty, "disagree: \(wrong.prefix(12))")
        #expect(t.header.checksumValid == !dslText.contains("Incorrect checksum"))
    }

    /// iasl prints a non-printable byte in a name as a space; the decoder keeps it as \xNN.
    static func iaslView(_ v: ACPIField.Value) -> ACPIField.Value {
        guard case .string(let s) = v, s.contains("\\x") else { return v }
        var out = ""
        var rest = Substring(s)
        while let r = rest.range(of: "\\x") {
            out += rest[..<r.lowerBound] + " "
            rest = rest[r.upperBound...].dropFirst(2)
        }
        return .string(out + rest)
    }

    /// Truncated at every offset, every real table either decodes or fails with an offset: no
    /// trap, no endless loop.
    @Test(.enabled(if: SharedTables.available, Comment(rawValue: SharedTables.absent)), arguments: SharedTables.allBinaries)
    func survivesTruncation(table: String) throws {
        let bin = try SharedTables.bytes(table)
        for cut in 0..<bin.count {
            var b = Array(bin.prefix(cut))
            _ = try? ACPI.decode(b)
            // The same, with the header's length patched to the cut so the body is what is short.
            if cut >= 8 {
                b[4] = UInt8(cut & 0xff); b[5] = UInt8((cut >> 8) & 0xff); b[6] = 0; b[7] = 0
                _ = try? ACPI.decode(b)
            }
        }
        #expect(throws: ACPIDecodeError.self) { try ACPI.decode(Array(bin.prefix(bin.count - 1))) }
    }

    @Test(.enabled(if: SharedTables.available, Comment(rawValue: SharedTables.absent)), arguments: SharedTables.allBinaries)
    func survivesCorruptLengths(table: String) throws {
        let bin = try SharedTables.bytes(table)
        // Zero and huge lengths written over every 16-bit position past the header.
        for at in stride(from: 36, to: bin.count - 1, by: 1) {
            for v: UInt16 in [0, 1, 0xffff] {
                var b = bin
                b[at] = UInt8(v & 0xff); b[at + 1] = UInt8(v >> 8)
                _ = try? ACPI.decode(b)
            }
        }
    }
}

struct ACPIDecoderTests {
    func table(_ file: String) throws -> DecodedTable { try ACPI.decode(try SharedTables.bytes(file)) }

    @Test(.enabled(if: SharedTables.available, Comment(rawValue: SharedTables.absent)))
    func hpProLiantRMRRsCoverAddInSlots() throws {
        let t = try table("dmar/hp-proliant-dl360-g7.DMAR.bin")
        guard case .dmar(let d) = t.body else { Issue.record("not DMAR"); return }
        #expect(d.hostAddressWidth == 39)
        #expect(d.flags == 0x2 && !d.interruptRemapping && d.x2APICOptOut)
        #expect(d.units.count == 1 && d.units[0].includePCIAll)
        #expect(d.reservedMemory.count == 3)
        #expect(d.reservedMemory.flatMap(\.scopes).contains { $0.path.count == 2 }, "multi-hop scope paths")
        #expect(t.header.oemID == "HP    ")
        #expect(t.header.creatorID == "\\xd2\\x04", "non-ASCII bytes kept visible")
    }

    @Test(.enabled(if: SharedTables.available, Comment(rawValue: SharedTables.absent)))
    func framework13HasSATCAndSIDP() throws {
        guard case .dmar(let d) = try table("dmar/framework-laptop-13-mtl.DMAR.bin").body else { Issue.record("not DMAR"); return }
        #expect(d.hostAddressWidth == 42)
        #expect(d.satc.count == 1 && d.satc[0].atcRequired)
        #expect(d.sidp.count == 1)
        #expect(d.dmaControlPlatformOptIn)
    }

    @Test(.enabled(if: SharedTables.available, Comment(rawValue: SharedTables.absent)))
    func ivrsBlocksAndEntries() throws {
        let t = try table("ivrs/asrock-x370-killer-sli.IVRS.bin")
        guard case .ivrs(let i) = t.body else { Issue.record("not IVRS"); return }
        #expect(i.efrSupported && i.physicalAddressSize == 48 && i.virtualAddressSize == 64 && i.gvaSize == 48)
        #expect(i.hardware.map(\.type) == [0x10, 0x11, 0x40])
        #expect(i.hardware[2].entries.contains { if case .acpiHID(let hid, _, _) = $0.kind { hid == "AMDI0040" } else { false } })
        let m = try table("ivrs/mechrevo-wujie14xa.IVRS.bin")
        guard case .ivrs(let mi) = m.body else { return }
        #expect(mi.memory.count == 5 && mi.memory.allSatisfy { $0.type == 0x22 })
        #expect(try table("ivrs/supermicro-h8dgu.IVRS.bin").warnings.isEmpty, "type 0 entries are padding, not unknown")
    }

    @Test(.enabled(if: SharedTables.available, Comment(rawValue: SharedTables.absent)))
    func qemuTablesAndSyntheticOnes() throws {
        guard case .viot(let v) = try table("qemu/qemu-virtio.VIOT.bin").body else { Issue.record("not VIOT"); return }
        #expect(v.nodes.count == 2)
        guard case .iort(let io) = try table("synthetic/iort-0001.IORT-0001.bin").body else { Issue.record("not IORT"); return }
        #expect(io.nodes.map(\.type) == [0, 1, 2, 3, 4, 5, 6])
        // struct acpi_iort_root_complex: PASID Capabilities (u16) at +17 of the node's data, when
        // the node is at least 36 bytes long.
        let raw = try SharedTables.bytes("synthetic/iort-0001.IORT-0001.bin")
        for n in io.nodes where n.type == 2 {
            guard case .rootComplex(_, _, let pasid) = n.kind else { Issue.record("not a root complex"); continue }
            let length = Int(raw[n.offset + 1]) | Int(raw[n.offset + 2]) << 8
            let want = length >= 36 ? UInt16(raw[n.offset + 33]) | UInt16(raw[n.offset + 34]) << 8 : nil
            #expect(pasid == want)
        }
        #expect(!(try table("synthetic/iort-0001.IORT-0001.bin")).header.checksumValid)
        // The deliberately corrupted IVRS: a clear error or warnings, never a crash.
        do {
            let t = try table("synthetic/ivrs-0001.IVRS-0002.bin")
            #expect(!t.warnings.isEmpty || !t.header.checksumValid)
        } catch {
            #expect(!(error as? ACPIDecodeError)!.message.isEmpty)
        }
    }

    @Test func zeroLengthSubtablesAreErrors() {
        var b = [UInt8](repeating: 0, count: 60)
        b[0...3] = [0x44, 0x4d, 0x41, 0x52]  // DMAR
        b[4] = 60
        b[36] = 38
        b[48] = 0; b[49] = 0; b[50] = 0; b[51] = 0  // type 0, length 0
        #expect(throws: ACPIDecodeError(48, "remapping structure type 0 has length 0 (shorter than its own header)")) { try ACPI.decode(b) }
        #expect(throws: ACPIDecodeError.self) { try ACPI.decode([]) }
        #expect(throws: ACPIDecodeError.self) { try ACPI.decode(Array(b.prefix(20))) }
    }
}

/// Inputs the fuzzers found, kept as tests (Tests/Fixtures/fuzz, named after what they broke).
struct FuzzRegressionTests {
    static let dir = Repo.root + "/Tests/Fixtures/fuzz"
    static var files: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".bin") }.sorted()
    }

    /// Decodes the input the way its fuzz target does: the signature from the file name and the
    /// length forced to the input's size.
    @Test(arguments: files)
    func decodesWithoutTrapping(file: String) throws {
        var b = Array(try Data(contentsOf: URL(fileURLWithPath: Self.dir + "/" + file)))
        let sig = file.prefix(4).uppercased()
        b.replaceSubrange(0..<4, with: Array(sig.utf8))
        let n = UInt32(b.count)
        b.replaceSubrange(4..<8, with: [UInt8(n & 0xff), UInt8((n >> 8) & 0xff), UInt8((n >> 16) & 0xff), UInt8(n >> 24)])
        do {
            let t = try ACPI.decode(b)
            #expect(t.header.signature == sig)
        } catch {
            #expect(error.offset >= 0)
        }
    }
}
