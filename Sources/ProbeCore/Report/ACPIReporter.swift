import ACPI

/// `vfio-probe acpi`: decoded IOMMU tables for an operator (text) or a tool (JSON, every field
/// named). Pure renderers over decode results.
public enum ACPIReporter {
    /// One file named on the command line, or one of the host's tables.
    public struct Input: Sendable {
        public enum Content: Sendable {
            /// One table's bytes.
            case table(Table)
            /// acpidump's text output: its tables in order.
            case dump([DumpedTable])
            /// The file holds no ACPI table: what it is instead.
            case notATable(String)
            /// Why the bytes could not be read (not root, missing file).
            case unreadable(String)
        }
        public var source: String
        public var content: Content
        public init(source: String, content: Content) {
            self.source = source
            self.content = content
        }

        /// Read, and every IOMMU table in it decoded (a table that is not an IOMMU table is named, not decoded).
        public var ok: Bool {
            switch content {
            case .table(let t): t.ok
            case .dump(let ts): ts.allSatisfy(\.table.ok)
            case .notATable, .unreadable: false
            }
        }
    }

    public enum Table: Sendable {
        case decoded(DecodedTable)
        /// Not an IOMMU table: its signature and length, and its header's fields when it has the
        /// standard header (the RSDP and the FACS do not).
        case other(signature: String, length: Int, header: DecodedTable?)
        case failed(ACPIDecodeError)
        var ok: Bool { if case .failed = self { false } else { true } }
    }

    public struct DumpedTable: Sendable {
        public var signature: String
        public var address: UInt64
        public var line: Int
        public var table: Table
    }

    public static func text(_ inputs: [Input]) -> String {
        if inputs.isEmpty { return "no DMAR, IVRS, IORT or VIOT table\n" }
        var out: [String] = []
        for i in inputs {
            switch i.content {
            case .unreadable(let why): out += ["\(i.source): cannot read: \(why)", ""]
            case .notATable(let what):
                out += ["\(i.source): not an ACPI table: \(what); \(ACPIFile.howToGetTables)", ""]
            case .table(let t): out += text(t, source: i.source) + [""]
            case .dump(let tables):
                let iommu = tables.filter { FirmwareTables.iommuSignatures.contains($0.signature) }
                let others = tables.filter { !FirmwareTables.iommuSignatures.contains($0.signature) }
                var line = "\(i.source): acpidump's text output, \(tables.count) table\(tables.count == 1 ? "" : "s")"
                line +=
                    iommu.isEmpty
                    ? "; no IOMMU table (DMAR, IVRS, IORT, VIOT) among them"
                    : "; IOMMU tables: \(iommu.map(\.signature).joined(separator: ", "))"
                if !others.isEmpty { line += "; not IOMMU tables, not decoded: \(counted(others.map(\.signature)))" }
                out.append(line)
                for t in others {
                    if case .failed(let e) = t.table { out.append("  \(t.signature) (line \(t.line)): does not parse: \(e)") }
                }
                out.append("")
                for t in iommu {
                    out += text(t.table, source: "\(i.source) @ 0x\(hex(t.address, 1)), line \(t.line)") + [""]
                }
            }
        }
        // File names and the tables' own strings (OEM ids, ANDD names) are untrusted text.
        return out.map(Escaping.terminal).joined(separator: "\n")
    }

    /// "SSDT×3, APIC" in order of first appearance.
    static func counted(_ names: [String]) -> String {
        var order: [String] = []
        var n: [String: Int] = [:]
        for s in names {
            if n[s] == nil { order.append(s) }
            n[s, default: 0] += 1
        }
        return order.map { n[$0]! > 1 ? "\($0)×\(n[$0]!)" : $0 }.joined(separator: ", ")
    }

