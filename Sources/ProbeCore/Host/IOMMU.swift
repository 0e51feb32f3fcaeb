/// An IOMMU group, /sys/kernel/iommu_groups/N. A value: its fields sit in one immutable box,
/// shared by copies, and a write makes a new box.
@dynamicMemberLookup
public struct IOMMUGroup: Sendable, Identifiable {
    public struct Fields: Sendable {
        public var id: Int
        /// Members that are PCI functions.
        public fileprivate(set) var pciMembers: [PCIAddress]
        /// Members that are not PCI functions (mdev UUIDs, platform devices).
        public fileprivate(set) var otherMembers: [String]
        /// Default domain type: DMA, DMA-FQ, identity, blocked, unmanaged.
        public var type: Reading<String>
        /// `name`: "vfio-noiommu" for the groups VFIO makes itself (no-IOMMU and mdev). Read only
        /// for a group without a default domain: the groups VFIO makes have none.
        public var name: String?
        public var reservedRegions: Reading<[ReservedRegion]>
        /// Why its `name` (which says whether VFIO made it for no-IOMMU mode) could not be read, when
        /// it could not: then whether an IOMMU backs it is unknown.
        public var nameProblem: String?
        /// Why its members could not be listed, when they could not (device scope).
        public var membersProblem: String?
        /// The drivers of members that are not PCI functions (platform, AMBA, fsl-mc devices), read
        /// with the group's listing (device scope); a member without a driver is not in it.
        public var otherDrivers: [String: String] = [:]
    }

    private var box: ValueBox<Fields>

    public subscript<T>(dynamicMember kp: KeyPath<Fields, T>) -> T { box.value[keyPath: kp] }
    public subscript<T>(dynamicMember kp: WritableKeyPath<Fields, T>) -> T {
        get { box.value[keyPath: kp] }
        set { box.value[keyPath: kp] = newValue }
    }

    public var id: Int {
        get { box.value.id }
        set { box.value.id = newValue }
    }
    /// Spelled out because the reader's initializers set it unqualified, which dynamic member lookup
    /// does not reach.
    public var nameProblem: String? {
        get { box.value.nameProblem }
        set { box.value.nameProblem = newValue }
    }
    /// Member names: PCI addresses, then other bus names (mdev UUIDs, platform devices).
    public var members: [String] {
        get { box.value.pciMembers.map(\.description) + box.value.otherMembers }
        set {
            var f = box.value
            f.pciMembers = newValue.compactMap(PCIAddress.init)
            f.otherMembers = newValue.filter { PCIAddress($0) == nil }
            box.value = f
        }
    }
    /// How many members it has.
    public var memberCount: Int { box.value.pciMembers.count + box.value.otherMembers.count }
    /// The default-domain types `type` shows for a group the IOMMU backs (anything else reads
    /// "unknown").
    static let domainTypes: Set<String> = ["DMA", "DMA-FQ", "identity", "blocked", "unmanaged"]

    /// What stands behind a group, as VFIO's `enum vfio_group_type` says: an IOMMU
    /// (VFIO_IOMMU), or a group VFIO made itself and named "vfio-noiommu" — for mdev
    /// instances, whose parent driver translates their DMA (VFIO_EMULATED_IOMMU, node
    /// /dev/vfio/N), or for a device bound in no-IOMMU mode (VFIO_NO_IOMMU, node
    /// /dev/vfio/noiommu-N). The two share the name; mdev instances are named by UUID.
    public enum Kind: String, Sendable { case iommu, emulatedIOMMU = "emulated-iommu", noIOMMU = "noiommu" }
    public var kind: Kind {
        let f = box.value
        guard f.name == "vfio-noiommu" else { return .iommu }
        return f.pciMembers.isEmpty && !f.otherMembers.isEmpty && f.otherMembers.allSatisfy(IOMMUGroup.isMdevName)
            ? .emulatedIOMMU : .noIOMMU
    }
    public var isNoIOMMU: Bool { kind == .noIOMMU }
    /// Its char device under /dev/vfio: "N", or "noiommu-N".
    public var nodeName: String { isNoIOMMU ? "noiommu-\(id)" : "\(id)" }

