/// Intel VT-d's DMA Remapping table.
public struct DMAR: Sendable, Equatable {
    /// Host address width: the HAW field plus one.
    public var hostAddressWidth: Int
    public var flags: UInt8
    public var interruptRemapping: Bool { flags & 0x1 != 0 }
    public var x2APICOptOut: Bool { flags & 0x2 != 0 }
    public var dmaControlPlatformOptIn: Bool { flags & 0x4 != 0 }
    public var units: [DRHD] = []
    public var reservedMemory: [RMRR] = []
    public var atsr: [ATSR] = []
    public var affinity: [RHSA] = []
    public var namespaceDevices: [ANDD] = []
    public var satc: [SATC] = []
    public var sidp: [SIDP] = []

    /// DMA Remapping Hardware unit Definition.
    public struct DRHD: Sendable, Equatable {
        public var flags: UInt8
        public var includePCIAll: Bool { flags & 0x1 != 0 }
        public var size: UInt8
        public var segment: UInt16
        public var registerBase: UInt64
        public var scopes: [DeviceScope]
    }
    /// Reserved Memory Region: memory firmware needs mapped 1:1 for the scoped devices.
    public struct RMRR: Sendable, Equatable {
        public var segment: UInt16
        public var base: UInt64
        /// Inclusive.
        public var limit: UInt64
        public var scopes: [DeviceScope]
    }
    /// Root port ATS capability.
    public struct ATSR: Sendable, Equatable {
        public var flags: UInt8
        public var allPorts: Bool { flags & 0x1 != 0 }
        public var segment: UInt16
        public var scopes: [DeviceScope]
    }
    /// Remapping hardware static affinity.
    public struct RHSA: Sendable, Equatable {
        public var registerBase: UInt64
        public var proximityDomain: UInt32
    }
    /// ACPI namespace device declaration.
    public struct ANDD: Sendable, Equatable {
        public var deviceNumber: UInt8
        public var name: String
    }
    /// SoC integrated address translation cache.
    public struct SATC: Sendable, Equatable {
        public var flags: UInt8
        public var atcRequired: Bool { flags & 0x1 != 0 }
        public var segment: UInt16
        public var scopes: [DeviceScope]
    }
    /// SoC integrated device property.
    public struct SIDP: Sendable, Equatable {
        public var segment: UInt16
        public var scopes: [DeviceScope]
    }

    static let structureNames = [0: "DRHD", 1: "RMRR", 2: "ATSR", 3: "RHSA", 4: "ANDD", 5: "SATC", 6: "SIDP"]

