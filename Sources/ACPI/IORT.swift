/// Arm's IO Remapping Table: SMMUs, ITS groups, and how requester ids map between them.
public struct IORT: Sendable, Equatable {
    public var nodes: [Node] = []

    public struct Node: Sendable, Equatable {
        public enum Kind: Sendable, Equatable {
            case itsGroup(identifiers: [UInt32])
            case namedComponent(name: String)
            /// `pasidCapabilities`: the node's PASID Capabilities (revision 4 and later, a length of
            /// at least 36), whose bits 4:0 are the root complex's maximum PASID width
            /// (ACPI_IORT_PASID_MAX_WIDTH); nil in shorter nodes.
            case rootComplex(segment: UInt32, atsAttribute: UInt32, pasidCapabilities: UInt16? = nil)
            case smmuV1V2(base: UInt64, span: UInt64, model: UInt32)
            case smmuV3(base: UInt64, model: UInt32)
            case pmcg(page0: UInt64)
            case rmr(flags: UInt32, regions: [(base: UInt64, length: UInt64)])
            case unknown

            public static func == (a: Kind, b: Kind) -> Bool { String(describing: a) == String(describing: b) }
        }
        public var offset: Int
        public var type: UInt8
        public var revision: UInt8
        public var identifier: UInt32
        public var kind: Kind
        public var mappings: [IDMapping]

        public var typeName: String {
            ["ITS group", "named component", "root complex", "SMMUv1/v2", "SMMUv3", "PMCG", "RMR"][safe: Int(type)] ?? "type \(type)"
        }
    }

    public struct IDMapping: Sendable, Equatable {
        public var inputBase: UInt32
        public var count: UInt32
        public var outputBase: UInt32
        public var outputReference: UInt32
        public var flags: UInt32
    }

