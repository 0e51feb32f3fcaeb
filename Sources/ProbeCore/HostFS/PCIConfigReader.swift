#if canImport(Glibc)
import Glibc
#endif
import CPCI
import CShim

/// Config-space facts of one function, from the bytes HostFS read (libpci walks the capability
/// lists in them).
public struct PCIConfigInfo: Sendable {
    public var headerType: UInt8?
    /// Bit 7 of the header type: the device has more than one function (`pdev->multifunction`).
    public var multifunction: Bool = false
    public var capabilities: [PCICapability]
    public var expressType: UInt8?
    public var secondaryBus: UInt8?
    /// False when config space past the first 64 bytes could not be read (not root).
    public var complete: Bool
    /// Identity from the config header (the same values sysfs shows).
    public var vendorID: UInt16
    public var deviceID: UInt16
    public var classCode: UInt32
    public var revision: UInt8
    /// The Express capability's Device Capabilities 2 End-End TLP Prefix Supported bit
    /// (PCI_EXP_DEVCAP2_EE_PREFIX, +0x24 bit 21); nil without the capability or past what was read.
    public var eetlpPrefix: Bool? = nil
}

public struct PCIReadError: Error, Sendable { public var message: String }

/// libpci on its sysfs method, for what libpci does well: capability walks and pci.ids names.
/// It never reads the host itself: HostFS reads config space and the bytes become libpci's
/// cache, so libpci sees exactly what the snapshot and the access log see. Not thread-safe:
/// one per worker.
final class PCIConfigReader {
    private let access: OpaquePointer?
    let openError: String?

    init(root: String) {
        var err = [CChar](repeating: 0, count: 256)
        access = OpaquePointer(vp_pci_open((root == "/" ? "" : root) + "/sys/bus/pci", &err, err.count))
        openError = access == nil ? cString(err) : nil
    }

    deinit { vp_pci_close(UnsafeMutablePointer(access)) }

    /// How much of config space the probe reads of a function in one go: the header and the
    /// capability list, as `lspci -v` does (64 bytes for a user who is not root). The extended
    /// space (ACS, ATS, PASID, SR-IOV) is walked capability by capability
    /// (`extendedCapabilities`): on hardware every dword is a config cycle.
    static let bytesRead = 256
    /// What the firmware-scope walk needs of a bridge: its header (the secondary bus number).
    static let headerBytes = 64

    /// Decodes config space as read from sysfs (64 bytes for a user who is not root, 256, or a
    /// fixture's file).
    func decode(_ a: PCIAddress, config bytes: [UInt8]) -> Result<PCIConfigInfo, PCIReadError> {
        guard bytes.count >= 64 else {
            return .failure(
                PCIReadError(
                    message: bytes.isEmpty ? "config space empty" : "config space is \(bytes.count) bytes, shorter than its 64-byte header")
            )
        }
        guard let access else { return .failure(PCIReadError(message: openError ?? "libpci unavailable")) }
        var err = [CChar](repeating: 0, count: 256)
        var found = [vp_pci_capability](repeating: vp_pci_capability(), count: 256)
        let count = vp_pci_capabilities(
            UnsafeMutablePointer(access), Int32(a.domain), Int32(a.bus), Int32(a.device), Int32(a.function),
            bytes, Int32(bytes.count), &found, Int32(found.count), &err, err.count)
        guard count >= 0 else { return .failure(PCIReadError(message: cString(err))) }
        let caps = found.prefix(Int(count)).map { c in
            let start = min(Int(c.offset), bytes.count)
            return PCICapability(
                id: c.id, space: c.extended != 0 ? .extended : .normal, offset: UInt32(c.offset),
                registers: Array(bytes[start..<min(start + PCICapability.registerBytes, bytes.count)]))
        }
        let headerType = bytes[0x0e] & 0x7f
        var expressType: UInt8?
        if let e = caps.first(where: { $0.space == .normal && $0.id == PCICapability.express }), Int(e.offset) + 2 < bytes.count {
            expressType = (bytes[Int(e.offset) + 2] >> 4) & 0xf
        }
        var eetlpPrefix: Bool?
        if let e = caps.first(where: { $0.space == .normal && $0.id == PCICapability.express }), Int(e.offset) + 0x28 <= bytes.count {
            eetlpPrefix = bytes[Int(e.offset) + 0x24 + 2] & 0x20 != 0  // PCI_EXP_DEVCAP2_EE_PREFIX 0x00200000
        }
        return .success(
            PCIConfigInfo(
                headerType: headerType, multifunction: bytes[0x0e] & 0x80 != 0, capabilities: caps, expressType: expressType,
                secondaryBus: headerType == 1 ? bytes[0x19] : nil, complete: bytes.count > 64,
                vendorID: UInt16(bytes[0]) | UInt16(bytes[1]) << 8, deviceID: UInt16(bytes[2]) | UInt16(bytes[3]) << 8,
                classCode: UInt32(bytes[0x0b]) << 16 | UInt32(bytes[0x0a]) << 8 | UInt32(bytes[0x09]), revision: bytes[0x08],
                eetlpPrefix: eetlpPrefix))
    }

