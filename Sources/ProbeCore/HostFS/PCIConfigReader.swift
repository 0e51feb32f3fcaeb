import CPCI
import CShim

/// Config-space facts libpci reads for one function.
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

/// libpci on its sysfs method, rooted at ROOT/sys/bus/pci, used for what libpci does well:
/// capability walks and pci.ids names. It reads one device at a time (`pci_get_dev`), never
/// scanning the bus, so `--device` costs the same on any host.
final class PCIConfigReader {
    private let access: UnsafeMutablePointer<pci_access>?
    let openError: String?

    init(root: String) {
        var err = [CChar](repeating: 0, count: 256)
        let path = (root == "/" ? "" : root) + "/sys/bus/pci"
        access = vp_pci_open(path, &err, err.count)
        openError = access == nil ? cString(err) : nil
    }

    deinit { vp_pci_close(access) }

    func config(_ a: PCIAddress) -> Result<PCIConfigInfo, PCIReadError> {
        guard let access else { return .failure(PCIReadError(message: openError ?? "libpci unavailable")) }
        var err = [CChar](repeating: 0, count: 256)
        let fill = UInt32(PCI_FILL_CAPS | PCI_FILL_EXT_CAPS)
        guard let f = vp_pci_device(access, Int32(a.domain), Int32(a.bus), Int32(a.device), Int32(a.function), fill, &err, err.count) else {
            return .failure(PCIReadError(message: cString(err)))
        }
        defer { vp_pci_free_device(f) }
        let length = Int(f.pointee.config_length)
        guard length >= 64, let d = f.pointee.dev else {
            return .failure(PCIReadError(message: "config space unreadable"))
        }
        let cfg: [UInt8] = withUnsafeBytes(of: &f.pointee.config) { Array($0.prefix(64)) }
        let complete = length > 64
        let headerType: UInt8? = cfg[0x0e] & 0x7f
        var caps: [PCICapability] = []
        var cap = d.pointee.first_cap
        while let c = cap {
            caps.append(PCICapability(id: c.pointee.id, space: c.pointee.type == PCI_CAP_EXTENDED ? .extended : .normal,
                                      offset: c.pointee.addr))
            cap = c.pointee.next
        }
        var expressType: UInt8?
        if let e = caps.first(where: { $0.space == .normal && $0.id == PCICapability.express }) {
            var flags = [UInt8](repeating: 0, count: 2)
            if vp_pci_read_block(d, Int32(e.offset) + 2, &flags, 2) != 0 { expressType = (flags[0] >> 4) & 0xf }
        }
        var secondary: UInt8?
        if headerType == 1 {
            var b = [UInt8](repeating: 0, count: 1)
            if vp_pci_read_block(d, 0x19, &b, 1) != 0 { secondary = b[0] }
        }
        return .success(PCIConfigInfo(headerType: headerType, capabilities: caps, expressType: expressType,
                                      secondaryBus: secondary, complete: complete,
                                      vendorID: UInt16(cfg[0]) | UInt16(cfg[1]) << 8, deviceID: UInt16(cfg[2]) | UInt16(cfg[3]) << 8,
                                      classCode: UInt32(cfg[0x0b]) << 16 | UInt32(cfg[0x0a]) << 8 | UInt32(cfg[0x09])))
    }

    func names(vendor: UInt16, device: UInt16, classCode: UInt32) -> (vendor: String?, device: String?, cls: String?) {
        guard let access else { return (nil, nil, nil) }
        var buf = [CChar](repeating: 0, count: 256)
        func str(_ p: UnsafePointer<CChar>?) -> String? { p.map { String(cString: $0) } }
        let v = str(vp_pci_vendor_name(access, &buf, 256, Int32(vendor)))
        let d = str(vp_pci_device_name(access, &buf, 256, Int32(vendor), Int32(device)))
        let c = str(vp_pci_class_name(access, &buf, 256, Int32(classCode >> 8)))
        return (v, d, c)
    }
}

public struct PCIReadError: Error, Sendable { public var message: String }

/// A NUL-terminated C buffer as a String.
func cString(_ buf: [CChar]) -> String {
    let bytes = buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
    return String(decoding: bytes, as: UTF8.self)
}