    static func decode(_ r: inout Reader, _ h: ACPIHeader, _ warnings: inout [String]) throws(ACPIDecodeError) -> IORT {
        let count = try r.u32(36, "Node Count")
        let first = Int(try r.u32(40, "Node Offset"))
        try r.opaque(44, 4, "Reserved")
        var t = IORT()
        var off = first
        let end = Int(h.length)
        for _ in 0..<min(Int(count), 65536) {
            guard off < end else { throw ACPIDecodeError(off, "node \(t.nodes.count) of \(count) starts past the end of the table") }
            let type = try r.u8(off, "Type")
            let length = Int(try r.u16(off + 1, "Length"))
            guard length >= 16 else { throw ACPIDecodeError(off, "IORT node type \(type) has length \(length)") }
            try r.need(off, length, "IORT node type \(type)")
            let rev = try r.u8(off + 3, "Revision")
            let ident = try r.u32(off + 4, "Identifier")
            let mapCount = Int(try r.u32(off + 8, "Mapping Count"))
            let mapOffset = Int(try r.u32(off + 12, "Mapping Offset"))
            let d = off + 16
            // Each type's fixed part must fit in the node before any of it is read (the fuzzer
            // found named components shorter than their name's offset).
            let minimum = [0: 20, 1: 30, 2: 33, 3: 76, 4: 68, 5: 32, 6: 28][Int(type)] ?? 16
            guard length >= minimum else {
                throw ACPIDecodeError(off, "IORT node type \(type) has length \(length), shorter than its \(minimum)-byte fixed part")
            }
            var kind: Node.Kind = .unknown
            switch type {
            case 0:
                let n = Int(try r.u32(d, "ItsCount"))
                var ids: [UInt32] = []
                // A node too short for all its identifiers holds as many as fit.
                for i in 0..<min(n, (length - 20) / 4) { ids.append(try r.u32(d + 4 + 4 * i, "Identifiers")) }
                kind = .itsGroup(identifiers: ids)
            case 1:
                try r.opaque(d, 4, "Node Flags")
                try memoryProperties(&r, d + 4)
                try r.opaque(d + 12, 1, "Memory Size Limit")
                let nameEnd = (mapCount > 0 && mapOffset > 29 && mapOffset <= length) ? mapOffset : length
                let raw = Array(r.bytes[(d + 13)..<(off + nameEnd)])
                let n = (raw.firstIndex(of: 0) ?? raw.count) + (raw.contains(0) ? 1 : 0)
                kind = .namedComponent(name: try r.string(d + 13, n, "Device Name"))
            case 2:
                try memoryProperties(&r, d)
                let ats = try r.u32(d + 8, "ATS Attribute")
                let seg = try r.u32(d + 12, "PCI Segment Number")
                try r.opaque(d + 16, 1, "Memory Size Limit")
                var pasid: UInt16?
                if length >= 36 {
                    pasid = try r.u16(d + 17, "PASID Capabilities")
                    try r.opaque(d + 19, 1, "Reserved")
                }
                kind = .rootComplex(segment: seg, atsAttribute: ats, pasidCapabilities: pasid)
            case 3:
                let base = try r.u64(d, "Base Address")
                let span = try r.u64(d + 8, "Span")
                let model = try r.u32(d + 16, "Model")
                try r.opaque(d + 20, 4, "Flags (decoded below)")
                try r.opaque(d + 24, 4, "Global Interrupt Offset")
                let ctxCount = Int(try r.u32(d + 28, "Context Interrupt Count"))
                let ctxOffset = Int(try r.u32(d + 32, "Context Interrupt Offset"))
                let pmuCount = Int(try r.u32(d + 36, "PMU Interrupt Count"))
                let pmuOffset = Int(try r.u32(d + 40, "PMU Interrupt Offset"))
                // The global interrupt array: NSgIrpt and NSgCfgIrpt with their flags.
                try r.opaque(d + 44, 4, "NSgIrpt")
                try r.opaque(d + 48, 4, "NSgIrpt Flags (decoded below)")
                try r.opaque(d + 52, 4, "NSgCfgIrpt")
                try r.opaque(d + 56, 4, "NSgCfgIrpt Flags (decoded below)")
                for i in 0..<min(ctxCount, length / 8) where ctxOffset + 8 * (i + 1) <= length {
                    try r.opaque(off + ctxOffset + 8 * i, 8, "Context Interrupt")
                }
                for i in 0..<min(pmuCount, length / 8) where pmuOffset + 8 * (i + 1) <= length {
                    try r.opaque(off + pmuOffset + 8 * i, 8, "PMU Interrupt")
                }
                kind = .smmuV1V2(base: base, span: span, model: model)
            case 4:
                let base = try r.u64(d, "Base Address")
                try r.opaque(d + 8, 4, "Flags (decoded below)")
                try r.opaque(d + 12, 4, "Reserved")
                try r.opaque(d + 16, 8, "VATOS Address")
                let model = try r.u32(d + 24, "Model")
                for (i, n) in ["Event GSIV", "PRI GSIV", "GERR GSIV", "Sync GSIV", "Proximity Domain", "Device ID Mapping Index"]
                    .enumerated()
                {
                    try r.opaque(d + 28 + 4 * i, 4, n)
                }
                kind = .smmuV3(base: base, model: model)
            case 5:
                let p0 = try r.u64(d, "Page 0 Base Address")
                try r.opaque(d + 8, 4, "Overflow Interrupt GSIV")
                try r.opaque(d + 12, 4, "Node Reference")
                if length >= 44 { try r.opaque(d + 16, 8, "Page 1 Base Address") }
                kind = .pmcg(page0: p0)
            case 6:
                let flags = try r.u32(d, "Flags (decoded below)")
                let n = Int(try r.u32(d + 4, "Number of RMR Descriptors"))
                let at = Int(try r.u32(d + 8, "RMR Descriptor Offset"))
                var regions: [(UInt64, UInt64)] = []
                for i in 0..<min(n, length / 20) {
                    let o = off + at + 20 * i
                    guard at + 20 * (i + 1) <= length else { throw ACPIDecodeError(o, "RMR descriptor \(i) runs past its node") }
                    let b = try r.u64(o, "Base Address of RMR")
                    let l = try r.u64(o + 8, "Length of RMR")
                    try r.opaque(o + 16, 4, "Reserved")
                    regions.append((b, l))
                }
                kind = .rmr(flags: flags, regions: regions)
            default:
                warnings.append("unknown IORT node type \(type) at 0x\(String(off, radix: 16)), \(length) bytes: skipped")
            }
            var mappings: [IDMapping] = []
            for i in 0..<min(mapCount, length / 20) {
                let o = off + mapOffset + 20 * i
                guard mapOffset >= 16, mapOffset + 20 * (i + 1) <= length else {
                    throw ACPIDecodeError(o, "ID mapping \(i) of node type \(type) lies outside the node")
                }
                mappings.append(
                    IDMapping(
                        inputBase: try r.u32(o, "Input base"), count: try r.u32(o + 4, "ID Count"),
                        outputBase: try r.u32(o + 8, "Output Base"), outputReference: try r.u32(o + 12, "Output Reference"),
                        flags: try r.u32(o + 16, "Flags (decoded below)")))
            }
            t.nodes.append(Node(offset: off, type: type, revision: rev, identifier: ident, kind: kind, mappings: mappings))
            off += length
        }
        return t
    }

