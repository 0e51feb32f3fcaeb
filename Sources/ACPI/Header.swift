/// The 36-byte header every ACPI system description table starts with.
public struct ACPIHeader: Sendable, Equatable {
    public var signature: String
    public var length: UInt32
    public var revision: UInt8
    public var checksum: UInt8
    /// All bytes of the table sum to zero. A bad checksum is reported, not fatal.
    public var checksumValid: Bool
    public var oemID: String
    public var oemTableID: String
    public var oemRevision: UInt32
    public var creatorID: String
    public var creatorRevision: UInt32

    public static let size = 36

    static func decode(_ r: inout Reader) throws(ACPIDecodeError) -> ACPIHeader {
        try r.need(0, size, "the table header")
        let sig = try r.string(0, 4, "Signature")
        let length = try r.u32(4, "Table Length")
        guard length >= UInt32(size) else { throw ACPIDecodeError(4, "table length \(length) is shorter than its header") }
        guard Int(length) <= r.bytes.count else {
            throw ACPIDecodeError(
                4, "table length 0x\(String(length, radix: 16)) exceeds the 0x\(String(r.bytes.count, radix: 16)) bytes given (truncated)")
        }
        let sum = r.bytes[0..<Int(length)].reduce(UInt8(0)) { $0 &+ $1 }
        return ACPIHeader(
            signature: sig, length: length, revision: try r.u8(8, "Revision"), checksum: try r.u8(9, "Checksum"),
            checksumValid: sum == 0, oemID: try r.string(10, 6, "Oem ID"), oemTableID: try r.string(16, 8, "Oem Table ID"),
            oemRevision: try r.u32(24, "Oem Revision"), creatorID: try r.string(28, 4, "Asl Compiler ID"),
            creatorRevision: try r.u32(32, "Asl Compiler Revision"))
    }
}

/// Any table this module knows, decoded, with every field it read.
public struct DecodedTable: Sendable {
    public enum Body: Sendable {
        case dmar(DMAR)
        case ivrs(IVRS)
        case iort(IORT)
        case viot(VIOT)
        case other
    }
    public var header: ACPIHeader
    public var body: Body
    /// Every field read, in order, named as ACPICA's iasl names it.
    public var fields: [ACPIField]
    /// Things decoded around rather than through: unknown subtable types, a bad checksum.
    public var warnings: [String]
}

public enum ACPI {
    /// Decodes a table from its bytes (exactly what /sys/firmware/acpi/tables/SIG holds).
    public static func decode(_ bytes: [UInt8]) throws(ACPIDecodeError) -> DecodedTable {
        var r = Reader(bytes)
        let header = try ACPIHeader.decode(&r)
        r = Reader(bytes, end: Int(header.length))
        _ = try ACPIHeader.decode(&r)
        var warnings: [String] = []
        if !header.checksumValid {
            warnings.append("checksum 0x\(String(header.checksum, radix: 16)) is wrong: the table's bytes do not sum to zero")
        }
        let body: DecodedTable.Body
        switch header.signature {
        case "DMAR": body = .dmar(try DMAR.decode(&r, header, &warnings))
        case "IVRS": body = .ivrs(try IVRS.decode(&r, header, &warnings))
        case "IORT": body = .iort(try IORT.decode(&r, header, &warnings))
        case "VIOT": body = .viot(try VIOT.decode(&r, header, &warnings))
        default: body = .other
        }
        return DecodedTable(header: header, body: body, fields: r.fields, warnings: warnings)
    }

    static func hex<T: BinaryInteger>(_ v: T) -> String { "0x" + String(v, radix: 16) }
}