    static func text(_ t: Table, source: String) -> [String] {
        switch t {
        case .failed(let e): return ["\(source): does not decode: \(e)"]
        case .other(let sig, let length, _):
            return [
                "\(sig) (\(source)): \(length) bytes: not an IOMMU table\(ACPIName.describe(sig).map { " (\($0))" } ?? ""); not decoded"
            ]
        case .decoded(let t):
            let h = t.header
            var out = [
                "\(h.signature) (\(source)): \(h.length) bytes, revision \(h.revision), checksum \(h.checksumValid ? "ok" : "WRONG"), OEM \"\(h.oemID)\" \"\(h.oemTableID)\" rev \(h.oemRevision)"
            ]
            out += body(t).map { "  " + $0 }
            out += t.warnings.map { "  warning: " + $0 }
            return out
        }
    }

    static func body(_ t: DecodedTable) -> [String] {
        func scopes(_ s: [DeviceScope]) -> String { s.map { "\($0.typeName) \($0.pathText)" }.joined(separator: ", ") }
        switch t.body {
        case .dmar(let d):
            var flags: [String] = []
            if d.interruptRemapping { flags.append("INTR_REMAP") }
            if d.x2APICOptOut { flags.append("X2APIC_OPT_OUT") }
            if d.dmaControlPlatformOptIn { flags.append("DMA_CTRL_PLATFORM_OPT_IN") }
            var l = ["host address width \(d.hostAddressWidth), flags 0x\(hex(d.flags, 2)) \(flags.joined(separator: "|"))"]
            for u in d.units {
                l.append(
                    "DRHD segment \(hex(u.segment, 4)) registers 0x\(hex(u.registerBase, 1))\(u.includePCIAll ? " INCLUDE_PCI_ALL" : "")\(u.scopes.isEmpty ? "" : ": " + scopes(u.scopes))"
                )
            }
            for (n, r) in d.reservedMemory.enumerated() {
                l.append("RMRR \(n) segment \(hex(r.segment, 4)) 0x\(hex(r.base, 1))-0x\(hex(r.limit, 1)): \(scopes(r.scopes))")
            }
            for a in d.atsr { l.append("ATSR segment \(hex(a.segment, 4))\(a.allPorts ? " ALL_PORTS" : ""): \(scopes(a.scopes))") }
            for a in d.affinity { l.append("RHSA registers 0x\(hex(a.registerBase, 1)) proximity domain \(a.proximityDomain)") }
            for a in d.namespaceDevices { l.append("ANDD device \(a.deviceNumber) \(a.name)") }
            for s in d.satc { l.append("SATC segment \(hex(s.segment, 4))\(s.atcRequired ? " ATC_REQUIRED" : ""): \(scopes(s.scopes))") }
            for s in d.sidp { l.append("SIDP segment \(hex(s.segment, 4)): \(scopes(s.scopes))") }
            return l
        case .ivrs(let i):
            var l = [
                "IVinfo 0x\(hex(i.ivinfo, 8)): EFR \(i.efrSupported ? "supported" : "not supported"), DMA remap \(i.dmaRemapSupported ? "yes" : "no"), VA \(i.virtualAddressSize) PA \(i.physicalAddressSize) GVA \(i.gvaSize) bits"
            ]
            for h in i.hardware {
                l.append(
                    "IVHD \(hex(h.type, 2))h: IOMMU \(IVRS.bdf(h.deviceID)) segment \(hex(h.segment, 4)) registers 0x\(hex(h.base, 1)), \(h.entries.count) device entries\(h.efr.map { ", EFR 0x\(hex($0, 1))" } ?? "")"
                )
                for e in h.entries where e.type != 0 { l.append("  \(entry(e))") }
            }
            for m in i.memory {
                l.append("IVMD \(hex(m.type, 2))h: \(m.scope) 0x\(hex(m.start, 1)) length 0x\(hex(m.length, 1)) flags 0x\(hex(m.flags, 2))")
            }
            return l
        case .iort(let io):
            return io.nodes.map { n in
                "node @0x\(hex(n.offset, 1)) \(n.typeName) rev \(n.revision) id \(n.identifier), \(n.mappings.count) ID mapping\(n.mappings.count == 1 ? "" : "s")"
            }
        case .viot(let v):
            return v.nodes.map { n in
                switch n {
                case .pciRange(_, let ep, let s0, let s1, let b0, let b1, let out):
                    "PCI range segments \(s0)-\(s1) BDF \(IVRS.bdf(b0))-\(IVRS.bdf(b1)) endpoint \(ep) → node 0x\(hex(out, 1))"
                case .mmioEndpoint(_, let ep, let base, let out): "MMIO endpoint \(ep) at 0x\(hex(base, 1)) → node 0x\(hex(out, 1))"
                case .virtioPCI(let o, let seg, let bdf): "virtio-iommu (PCI) at 0x\(hex(o, 1)): \(hex(seg, 4)):\(IVRS.bdf(bdf))"
                case .virtioMMIO(let o, let base): "virtio-iommu (MMIO) at 0x\(hex(o, 1)): 0x\(hex(base, 1))"
                case .unknown(let o, let type): "unknown node type \(type) at 0x\(hex(o, 1))"
                }
            }
        case .other:
            return []
        }
    }