    static func memoryProperties(_ r: inout Reader, _ o: Int) throws(ACPIDecodeError) {
        try r.opaque(o, 4, "Cache Coherency")
        try r.opaque(o + 4, 1, "Hints (decoded below)")
        try r.opaque(o + 5, 2, "Reserved")
        try r.opaque(o + 7, 1, "Memory Flags (decoded below)")
    }
}

/// The virtio-iommu's Virtual I/O Translation table.
public struct VIOT: Sendable, Equatable {
    public var nodes: [Node] = []

    public enum Node: Sendable, Equatable {
        case pciRange(
            offset: Int, endpointStart: UInt32, segmentStart: UInt16, segmentEnd: UInt16, bdfStart: UInt16, bdfEnd: UInt16, output: UInt16)
        case mmioEndpoint(offset: Int, endpoint: UInt32, base: UInt64, output: UInt16)
        case virtioPCI(offset: Int, segment: UInt16, bdf: UInt16)
        case virtioMMIO(offset: Int, base: UInt64)
        case unknown(offset: Int, type: UInt8)
    }

    static func decode(_ r: inout Reader, _ h: ACPIHeader, _ warnings: inout [String]) throws(ACPIDecodeError) -> VIOT {
        let count = Int(try r.u16(36, "Node count"))
        var off = Int(try r.u16(38, "Node offset"))
        try r.opaque(40, 8, "Reserved")
        var t = VIOT()
        let end = Int(h.length)
        for _ in 0..<count {
            guard off < end else { throw ACPIDecodeError(off, "node \(t.nodes.count) of \(count) starts past the end of the table") }
            let type = try r.u8(off, "Type")
            try r.opaque(off + 1, 1, "Reserved")
            let length = Int(try r.u16(off + 2, "Length"))
            guard length >= 4 else { throw ACPIDecodeError(off, "VIOT node type \(type) has length \(length)") }
            try r.need(off, length, "VIOT node type \(type)")
            switch type {
            case 1:
                t.nodes.append(
                    .pciRange(
                        offset: off, endpointStart: try r.u32(off + 4, "Endpoint start"),
                        segmentStart: try r.u16(off + 8, "PCI Segment start"), segmentEnd: try r.u16(off + 10, "PCI Segment end"),
                        bdfStart: try r.u16(off + 12, "PCI BDF start"), bdfEnd: try r.u16(off + 14, "PCI BDF end"),
                        output: try r.u16(off + 16, "Output node")))
                try r.opaque(off + 18, 6, "Reserved")
            case 2:
                t.nodes.append(
                    .mmioEndpoint(
                        offset: off, endpoint: try r.u32(off + 4, "Endpoint"), base: try r.u64(off + 8, "Base address"),
                        output: try r.u16(off + 16, "Output node")))
                try r.opaque(off + 18, 6, "Reserved")
            case 3:
                t.nodes.append(
                    .virtioPCI(offset: off, segment: try r.u16(off + 4, "PCI Segment"), bdf: try r.u16(off + 6, "PCI BDF number")))
                try r.opaque(off + 8, 8, "Reserved")
            case 4:
                try r.opaque(off + 4, 4, "Reserved")
                t.nodes.append(.virtioMMIO(offset: off, base: try r.u64(off + 8, "Base address")))
            default:
                t.nodes.append(.unknown(offset: off, type: type))
                warnings.append("unknown VIOT node type \(type) at 0x\(String(off, radix: 16)): skipped")
            }
            off += length
        }
        return t
    }
}

extension Array {
    subscript(safe i: Int) -> Element? { i >= 0 && i < count ? self[i] : nil }
}
