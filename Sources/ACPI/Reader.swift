/// Why a table could not be decoded, and where. Decoding never traps and never loops.
public struct ACPIDecodeError: Error, Equatable, Sendable, CustomStringConvertible {
    public var offset: Int
    public var message: String
    public init(_ offset: Int, _ message: String) {
        self.offset = offset
        self.message = message
    }
    public var description: String { "at 0x\(String(offset, radix: 16)): \(message)" }
}

/// One field as decoded: where it is, what ACPICA's iasl calls it, and its value.
public struct ACPIField: Sendable, Equatable {
    public enum Value: Sendable, Equatable {
        case int(UInt64)
        case string(String)
        case bytes([UInt8])
    }
    public var offset: Int
    public var length: Int
    public var name: String
    public var value: Value
}

/// Little-endian reads bounded by `end`, each one recorded as a field.
struct Reader {
    let bytes: [UInt8]
    let end: Int
    var fields: [ACPIField] = []

    init(_ bytes: [UInt8], end: Int? = nil) {
        self.bytes = bytes
        self.end = min(end ?? bytes.count, bytes.count)
    }

    func need(_ offset: Int, _ count: Int, _ what: String) throws(ACPIDecodeError) {
        guard offset >= 0, count >= 0, offset <= end, count <= end - offset else {
            throw ACPIDecodeError(offset, "\(what) needs \(count) bytes, the table ends at 0x\(String(end, radix: 16))")
        }
    }

    func raw(_ offset: Int, _ count: Int) -> UInt64 {
        var v: UInt64 = 0
        for i in 0..<count { v |= UInt64(bytes[offset + i]) << (8 * UInt64(i)) }
        return v
    }

    @discardableResult
    mutating func int(_ offset: Int, _ count: Int, _ name: String) throws(ACPIDecodeError) -> UInt64 {
        try need(offset, count, name)
        let v = raw(offset, count)
        fields.append(ACPIField(offset: offset, length: count, name: name, value: .int(v)))
        return v
    }

    mutating func u8(_ o: Int, _ name: String) throws(ACPIDecodeError) -> UInt8 { UInt8(try int(o, 1, name)) }
    mutating func u16(_ o: Int, _ name: String) throws(ACPIDecodeError) -> UInt16 { UInt16(try int(o, 2, name)) }
    mutating func u32(_ o: Int, _ name: String) throws(ACPIDecodeError) -> UInt32 { UInt32(try int(o, 4, name)) }
    mutating func u64(_ o: Int, _ name: String) throws(ACPIDecodeError) -> UInt64 { try int(o, 8, name) }

    /// Bytes shown as text: printable ASCII kept, everything else as \xNN (real firmware puts
    /// non-ASCII bytes in OEM ids); a trailing NUL run is dropped.
    mutating func string(_ offset: Int, _ count: Int, _ name: String) throws(ACPIDecodeError) -> String {
        try need(offset, count, name)
        let s = ACPIText.render(Array(bytes[offset..<(offset + count)]))
        fields.append(ACPIField(offset: offset, length: count, name: name, value: .string(s)))
        return s
    }

    /// Reserved or opaque bytes: recorded as an integer up to 8 bytes, as a byte list beyond.
    mutating func opaque(_ offset: Int, _ count: Int, _ name: String) throws(ACPIDecodeError) {
        if count <= 8 {
            try int(offset, count, name)
        } else {
            try need(offset, count, name)
            fields.append(ACPIField(offset: offset, length: count, name: name, value: .bytes(Array(bytes[offset..<(offset + count)]))))
        }
    }
}

public enum ACPIText {
    public static func render(_ b: [UInt8]) -> String {
        var bytes = b
        while bytes.last == 0 { bytes.removeLast() }
        var s = ""
        for c in bytes {
            if c >= 0x20 && c < 0x7f {
                s.unicodeScalars.append(Unicode.Scalar(c))
            } else {
                s += "\\x" + (c < 16 ? "0" : "") + String(c, radix: 16)
            }
        }
        return s
    }
}