    /// The extended capabilities of a PCI Express function, from its list at 0x100 read header by
    /// header (`read` gives `count` bytes at an offset): each header with the registers after
    /// it. The rule is the kernel's `pci_find_next_ext_capability` and libpci's `pci_scan_ext_caps`:
    /// a zero or all-ones header ends the list, the next offset is bits 31:20 with the low two
    /// bits clear and must lie in the extended space, at most (4096 - 256) / 8 headers, none
    /// visited twice. `extendedCapabilitiesMatchLibpci` checks it against libpci's own walk.
    static func extendedCapabilities(_ read: (_ offset: Int, _ count: Int) -> [UInt8]?) -> [PCICapability] {
        var caps: [PCICapability] = []
        var seen: Set<Int> = []
        var offset = 0x100
        while offset >= 0x100, offset <= 0xffc, caps.count < (4096 - 256) / 8, seen.insert(offset).inserted {
            guard let b = read(offset, PCICapability.registerBytes), b.count >= 4 else { break }
            let header = UInt32(b[0]) | UInt32(b[1]) << 8 | UInt32(b[2]) << 16 | UInt32(b[3]) << 24
            if header == 0 || header == 0xffff_ffff { break }
            caps.append(PCICapability(id: UInt16(header & 0xffff), space: .extended, offset: UInt32(offset), registers: b))
            offset = Int((header >> 20) & 0xffc)
        }
        return caps
    }

    /// What a function is named by: vendor, device and class (the base class and subclass).
    struct Identity: Hashable, Sendable {
        var vendor: UInt16
        var device: UInt16
        var classCode: UInt32
        init(vendor: UInt16, device: UInt16, classCode: UInt32) {
            self.vendor = vendor
            self.device = device
            self.classCode = classCode
        }
        init(_ d: PCIDevice) { self.init(vendor: d.vendorID, device: d.deviceID, classCode: d.classCode) }
    }

    struct Names: Sendable {
        var vendor: String?
        var device: String?
        var cls: String?
    }

    /// How pci.ids came to be loaded.
    enum NameList: Equatable {
        /// Only the lines of the identities asked for (`PCIIDsSubset`).
        case subset
        /// The whole file, by libpci itself (a compressed database, or no memfd or /proc).
        case whole
        case unavailable
    }

    /// Loads the names of `identities` before the first look-up; any other vendor, device or
    /// class then has no name. nil: the whole database.
    @discardableResult
    func loadNames(_ identities: Set<Identity>? = nil) -> NameList {
        guard let access else { return .unavailable }
        let acc = UnsafeMutablePointer<pci_access>(access)
        let subset = identities.flatMap { ids in PCIConfigReader.plainDatabase(acc).flatMap { PCIIDsSubset.select($0, identities: ids) } }
        let loaded =
            subset.map { s in s.withUnsafeBytes { vp_pci_load_names(acc, $0.baseAddress?.assumingMemoryBound(to: CChar.self), $0.count) } }
            ?? vp_pci_load_names(acc, nil, 0)
        switch loaded {
        case 1: return .subset
        case 0: return .whole
        default: return .unavailable
        }
    }

    /// The uncompressed pci.ids libpci would read; nil when it reads a compressed one (libpci
    /// prefers "pci.ids.gz" when it is there, and loads that itself) or there is none.
    private static func plainDatabase(_ acc: UnsafeMutablePointer<pci_access>) -> [UInt8]? {
        guard let configured = vp_pci_ids_file(acc).map({ String(cString: $0) }) else { return nil }
        var path = configured
        if configured.hasSuffix(".gz") {
            if let gz = try? Syscalls.open(configured, O_RDONLY) {
                Syscalls.close(gz)
                return nil
            }
            path = String(configured.dropLast(3))
        }
        guard let fd = try? Syscalls.open(path, O_RDONLY) else { return nil }
        defer { Syscalls.close(fd) }
        return try? Syscalls.read(fd, limit: 64 << 20)
    }

    func names(of id: Identity) -> Names {
        Names(
            vendor: lookUp(PCI_LOOKUP_VENDOR.rawValue, Int32(id.vendor), 0),
            device: lookUp(PCI_LOOKUP_DEVICE.rawValue, Int32(id.vendor), Int32(id.device)),
            cls: lookUp(PCI_LOOKUP_CLASS.rawValue, Int32(id.classCode >> 8), 0))
    }

    private func lookUp(_ flags: UInt32, _ first: Int32, _ second: Int32) -> String? {
        guard let access else { return nil }
        var buf = [CChar](repeating: 0, count: 256)
        // The name is in `buf` or in libpci's own list: read where the pointer says, while `buf` lives.
        return buf.withUnsafeMutableBufferPointer { b in
            vp_pci_lookup(UnsafeMutablePointer(access), b.baseAddress, Int32(b.count), Int32(flags), first, second).map {
                String(cString: $0)
            }
        }
    }
}

/// A NUL-terminated C buffer as a String.
func cString(_ buf: [CChar]) -> String {
    String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
