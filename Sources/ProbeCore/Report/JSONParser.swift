/// A small, strict JSON parser for plugin output (no Foundation in the probe). Depth-limited.
public enum JSONParser {
    public struct Failure: Error, Sendable { public var message: String }

    public static func parse(_ text: String) throws(Failure) -> JSONValue {
        var p = Parser(Array(text.utf8))
        let v = try p.value(depth: 0)
        p.skipSpace()
        guard p.i == p.b.count else { throw Failure(message: "trailing characters at \(p.i)") }
        return v
    }

    struct Parser {
        let b: [UInt8]
        var i = 0
        init(_ b: [UInt8]) { self.b = b }

        mutating func skipSpace() { while i < b.count, [0x20, 0x09, 0x0a, 0x0d].contains(b[i]) { i += 1 } }

        mutating func value(depth: Int) throws(Failure) -> JSONValue {
            guard depth < 32 else { throw Failure(message: "nested too deep") }
            skipSpace()
            guard i < b.count else { throw Failure(message: "unexpected end") }
            switch b[i] {
            case UInt8(ascii: "{"):
                i += 1
                var kv: [(String, JSONValue)] = []
                skipSpace()
                if i < b.count, b[i] == UInt8(ascii: "}") { i += 1; return .object(kv) }
                while true {
                    skipSpace()
                    guard case .string(let k) = try value(depth: depth + 1) else {
                        throw Failure(message: "object key is not a string at \(i)")
                    }
                    skipSpace()
                    guard i < b.count, b[i] == UInt8(ascii: ":") else { throw Failure(message: "expected ':' at \(i)") }
                    i += 1
                    kv.append((k, try value(depth: depth + 1)))
                    skipSpace()
                    guard i < b.count else { throw Failure(message: "unterminated object") }
                    if b[i] == UInt8(ascii: ",") { i += 1; continue }
                    if b[i] == UInt8(ascii: "}") { i += 1; return .object(kv) }
                    throw Failure(message: "expected ',' or '}' at \(i)")
                }
            case UInt8(ascii: "["):
                i += 1
                var xs: [JSONValue] = []
                skipSpace()
                if i < b.count, b[i] == UInt8(ascii: "]") { i += 1; return .array(xs) }
                while true {
                    xs.append(try value(depth: depth + 1))
                    skipSpace()
                    guard i < b.count else { throw Failure(message: "unterminated array") }
                    if b[i] == UInt8(ascii: ",") { i += 1; continue }
                    if b[i] == UInt8(ascii: "]") { i += 1; return .array(xs) }
                    throw Failure(message: "expected ',' or ']' at \(i)")
                }
            case UInt8(ascii: "\""):
                return .string(try string())
            case UInt8(ascii: "t"): return try literal("true", .bool(true))
            case UInt8(ascii: "f"): return try literal("false", .bool(false))
            case UInt8(ascii: "n"): return try literal("null", .null)
            default:
                let start = i
                while i < b.count,
                    (b[i] >= 0x30 && b[i] <= 0x39)
                        || [UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(b[i])
                { i += 1 }
                let s = String(decoding: b[start..<i], as: UTF8.self)
                if let n = Int64(s) { return .int(n) }
                if Double(s) != nil { return .string(s) }
                throw Failure(message: "unexpected character at \(start)")
            }
        }

        mutating func literal(_ word: String, _ v: JSONValue) throws(Failure) -> JSONValue {
            let w = Array(word.utf8)
            guard i + w.count <= b.count, Array(b[i..<(i + w.count)]) == w else { throw Failure(message: "bad literal at \(i)") }
            i += w.count
            return v
        }

        mutating func string() throws(Failure) -> String {
            i += 1
            var out: [UInt8] = []
            while i < b.count {
                let c = b[i]
                i += 1
                if c == UInt8(ascii: "\"") { return String(decoding: out, as: UTF8.self) }
                if c < 0x20 { throw Failure(message: "control character in string") }
                if c != UInt8(ascii: "\\") { out.append(c); continue }
                guard i < b.count else { break }
                let e = b[i]
                i += 1
                switch e {
                case UInt8(ascii: "n"): out.append(0x0a)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "r"): out.append(0x0d)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0c)
                case UInt8(ascii: "u"):
                    guard i + 4 <= b.count, var u = UInt32(String(decoding: b[i..<(i + 4)], as: UTF8.self), radix: 16) else {
                        throw Failure(message: "bad \\u escape")
                    }
                    i += 4
                    // A high surrogate and the low one after it are one scalar (RFC 8259, 7).
                    if (0xd800...0xdbff).contains(u), i + 6 <= b.count, b[i] == UInt8(ascii: "\\"), b[i + 1] == UInt8(ascii: "u"),
                        let low = UInt32(String(decoding: b[(i + 2)..<(i + 6)], as: UTF8.self), radix: 16), (0xdc00...0xdfff).contains(low)
                    {
                        u = 0x10000 + ((u - 0xd800) << 10) + (low - 0xdc00)
                        i += 6
                    }
                    out += Array(String(Unicode.Scalar(u).map(Character.init) ?? "?").utf8)
                default: out.append(e)
                }
            }
            throw Failure(message: "unterminated string")
        }
    }
}

extension JSONValue {
    public subscript(key: String) -> JSONValue? {
        if case .object(let kv) = self { return kv.first { $0.0 == key }?.1 }
        return nil
    }
    public var stringValue: String? { if case .string(let s) = self { s } else { nil } }
}