    static func decode(_ r: inout Reader, _ h: ACPIHeader, _ warnings: inout [String]) throws(ACPIDecodeError) -> DMAR {
        let haw = try r.u8(36, "Host Address Width")
        var t = DMAR(hostAddressWidth: Int(haw) + 1, flags: try r.u8(37, "Flags"))
        try r.opaque(38, 10, "Reserved")
        var off = 48
        let end = Int(h.length)
        while off < end {
            let type = try r.u16(off, "Subtable Type")
            let length = Int(try r.u16(off + 2, "Length"))
            guard length >= 4 else {
                throw ACPIDecodeError(off, "remapping structure type \(type) has length \(length) (shorter than its own header)")
            }
            try r.need(off, length, "remapping structure type \(type)")
            let sub = off
            let next = off + length
            switch type {
            case 0:
                let flags = try r.u8(sub + 4, "Flags")
                let size = try r.u8(sub + 5, "Size (decoded below)")
                let seg = try r.u16(sub + 6, "PCI Segment Number")
                let base = try r.u64(sub + 8, "Register Base Address")
                t.units.append(
                    DRHD(flags: flags, size: size, segment: seg, registerBase: base, scopes: try scopes(&r, from: sub + 16, to: next)))
            case 1:
                try r.opaque(sub + 4, 2, "Reserved")
                let seg = try r.u16(sub + 6, "PCI Segment Number")
                let base = try r.u64(sub + 8, "Base Address")
                let limit = try r.u64(sub + 16, "End Address (limit)")
                t.reservedMemory.append(RMRR(segment: seg, base: base, limit: limit, scopes: try scopes(&r, from: sub + 24, to: next)))
            case 2:
                let flags = try r.u8(sub + 4, "Flags")
                try r.opaque(sub + 5, 1, "Reserved")
                let seg = try r.u16(sub + 6, "PCI Segment Number")
                t.atsr.append(ATSR(flags: flags, segment: seg, scopes: try scopes(&r, from: sub + 8, to: next)))
            case 3:
                try r.opaque(sub + 4, 4, "Reserved")
                let base = try r.u64(sub + 8, "Base Address")
                t.affinity.append(RHSA(registerBase: base, proximityDomain: try r.u32(sub + 16, "Proximity Domain")))
            case 4:
                try r.opaque(sub + 4, 3, "Reserved")
                let n = try r.u8(sub + 7, "Device Number")
                t.namespaceDevices.append(ANDD(deviceNumber: n, name: try r.string(sub + 8, max(0, next - sub - 8), "Device Name")))
            case 5:
                let flags = try r.u8(sub + 4, "Flags")
                try r.opaque(sub + 5, 1, "Reserved")
                let seg = try r.u16(sub + 6, "PCI Segment Number")
                t.satc.append(SATC(flags: flags, segment: seg, scopes: try scopes(&r, from: sub + 8, to: next)))
            case 6:
                try r.opaque(sub + 4, 2, "Reserved")
                let seg = try r.u16(sub + 6, "PCI Segment Number")
                t.sidp.append(SIDP(segment: seg, scopes: try scopes(&r, from: sub + 8, to: next)))
            default:
                warnings.append("unknown DMAR remapping structure type \(type) at 0x\(String(sub, radix: 16)), \(length) bytes: skipped")
            }
            off = next
        }
        return t
    }

    static func scopes(_ r: inout Reader, from start: Int, to end: Int) throws(ACPIDecodeError) -> [DeviceScope] {
        var out: [DeviceScope] = []
        var off = start
        while off < end {
            let type = try r.u8(off, "Device Scope Type")
            let length = Int(try r.u8(off + 1, "Entry Length"))
            guard length >= 6 else { throw ACPIDecodeError(off, "device scope has length \(length) (at least 6)") }
            guard off + length <= end else {
                throw ACPIDecodeError(off, "device scope of \(length) bytes runs past its structure (ends at 0x\(String(end, radix: 16)))")
            }
            try r.opaque(off + 2, 1, "Flags")
            try r.opaque(off + 3, 1, "Reserved")
            let enumID = try r.u8(off + 4, "Enumeration ID")
            let bus = try r.u8(off + 5, "PCI Bus Number")
            var path: [DeviceScope.Hop] = []
            var p = off + 6
            while p + 2 <= off + length {
                try r.need(p, 2, "PCI Path")
                r.fields.append(ACPIField(offset: p, length: 2, name: "PCI Path", value: .bytes([r.bytes[p], r.bytes[p + 1]])))
                path.append(DeviceScope.Hop(device: r.bytes[p], function: r.bytes[p + 1]))
                p += 2
            }
            out.append(DeviceScope(type: type, enumerationID: enumID, startBus: bus, path: path))
            off += length
        }
        return out
    }
}

/// A DMAR device scope: the device (or bridge, IOAPIC, HPET, namespace device) a structure covers,
/// named by a start bus and a path of (device, function) hops through bridges.
public struct DeviceScope: Sendable, Equatable {
    public struct Hop: Sendable, Equatable {
        public var device: UInt8
        public var function: UInt8
    }
    public var type: UInt8
    public var enumerationID: UInt8
    public var startBus: UInt8
    public var path: [Hop]

    public var typeName: String {
        switch type {
        case 1: "PCI endpoint"
        case 2: "PCI sub-hierarchy"
        case 3: "IOAPIC"
        case 4: "HPET"
        case 5: "ACPI namespace device"
        default: "type \(type)"
        }
    }
    public var pathText: String {
        "\(String(startBus, radix: 16)):" + path.map { "\(String($0.device, radix: 16)).\($0.function)" }.joined(separator: "/")
    }
}