    /// An mdev instance's name: a UUID, 8-4-4-4-12 hexadecimal digits.
    static func isMdevName(_ name: String) -> Bool {
        var count = 0
        for (i, c) in name.utf8.enumerated() {
            count += 1
            if i == 8 || i == 13 || i == 18 || i == 23 {
                guard c == UInt8(ascii: "-") else { return false }
            } else {
                guard
                    (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(c) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(c)
                        || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(c)
                else { return false }
            }
        }
        return count == 36
    }

    public init(id: Int, members: [String], type: Reading<String>, name: String?, reservedRegions: Reading<[ReservedRegion]>) {
        var pci: [PCIAddress] = []
        var other: [String] = []
        for m in members {
            if let a = PCIAddress(m) { pci.append(a) } else { other.append(m) }
        }
        box = ValueBox(Fields(id: id, pciMembers: pci, otherMembers: other, type: type, name: name, reservedRegions: reservedRegions))
    }

    /// A group whose members are PCI functions, known from their `iommu_group` links.
    public init(id: Int, pciMembers: [PCIAddress], type: Reading<String>, name: String?, reservedRegions: Reading<[ReservedRegion]>) {
        box = ValueBox(Fields(id: id, pciMembers: pciMembers, otherMembers: [], type: type, name: name, reservedRegions: reservedRegions))
    }
}

/// One line of a group's `reserved_regions`: "0x00000000fee00000 0x00000000feefffff msi".
public struct ReservedRegion: Sendable, Equatable {
    public var start: UInt64
    public var end: UInt64
    public var type: String

    public static func parse(_ text: String) -> [ReservedRegion] {
        parse(ArraySlice(text.utf8))
    }

    /// Lines of "START END TYPE" (hexadecimal with 0x); other lines are skipped.
    public static func parse(_ b: ArraySlice<UInt8>) -> [ReservedRegion] {
        b.split(separator: 0x0a).compactMap { line in
            let fields = line.split(whereSeparator: { $0 == 0x20 || $0 == 0x09 })
            guard fields.count >= 3, let s = UInt64(hexBytes: fields[0]), let e = UInt64(hexBytes: fields[1]) else { return nil }
            return ReservedRegion(start: s, end: e, type: String(decoding: fields[2], as: UTF8.self))
        }
    }
}

/// A hardware IOMMU, /sys/class/iommu/NAME.
public struct IOMMUUnit: Sendable, Equatable {
    public enum Kind: String, Sendable, Codable { case intel, amd, virtio, arm, other }
    public var name: String
    public var kind: Kind
    /// Intel VT-d capability and extended capability registers.
    public var intelCap: UInt64?
    public var intelEcap: UInt64?
    /// AMD-Vi extended feature register (EFR).
    public var amdFeatures: UInt64?
    public var deviceCount: Int?
    /// The PCI function the unit is (AMD-Vi's IOMMU function, a virtio-iommu device), from
    /// where its /sys/class/iommu link leads; nil for units that are not PCI functions (VT-d).
    public var pciFunction: PCIAddress?
    /// The PCI functions it translates for, from its `devices` listing (nil: not listed).
    public var members: [PCIAddress]?

    /// VT-d: maximum guest address width, ((cap >> 16) & 0x3f) + 1.
    public var addressWidth: Int? { intelCap.map { Int(($0 >> 16) & 0x3f) + 1 } }
    /// VT-d ecap bit 3: interrupt remapping.
    public var interruptRemapping: Bool? {
        switch kind {
        case .intel: intelEcap.map { $0 & (1 << 3) != 0 }
        default: nil
        }
    }
    /// VT-d cap bit 7: caching mode, set by emulated IOMMUs.
    public var cachingMode: Bool? { intelCap.map { $0 & (1 << 7) != 0 } }
}

extension UInt64 {
    /// Parses "0x1f", "1f" and "d2008c40660462".
    /// "0x00000000fee00000" or "fee00000", as bytes.
    init?(hexBytes b: some Collection<UInt8>) {
        var digits = b[...]
        if digits.count > 2, digits.first == UInt8(ascii: "0"),
            digits.dropFirst().first == UInt8(ascii: "x") || digits.dropFirst().first == UInt8(ascii: "X")
        {
            digits = digits.dropFirst(2)
        }
        guard !digits.isEmpty else { return nil }
        var v: UInt64 = 0
        for c in digits {
            guard let d = hexDigit(c), v >> 60 == 0 else { return nil }  // not hex, or a 17th significant digit
            v = v << 4 | UInt64(d)
        }
        self = v
    }

    public init?(hexText: String) {
        var t = Substring(hexText.trimmed)
        if t.hasPrefix("0x") || t.hasPrefix("0X") { t = t.dropFirst(2) }
        guard !t.isEmpty, let v = UInt64(t, radix: 16) else { return nil }
        self = v
    }
}
