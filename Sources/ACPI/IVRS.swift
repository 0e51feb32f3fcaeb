/// AMD-Vi's I/O Virtualization Reporting Structure.
public struct IVRS: Sendable, Equatable {
    public var ivinfo: UInt32
    public var efrSupported: Bool { ivinfo & 0x1 != 0 }
    public var dmaRemapSupported: Bool { ivinfo & 0x2 != 0 }
    /// Guest virtual address size (bits 7:5; 010b is 48 bits).
    public var gvaSize: Int { [0: 0, 1: 0, 2: 48, 3: 57][Int((ivinfo >> 5) & 0x7)] ?? 0 }
    public var physicalAddressSize: Int { Int((ivinfo >> 8) & 0x7f) }
    public var virtualAddressSize: Int { Int((ivinfo >> 15) & 0x7f) }
    public var hardware: [IVHD] = []
    public var memory: [IVMD] = []

    /// I/O Virtualization Hardware Definition: one IOMMU and the devices it covers.
    public struct IVHD: Sendable, Equatable {
        public var type: UInt8
        public var flags: UInt8
        /// The IOMMU's own PCI requester id.
        public var deviceID: UInt16
        public var capabilityOffset: UInt16
        public var base: UInt64
        public var segment: UInt16
        public var info: UInt16
        /// IOMMU feature reporting (10h) or attributes (11h, 40h).
        public var features: UInt32
        /// The extended feature register image (11h, 40h).
        public var efr: UInt64?
        public var entries: [Entry]
    }

    /// A device entry inside an IVHD.
    public struct Entry: Sendable, Equatable {
        public enum Kind: Sendable, Equatable {
            case all
            case select
            case rangeStart
            case rangeEnd
            case alias(source: UInt16)
            case aliasRangeStart(source: UInt16)
            case extendedSelect(UInt32)
            case extendedRangeStart(UInt32)
            case special(handle: UInt8, source: UInt16, variety: UInt8)
            case acpiHID(hid: String, cid: String, uid: String)
            case unknown
        }
        public var type: UInt8
        public var deviceID: UInt16
        public var data: UInt8
        public var kind: Kind
    }

    /// I/O Virtualization Memory Definition: memory that must stay mapped for devices (20h all,
    /// 21h one device, 22h a range).
    public struct IVMD: Sendable, Equatable {
        public var type: UInt8
        public var flags: UInt8
        public var deviceID: UInt16
        public var auxiliaryData: UInt16
        public var start: UInt64
        public var length: UInt64
        /// The PCI segment of the device ids (the kernel's ivmd_header.pci_seg; iasl calls the
        /// bytes reserved).
        public var segment: UInt16 = 0
        /// init_memory_definitions uses only an exclusion range (bit 3) or a unity map (bit 0).
        public var countsForTheKernel: Bool { flags & 0x1 != 0 || flags & 0x8 != 0 }
        public var scope: String {
            switch type {
            case 0x20: "all devices"
            case 0x21: "device \(IVRS.bdf(deviceID))"
            default: "devices \(IVRS.bdf(deviceID))-\(IVRS.bdf(auxiliaryData))"
            }
        }
    }

    public static func bdf(_ id: UInt16) -> String {
        let bus = String(id >> 8, radix: 16), dev = String((id >> 3) & 0x1f, radix: 16)
        return (bus.count < 2 ? "0" : "") + bus + ":" + (dev.count < 2 ? "0" : "") + dev + "." + String(id & 7)
    }

