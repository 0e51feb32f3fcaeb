import CPCI
import CShim

/// Config-space facts of one function, from the bytes HostFS read (libpci walks the capability
/// lists in them).
public struct PCIConfigInfo: Sendable {
    public var headerType: UInt8?
    public var capabilities: [PCICapability]
    public var expressType: UInt8?
    public var secondaryBus: UInt8?
    /// False when config space past the first 64 bytes could not be read (not root).
    public var complete: Bool
    /// Identity from the config header (the same values sysfs shows).
    public var vendorID: UInt16
    public var deviceID: UInt16
    public var classCode: UInt32
}

/// libpci on its sysfs method, used for what libpci does well: capability walks and pci.ids
/// names. It never reads the host itself: HostFS reads config space (one read per function,
/// relative to the device's directory) and the bytes become libpci's cache, so libpci's
/// accessors see exactly what the snapshot and the access log see. Not thread-safe: one per
/// worker.
final class PCIConfigReader {
    private let access: UnsafeMutablePointer<pci_access>?
    let openError: String?
    /// The one libpci device this reader parses into, reused for every function.
    private let scratch: UnsafeMutablePointer<vp_pci_function>

    struct Names {
        var vendor: String?
        var device: String?
        var cls: String?
    }

    init(root: String) {
        var err = [CChar](repeating: 0, count: 256)
        let path = (root == "/" ? "" : root) + "/sys/bus/pci"
        access = vp_pci_open(path, &err, err.count)
        openError = access == nil ? cString(err) : nil
        scratch = .allocate(capacity: 1)
        scratch.pointee.dev = nil
        scratch.pointee.config_length = 0
    }

    deinit {
        vp_pci_release(scratch)
        scratch.deallocate()
        vp_pci_close(access)
    }

    /// How much of config space the probe reads: the header and the capability list, as `lspci
    /// -v` does. On hardware every dword of config space is an ECAM read by the kernel, so the
    /// 4 KiB extended space of thousands of functions would cost the probe seconds; nothing it
    /// decides needs an extended capability (SR-IOV comes from sysfs, isolation from the groups).
    static let bytesRead = 256

    /// Decodes config space as read from sysfs (64 bytes for a user who is not root, 256, or a
    /// fixture's file).
    func decode(_ a: PCIAddress, config bytes: [UInt8]) -> Result<PCIConfigInfo, PCIReadError> {
        guard bytes.count >= 64 else {
            return .failure(PCIReadError(message: bytes.isEmpty ? "config space empty" : "config space is \(bytes.count) bytes, shorter than its 64-byte header"))
        }
        guard let access else { return .failure(PCIReadError(message: openError ?? "libpci unavailable")) }
        var err = [CChar](repeating: 0, count: 256)
        guard vp_pci_parse(access, scratch, Int32(a.domain), Int32(a.bus), Int32(a.device), Int32(a.function),
                           bytes, Int32(bytes.count), &err, err.count) == 0, let d = scratch.pointee.dev else {
            return .failure(PCIReadError(message: cString(err)))
        }
        defer { vp_pci_release(scratch) }
        let headerType = bytes[0x0e] & 0x7f
        var caps: [PCICapability] = []
        var cap = d.pointee.first_cap
        while let c = cap {
            caps.append(PCICapability(id: c.pointee.id, space: c.pointee.type == PCI_CAP_EXTENDED ? .extended : .normal,
                                      offset: c.pointee.addr))
            cap = c.pointee.next
        }
        var expressType: UInt8?
        if let e = caps.first(where: { $0.space == .normal && $0.id == PCICapability.express }), Int(e.offset) + 2 < bytes.count {
            expressType = (bytes[Int(e.offset) + 2] >> 4) & 0xf
        }
        return .success(PCIConfigInfo(headerType: headerType, capabilities: caps, expressType: expressType,
                                      secondaryBus: headerType == 1 ? bytes[0x19] : nil, complete: bytes.count > 64,
                                      vendorID: UInt16(bytes[0]) | UInt16(bytes[1]) << 8, deviceID: UInt16(bytes[2]) | UInt16(bytes[3]) << 8,
                                      classCode: UInt32(bytes[0x0b]) << 16 | UInt32(bytes[0x0a]) << 8 | UInt32(bytes[0x09])))
    }

    /// How pci.ids came to be loaded.
    enum NameList: Equatable {
        /// Only the lines of the identities asked for, and the class list.
        case subset
        /// The whole file, by libpci itself (a compressed database, or no memfd or /proc).
        case whole
        case unavailable
    }

    /// What a function is named by: vendor, device and class (the base class and subclass).
    struct Identity: Hashable {
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

    /// libpci's pci.ids, mapped (`vp_ids_open`): where `loadNames` finds the host's lines.
    final class MappedIDs: @unchecked Sendable {
        fileprivate let pointer: OpaquePointer?
        fileprivate init(_ pointer: OpaquePointer?) { self.pointer = pointer }
        deinit { vp_ids_close(pointer) }
        /// No mapping: what a compressed database gives (libpci then loads the whole file).
        static var unmapped: MappedIDs { MappedIDs(nil) }
    }

    func mapIDs() -> MappedIDs { MappedIDs(access.flatMap { vp_ids_open($0) }) }

    /// Loads the names of `identities` (their vendors, devices and classes) before the first
    /// lookup; any other vendor, device or class then has no name.
    func loadNames(_ identities: Set<Identity>, from file: MappedIDs? = nil) -> NameList {
        guard let access else { return .unavailable }
        let file = file ?? mapIDs()
        let ids = Set(identities.map { UInt32($0.vendor) << 16 | UInt32($0.device) }).sorted()
        let classes = Set(identities.map { $0.classCode >> 8 }).sorted()
        let loaded = ids.withUnsafeBufferPointer { i in
            classes.withUnsafeBufferPointer { c in
                vp_ids_load(access, file.pointer, i.baseAddress, Int32(i.count), c.baseAddress, Int32(c.count))
            }
        }
        switch loaded {
        case 1: return .subset
        case 0: return .whole
        default: return .unavailable
        }
    }

    func names(vendor: UInt16, device: UInt16, classCode: UInt32) -> Names {
        guard let access else { return Names() }
        var buf = [CChar](repeating: 0, count: 256)
        func str(_ p: UnsafePointer<CChar>?) -> String? { p.map { String(cString: $0) } }
        return Names(vendor: str(vp_pci_vendor_name(access, &buf, 256, Int32(vendor))),
                     device: str(vp_pci_device_name(access, &buf, 256, Int32(vendor), Int32(device))),
                     cls: str(vp_pci_class_name(access, &buf, 256, Int32(classCode >> 8))))
    }
}

public struct PCIReadError: Error, Sendable { public var message: String }

/// A NUL-terminated C buffer as a String.
func cString(_ buf: [CChar]) -> String {
    let bytes = buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
    return String(decoding: bytes, as: UTF8.self)
}
