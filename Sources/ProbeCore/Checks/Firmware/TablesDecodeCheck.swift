import ACPI

/// The IOMMU tables decode cleanly.
public struct TablesDecodeCheck: Check {
    public static let descriptor = CheckDescriptor(
        id: "firmware.tables-decode",
        title: "The IOMMU tables decode",
        category: .firmware,
        rationale:
            "The kernel trusts DMAR, IVRS, IORT and VIOT to say which devices sit behind which IOMMU and what memory must stay mapped. A table that does not decode, has a bad checksum or uses unknown structures is where \"works on one server, fails on another\" begins.",
        remedy: "Update the system firmware; attach `vfio-probe acpi --format json` to the vendor report.",
        looksAt: ["/sys/firmware/acpi/tables/{DMAR,IVRS,IORT,VIOT} (root-only)"],
        examples: [.pass("intel-vfio-ready"), .pass("amd-host"), .skip("intel-nonroot")], decides: false)

    public static func evaluate(_ context: CheckContext) -> [Finding] {
        let fw = context.host.firmware
        return (fw.present.value ?? []).compactMap { sig -> Finding? in
            let path = "/sys/firmware/acpi/tables/\(sig)"
            switch fw.contents[sig] {
            case .unreadable?:
                return skipped("\(path) is readable only by root")
            case .absent?, nil:
                return nil
            case .value?:
                switch fw.decoded[sig] {
                case .failure(let e)?:
                    return finding(.fail, "\(sig) does not decode: \(e)", evidence: [Evidence(path, e.description)])
                case .success(let t)?:
                    let what = Self.summary(t)
                    let ev = [
                        Evidence(
                            path,
                            "\(t.header.length) bytes, revision \(t.header.revision), OEM \(t.header.oemID.trimmed) \(t.header.oemTableID.trimmed)"
                        )
                    ]
                    if !t.warnings.isEmpty {
                        return finding(
                            .warn, "\(sig) decodes (\(what)), with \(t.warnings.count) oddit\(t.warnings.count == 1 ? "y" : "ies")",
                            detail: t.warnings.joined(separator: "\n"), evidence: ev)
                    }
                    return finding(.pass, "\(sig) decodes: \(what)", evidence: ev)
                case nil:
                    return nil
                }
            }
        }
    }

    static func summary(_ t: DecodedTable) -> String {
        switch t.body {
        case .dmar(let d):
            var parts = ["\(d.units.count) DRHD", "\(d.reservedMemory.count) RMRR"]
            if !d.atsr.isEmpty { parts.append("\(d.atsr.count) ATSR") }
            if !d.satc.isEmpty { parts.append("\(d.satc.count) SATC") }
            return "host address width \(d.hostAddressWidth), " + parts.joined(separator: ", ")
        case .ivrs(let i): return "\(i.hardware.count) IVHD, \(i.memory.count) IVMD"
        case .iort(let i): return "\(i.nodes.count) nodes (\(i.nodes.map(\.typeName).joined(separator: ", ")))"
        case .viot(let v): return "\(v.nodes.count) nodes"
        case .other: return "not an IOMMU table"
        }
    }
}
