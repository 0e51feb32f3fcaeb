/// What an attribute's bytes say: sysfs attributes are a line of text ("1\n", "0x8086\n").
extension Reading where Value == [UInt8] {
    /// The bytes without trailing white space and NULs.
    public var trimmed: Reading<ArraySlice<UInt8>> { map(Decode.trimmed) }
    /// As text, trailing white space and NULs removed.
    public var text: Reading<String> { map { String(decoding: Decode.trimmed($0), as: UTF8.self) } }
    /// A decimal number, optionally negative (`numa_node` is -1 without NUMA).
    public var decimal: Reading<Int> { decoded("a decimal number") { Decode.decimal(Decode.trimmed($0)) } }
    /// A hexadecimal number, with or without 0x (`vendor`, `class`, a VT-d `cap`).
    public var hex: Reading<UInt64> { decoded("a hexadecimal number") { UInt64(hexText: String(decoding: $0, as: UTF8.self)) } }

    /// `decode` of the value; unreadable when it does not decode.
    private func decoded<T>(_ what: String, _ decode: ([UInt8]) -> T?) -> Reading<T> {
        flatMap { bytes in
            decode(bytes).map(Reading<T>.value)
                ?? .unreadable(.malformed("", "not \(what): \"\(String(decoding: Decode.trimmed(bytes), as: UTF8.self))\""))
        }
    }
}

extension Reading where Value == String {
    /// The last component of a link's target: a driver's name from `driver`, a group number from
    /// `iommu_group`, a PF's address from `physfn`.
    public var lastComponent: Reading<String> {
        map { target in
            var t = Substring(target)
            while t.utf8.count > 1, t.utf8.last == UInt8(ascii: "/") { t = t.dropLast() }
            return t.utf8.lastIndex(of: UInt8(ascii: "/")).map { String(t[t.utf8.index(after: $0)...]) } ?? String(t)
        }
    }
}

/// Byte-level decoding of attributes: they run for every function and group.
enum Decode {
    static func trimmed(_ b: [UInt8]) -> ArraySlice<UInt8> {
        var end = b.endIndex
        while end > 0, b[end - 1] == 0 || b[end - 1] == 0x20 || (0x09...0x0d).contains(b[end - 1]) { end -= 1 }
        return b[..<end]
    }

    /// A decimal number, optionally negative.
    static func decimal(_ b: some Collection<UInt8>) -> Int? {
        let negative = b.first == UInt8(ascii: "-")
        guard let v = unsignedNumber(negative ? b.dropFirst() : b[...]).flatMap({ Int(exactly: $0) }) else { return nil }
        return negative ? -v : v
    }
}