    static func decode(_ r: inout Reader, _ h: ACPIHeader, _ warnings: inout [String]) throws(ACPIDecodeError) -> IVRS {
        var t = IVRS(ivinfo: try r.u32(36, "Virtualization Info"))
        try r.opaque(40, 8, "Reserved")
        var off = 48
        let end = Int(h.length)
        while off < end {
            let type = try r.u8(off, "Subtable Type")
            let flags = try r.u8(
                off + 1, type >= 0x20 && type <= 0x22 || [0x10, 0x11, 0x40].contains(type) ? "Flags (decoded below)" : "Flags")
            let length = Int(try r.u16(off + 2, "Length"))
            guard length >= 4 else { throw ACPIDecodeError(off, "IVRS block type 0x\(String(type, radix: 16)) has length \(length)") }
            try r.need(off, length, "IVRS block type 0x\(String(type, radix: 16))")
            let next = off + length
            switch type {
            case 0x10, 0x11, 0x40:
                let header = type == 0x10 ? 24 : 40
                guard length >= header else {
                    throw ACPIDecodeError(
                        off, "IVHD type 0x\(String(type, radix: 16)) of \(length) bytes is shorter than its \(header)-byte header")
                }
                let devid = try r.u16(off + 4, "DeviceId")
                let cap = try r.u16(off + 6, "Capability Offset")
                let base = try r.u64(off + 8, "Base Address")
                let seg = try r.u16(off + 16, "PCI Segment Group")
                let info = try r.u16(off + 18, "Virtualization Info")
                let features = try r.u32(off + 20, type == 0x10 ? "Feature Reporting" : "Attributes")
                var efr: UInt64?
                if type != 0x10 {
                    efr = try r.u64(off + 24, "EFR Image")
                    try r.opaque(off + 32, 8, "Reserved")
                }
                let entries = try Self.entries(&r, from: off + header, to: next, &warnings)
                t.hardware.append(
                    IVHD(
                        type: type, flags: flags, deviceID: devid, capabilityOffset: cap, base: base, segment: seg,
                        info: info, features: features, efr: efr, entries: entries))
            case 0x20, 0x21, 0x22:
                guard length >= 32 else { throw ACPIDecodeError(off, "IVMD of \(length) bytes is shorter than 32") }
                let devid = try r.u16(off + 4, "DeviceId")
                let aux = try r.u16(off + 6, "Auxiliary Data")
                try r.opaque(off + 8, 8, "Reserved")
                let start = try r.u64(off + 16, "Start Address")
                let len = try r.u64(off + 24, "Memory Length")
                var m = IVMD(type: type, flags: flags, deviceID: devid, auxiliaryData: aux, start: start, length: len)
                m.segment = UInt16(r.raw(off + 8, 2))
                t.memory.append(m)
            default:
                warnings.append(
                    "unknown IVRS block type 0x\(String(type, radix: 16)) at 0x\(String(off, radix: 16)), \(length) bytes: skipped")
            }
            off = next
        }
        return t
    }

    static func entries(_ r: inout Reader, from start: Int, to end: Int, _ warnings: inout [String]) throws(ACPIDecodeError) -> [Entry] {
        var out: [Entry] = []
        var off = start
        while off < end {
            let type = try r.u8(off, "Subtable Type")
            // Entry sizes come from the type's top bits; F0h (ACPI HID) carries its own UID length.
            var size: Int
            switch type {
            case 0x00..<0x40: size = 4
            case 0x40..<0x80: size = 8
            case 0x80..<0xC0: size = 16
            default: size = 32
            }
            if type == 0xF0 {
                try r.need(off, 22, "ACPI HID device entry")
                size = 22 + Int(r.bytes[off + 21])
            }
            guard off + size <= end else {
                throw ACPIDecodeError(
                    off,
                    "IVHD entry type 0x\(String(type, radix: 16)) of \(size) bytes runs past its block (ends at 0x\(String(end, radix: 16)))"
                )
            }
            let devid = try r.u16(off + 1, "Device ID")
            let data = try r.u8(off + 3, "Data Setting (decoded below)")
            let kind: Entry.Kind
            switch type {
            case 1: kind = .all
            case 2: kind = .select
            case 3: kind = .rangeStart
            case 4: kind = .rangeEnd
            case 0x42, 0x43:
                try r.opaque(off + 4, 1, "Reserved")
                let src = try r.u16(off + 5, "Source Used Device ID")
                try r.opaque(off + 7, 1, "Reserved")
                kind = type == 0x42 ? .alias(source: src) : .aliasRangeStart(source: src)
            case 0x46, 0x47:
                let ext = try r.u32(off + 4, "Extended Data")
                kind = type == 0x46 ? .extendedSelect(ext) : .extendedRangeStart(ext)
            case 0x48:
                let handle = try r.u8(off + 4, "Handle")
                let src = try r.u16(off + 5, "Source Used Device ID")
                kind = .special(handle: handle, source: src, variety: try r.u8(off + 7, "Variety"))
            case 0xF0:
                let hid = try r.string(off + 4, 8, "ACPI HID")
                let cidRaw = r.raw(off + 12, 8)
                let cid: String
                if cidRaw == 0 || (r.bytes[off + 12] >= 0x20 && r.bytes[off + 12] < 0x7f) == false {
                    try r.int(off + 12, 8, "ACPI CID")
                    cid = cidRaw == 0 ? "" : "0x" + String(cidRaw, radix: 16)
                } else {
                    cid = try r.string(off + 12, 8, "ACPI CID")
                }
                _ = try r.u8(off + 20, "UID Format")
                let uidLength = Int(try r.u8(off + 21, "UID Length"))
                let uid = uidLength == 0 ? "" : try r.string(off + 22, uidLength, "UID")
                kind = .acpiHID(hid: hid, cid: cid, uid: uid)
            default:
                kind = .unknown
                if type != 0 {
                    warnings.append("unknown IVHD device entry type 0x\(String(type, radix: 16)) at 0x\(String(off, radix: 16)): skipped")
                }
            }
            out.append(Entry(type: type, deviceID: devid, data: data, kind: kind))
            off += size
        }
        return out
    }
}