    static func entry(_ e: IVRS.Entry) -> String {
        let id = IVRS.bdf(e.deviceID)
        switch e.kind {
        case .all: return "all devices"
        case .select: return "select \(id)"
        case .rangeStart: return "range from \(id)"
        case .rangeEnd: return "range to \(id)"
        case .alias(let s): return "alias \(id) as \(IVRS.bdf(s))"
        case .aliasRangeStart(let s): return "alias range from \(id) as \(IVRS.bdf(s))"
        case .extendedSelect(let x): return "extended select \(id) 0x\(hex(x, 8))"
        case .extendedRangeStart(let x): return "extended range from \(id) 0x\(hex(x, 8))"
        case .special(let handle, let source, let variety):
            return "special \(variety == 1 ? "IOAPIC" : variety == 2 ? "HPET" : "variety \(variety)") \(handle) as \(IVRS.bdf(source))"
        case .acpiHID(let hid, let cid, let uid):
            return "ACPI device \(hid)\(cid.isEmpty ? "" : " cid \(cid)")\(uid.isEmpty ? "" : " uid \(uid)") as \(id)"
        case .unknown: return "unknown entry type 0x\(hex(e.type, 2)) (skipped)"
        }
    }

    public static func json(_ inputs: [Input]) -> String {
        var tables: [JSONValue] = []
        for i in inputs {
            var kv: [(String, JSONValue)] = [("source", .string(i.source))]
            switch i.content {
            case .unreadable(let why): tables.append(.object(kv + [("error", .string("cannot read: " + why))]))
            case .notATable(let what):
                tables.append(
                    .object(
                        kv + [("error", .string("not an ACPI table: \(what); \(ACPIFile.howToGetTables)")), ("not_a_table", .string(what))])
                )
            case .table(let t): tables.append(.object(kv + json(t)))
            case .dump(let ts):
                kv.append(("format", .string("acpidump-text")))
                for t in ts {
                    tables.append(
                        .object(kv + [("address", .string("0x" + hex(t.address, 16))), ("line", .int(Int64(t.line)))] + json(t.table)))
                }
            }
        }
        return JSONValue.object([("schema_version", .int(1)), ("tables", .array(tables))]).render() + "\n"
    }

    static func json(_ h: ACPIHeader) -> JSONValue {
        .object([
            ("length", .int(Int64(h.length))), ("revision", .int(Int64(h.revision))),
            ("checksum", .int(Int64(h.checksum))), ("checksum_valid", .bool(h.checksumValid)),
            ("oem_id", .string(h.oemID)), ("oem_table_id", .string(h.oemTableID)),
            ("oem_revision", .int(Int64(h.oemRevision))), ("creator_id", .string(h.creatorID)),
            ("creator_revision", .int(Int64(h.creatorRevision))),
        ])
    }

