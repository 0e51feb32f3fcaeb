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

    /// Parses "0000:00:02.0" or "00:02.0" (domain 0).
    public init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        let domainText: Substring
        let busText: Substring
        let slot: Substring
        switch parts.count {
        case 3: (domainText, busText, slot) = (parts[0], parts[1], parts[2])
        case 2: (domainText, busText, slot) = ("0", parts[0], parts[1])
        default: return nil
        }
        let df = slot.split(separator: ".", omittingEmptySubsequences: false)
        guard df.count == 2, !domainText.isEmpty, domainText.count <= 8, busText.count <= 2, df[0].count <= 2,
              df[1].count == 1,
              let d = UInt32(domainText, radix: 16), let b = UInt8(busText, radix: 16),
              let dev = UInt8(df[0], radix: 16), dev < 32, let fn = UInt8(df[1], radix: 16), fn < 8
        else { return nil }
        self.init(domain: d, bus: b, device: dev, function: fn)
    }

    public var description: String {
        hex(domain, 4) + ":" + hex(bus, 2) + ":" + hex(device, 2) + "." + String(function, radix: 16)
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
