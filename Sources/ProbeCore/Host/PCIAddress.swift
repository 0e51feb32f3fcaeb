/// A PCI function address, DDDD:BB:DD.F, as the kernel names it in sysfs.
public struct PCIAddress: Hashable, Comparable, Sendable, CustomStringConvertible, Codable {
    public var domain: UInt32
    public var bus: UInt8
    public var device: UInt8
    public var function: UInt8

    public init(domain: UInt32 = 0, bus: UInt8, device: UInt8, function: UInt8) {
        self.domain = domain
        self.bus = bus
        self.device = device
        self.function = function
    }

    /// Parses "0000:00:02.0" or "00:02.0" (domain 0): hexadecimal fields of at most 8, 2 and 2
    /// digits, a function of 0-7, a device below 32. A byte-level parser without allocation: it
    /// runs for every name in /sys/bus/pci/devices and every component of their links.
    public init?(_ text: String) {
        self.init(utf8: text.utf8)
    }

    public init?<Bytes: Sequence<UInt8>>(utf8 text: Bytes) {
        // Fields and their digit counts, in order: [domain,] bus, device, function.
        var f0: UInt32 = 0, f1: UInt32 = 0, f2: UInt32 = 0, f3: UInt32 = 0
        var w0 = 0, w1 = 0, w2 = 0, w3 = 0
        var n = 0
        var colons = 0
        var sawDot = false
        for c in text {
            switch c {
            case UInt8(ascii: ":"), UInt8(ascii: "."):
                let width = n == 0 ? w0 : n == 1 ? w1 : n == 2 ? w2 : w3
                guard !sawDot, width > 0 else { return nil }
                if c == UInt8(ascii: ":") {
                    guard colons < 2 else { return nil }
                    colons += 1
                } else {
                    guard colons >= 1 else { return nil }
                    sawDot = true
                }
                n += 1
            default:
                guard let v = hexDigit(c) else { return nil }
                switch n {
                case 0: guard w0 < 8 else { return nil }; f0 = f0 << 4 | UInt32(v); w0 += 1
                case 1: guard w1 < 8 else { return nil }; f1 = f1 << 4 | UInt32(v); w1 += 1
                case 2: guard w2 < 8 else { return nil }; f2 = f2 << 4 | UInt32(v); w2 += 1
                case 3: guard w3 < 8 else { return nil }; f3 = f3 << 4 | UInt32(v); w3 += 1
                default: return nil
                }
            }
        }
        guard sawDot else { return nil }
        // With two colons: domain, bus, device, function; with one: bus, device, function.
        if colons == 2 {
            guard n == 3, w3 == 1, w1 <= 2, w2 <= 2, f2 < 32, f3 < 8 else { return nil }
            self.init(domain: f0, bus: UInt8(f1), device: UInt8(f2), function: UInt8(f3))
        } else {
            guard n == 2, w2 == 1, w0 <= 2, w1 <= 2, f1 < 32, f2 < 8 else { return nil }
            self.init(domain: 0, bus: UInt8(f0), device: UInt8(f1), function: UInt8(f2))
        }
    }

    /// The bridges above a function, nearest first, from the target of its
    /// /sys/bus/pci/devices link ("../../../devices/pci0000:00/0000:00:01.0/0000:01:00.0"):
    /// every component before the last that is a PCI address.
    public static func bridges(inDevicePath target: String) -> [PCIAddress] {
        target.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).dropLast().compactMap { PCIAddress(utf8: $0) }
            .reversed()
    }

    /// "dddd:bb:dd.f", built without intermediate strings: it is in every path and message.
    public var description: String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var d = domain
        var width = 4
        while d >> (4 * UInt32(width)) != 0 && width < 8 { width += 1 }
        return String(unsafeUninitializedCapacity: width + 8) { buf in
            var i = 0
            for shift in stride(from: 4 * (width - 1), through: 0, by: -4) { buf[i] = digits[Int((d >> UInt32(shift)) & 0xf)]; i += 1 }
            buf[i] = UInt8(ascii: ":"); i += 1
            buf[i] = digits[Int(bus >> 4)]; buf[i + 1] = digits[Int(bus & 0xf)]; i += 2
            buf[i] = UInt8(ascii: ":"); i += 1
            buf[i] = digits[Int(device >> 4)]; buf[i + 1] = digits[Int(device & 0xf)]; i += 2
            buf[i] = UInt8(ascii: "."); i += 1
            buf[i] = digits[Int(function & 0xf)]; i += 1
            d = 0
            return i
        }
    }

    public static func < (a: PCIAddress, b: PCIAddress) -> Bool {
        (a.domain, a.bus, a.device, a.function) < (b.domain, b.bus, b.device, b.function)
    }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let a = PCIAddress(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "bad PCI address \(text)"))
        }
        self = a
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

/// Lower-case hexadecimal, zero-padded to `width` digits.
public func hex<T: BinaryInteger>(_ value: T, _ width: Int) -> String {
    let s = String(value, radix: 16)
    return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
}

/// An unsigned number written in ASCII digits of `radix` (at most 10: decimal, octal); nil when
/// empty, when a byte is not such a digit, or on overflow. Byte-level: attributes and manifest
/// lines are parsed without strings.
func unsignedNumber(_ digits: some Collection<UInt8>, radix: UInt64 = 10) -> UInt64? {
    guard !digits.isEmpty else { return nil }
    var v: UInt64 = 0
    for c in digits {
        guard c >= UInt8(ascii: "0"), UInt64(c - UInt8(ascii: "0")) < radix else { return nil }
        let (m, o1) = v.multipliedReportingOverflow(by: radix)
        let (a, o2) = m.addingReportingOverflow(UInt64(c - UInt8(ascii: "0")))
        if o1 || o2 { return nil }
        v = a
    }
    return v
}

/// The value of one ASCII hexadecimal digit.
@inline(__always)
func hexDigit(_ c: UInt8) -> UInt8? {
    switch c {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
    default: nil
    }
}