    static func json(_ t: Table) -> [(String, JSONValue)] {
        switch t {
        case .failed(let e): return [("error", .string(e.description)), ("error_offset", .int(Int64(e.offset)))]
        case .other(let sig, let length, let header):
            var kv: [(String, JSONValue)] = [("signature", .string(sig)), ("iommu_table", .bool(false)), ("length", .int(Int64(length)))]
            kv.append(("description", JSONValue(ACPIName.describe(sig))))
            if let header { kv += decoded(header) }
            return kv
        case .decoded(let t): return [("signature", .string(t.header.signature)), ("iommu_table", .bool(true))] + decoded(t)
        }
    }

    /// The header, the summary, the warnings and every field read.
    static func decoded(_ t: DecodedTable) -> [(String, JSONValue)] {
        [
            ("header", json(t.header)), ("summary", JSONValue(body(t))), ("warnings", JSONValue(t.warnings)),
            (
                "fields",
                .array(
                    t.fields.map { f in
                        let v: JSONValue
                        switch f.value {
                        case .int(let n): v = .string("0x" + hex(n, 1))
                        case .string(let s): v = .string(s)
                        case .bytes(let b): v = .string(b.map { hex($0, 2) }.joined(separator: " "))
                        }
                        return .object([
                            ("offset", .int(Int64(f.offset))), ("length", .int(Int64(f.length))),
                            ("name", .string(f.name)), ("value", v),
                        ])
                    })
            ),
        ]
    }

    /// The host's IOMMU tables, read through HostFS.
    public static func hostTables(root: String) throws(HostFSError) -> [Input] {
        let fs = try HostFS(root: root)
        let dir = "/sys/firmware/acpi/tables"
        let present: [String]
        switch fs.list(dir) {
        case .value(let names): present = names.filter(FirmwareTables.iommuSignatures.contains)
        case .absent: throw .missing(dir)
        case .unreadable(let why): throw why
        }
        return present.map { sig in
            let path = "\(dir)/\(sig)"
            switch fs.read(path, limit: 1 << 20) {
            case .value(let bytes): return Input(source: path, content: .table(decodeTable(bytes)))
            case .unreadable(.permissionDenied):
                return Input(
                    source: path,
                    content: .unreadable("the tables are readable only by root (run as root, or pass table files from acpidump/acpixtract)")
                )
            case .unreadable(let why): return Input(source: path, content: .unreadable(why.description))
            case .absent: return Input(source: path, content: .unreadable("vanished while being read"))
            }
        }
    }

    /// A file named on the command line: one table, acpidump's text output, or not ACPI at all.
    public static func decode(file: String, bytes: [UInt8]) -> Input {
        switch ACPIFile.identify(bytes) {
        case .table(let b): return Input(source: file, content: .table(decodeTable(b)))
        case .notATable(let what): return Input(source: file, content: .notATable(what))
        case .acpidumpText(let tables):
            return Input(
                source: file,
                content: .dump(
                    tables.map { t in
                        let table: Table =
                            switch t.bytes {
                            case .success(let b): decodeTable(b, signature: t.signature)
                            case .failure(let e): .failed(e)
                            }
                        return DumpedTable(signature: t.signature, address: t.address, line: t.line, table: table)
                    }))
        }
    }

    /// One table's bytes: an IOMMU table decoded, any other named. The RSDP and the FACS have no
    /// standard header (ACPI 6.5 5.2.5, 5.2.10): only their name and length are given.
    static func decodeTable(_ bytes: [UInt8], signature given: String? = nil) -> Table {
        let sig = bytes.starts(with: Array("RSD PTR ".utf8)) ? "RSDP" : given ?? String(decoding: bytes.prefix(4), as: UTF8.self)
        if sig == "RSDP" || sig == "FACS" { return .other(signature: sig, length: bytes.count, header: nil) }
        do {
            let t = try ACPI.decode(bytes)
            if case .other = t.body { return .other(signature: t.header.signature, length: Int(t.header.length), header: t) }
            return .decoded(t)
        } catch {
            return .failed(error)
        }
    }
}
