import ACPI

/// `vfio-probe acpi`: decoded IOMMU tables for an operator (text) or a tool (JSON, every field
/// named). Pure renderers over decode results.
public enum ACPIReporter {
    public struct Input: Sendable {
        public var source: String
        public var result: Result<DecodedTable, ACPIDecodeError>?
        /// Why the bytes could not be read (not root, missing file).
        public var unreadable: String?
        public init(source: String, result: Result<DecodedTable, ACPIDecodeError>?, unreadable: String?) {
            self.source = source
            self.result = result
            self.unreadable = unreadable
        }
    }

    public static func text(_ inputs: [Input]) -> String {
        if inputs.isEmpty { return "no DMAR, IVRS, IORT or VIOT table\n" }
        var out: [String] = []
        for i in inputs {
            if let why = i.unreadable {
                out += ["\(i.source): cannot read: \(why)", "", ""]
                continue
            }
            switch i.result {
            case .failure(let e)?: out.append("\(i.source): does not decode: \(e)")
            case .success(let t)?:
                let h = t.header
                out.append(
                    "\(h.signature) (\(i.source)): \(h.length) bytes, revision \(h.revision), checksum \(h.checksumValid ? "ok" : "WRONG"), OEM \"\(h.oemID)\" \"\(h.oemTableID)\" rev \(h.oemRevision)"
                )
                out += body(t).map { "  " + $0 }
                out += t.warnings.map { "  warning: " + $0 }
            case nil: break
            }
            out.append("")
        }
        // File names and the tables' own strings (OEM ids, ANDD names) are untrusted text.
        return out.map(Escaping.terminal).joined(separator: "\n")
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
        JSONValue.object([
            ("schema_version", .int(1)),
            (
                "tables",
                .array(
                    inputs.map { i -> JSONValue in
                        var kv: [(String, JSONValue)] = [("source", .string(i.source))]
                        if let why = i.unreadable { kv.append(("error", .string("cannot read: " + why))); return .object(kv) }
                        switch i.result {
                        case .failure(let e)?:
                            kv.append(("error", .string(e.description)))
                            kv.append(("error_offset", .int(Int64(e.offset))))
                        case .success(let t)?:
                            let h = t.header
                            kv += [
                                ("signature", .string(h.signature)),
                                (
                                    "header",
                                    .object([
                                        ("length", .int(Int64(h.length))), ("revision", .int(Int64(h.revision))),
                                        ("checksum", .int(Int64(h.checksum))), ("checksum_valid", .bool(h.checksumValid)),
                                        ("oem_id", .string(h.oemID)), ("oem_table_id", .string(h.oemTableID)),
                                        ("oem_revision", .int(Int64(h.oemRevision))), ("creator_id", .string(h.creatorID)),
                                        ("creator_revision", .int(Int64(h.creatorRevision))),
                                    ])
                                ),
                                ("summary", JSONValue(body(t))),
                                ("warnings", JSONValue(t.warnings)),
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
                        case nil:
                            kv.append(("error", .string("not decoded")))
                        }
                        return .object(kv)
                    })
            ),
        ]).render() + "\n"
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
            case .value(let bytes): return decode(file: path, bytes: bytes)
            case .unreadable(.permissionDenied):
                return Input(
                    source: path, result: nil,
                    unreadable: "the tables are readable only by root (run as root, or pass table files from acpidump/acpixtract)")
            case .unreadable(let why): return Input(source: path, result: nil, unreadable: why.description)
            case .absent: return Input(source: path, result: nil, unreadable: "vanished while being read")
            }
        }
    }

    public static func decode(file: String, bytes: [UInt8]) -> Input {
        do { return Input(source: file, result: .success(try ACPI.decode(bytes)), unreadable: nil) } catch {
            return Input(source: file, result: .failure(error), unreadable: nil)
        }
    }
}
