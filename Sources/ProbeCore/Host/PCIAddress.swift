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
    /// digits, a function of 0-7, a device below 32. A byte-level parser: it runs for every name
    /// in /sys/bus/pci/devices.
    public init?(_ text: String) {
        var fields: [UInt32] = [0, 0, 0, 0]
        var widths = [0, 0, 0, 0]
        var n = 0
        var colons = 0
        var sawDot = false
        for c in text.utf8 {
            switch c {
            case UInt8(ascii: ":"):
                guard !sawDot, colons < 2, widths[n] > 0 else { return nil }
                colons += 1
                n += 1
            case UInt8(ascii: "."):
                guard !sawDot, colons >= 1, widths[n] > 0 else { return nil }
                sawDot = true
                n += 1
            default:
                let v: UInt8
                switch c {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): v = c - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): v = c - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): v = c - UInt8(ascii: "A") + 10
                default: return nil
                }
                guard n < 4, widths[n] < 8 else { return nil }
                fields[n] = fields[n] << 4 | UInt32(v)
                widths[n] += 1
            }
        }
        guard sawDot, widths[n] == 1 else { return nil }
        // With two colons: domain, bus, device, function; with one: bus, device, function.
        let (d, b, dev, fn) = colons == 2 ? (0, 1, 2, 3) : (-1, 0, 1, 2)
        guard n == (colons == 2 ? 3 : 2), widths[b] <= 2, widths[dev] <= 2, fields[dev] < 32, fields[fn] < 8 else { return nil }
        self.init(domain: d >= 0 ? fields[d] : 0, bus: UInt8(fields[b]), device: UInt8(fields[dev]), function: UInt8(fields[fn]))
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
