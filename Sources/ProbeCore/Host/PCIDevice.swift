#if canImport(Glibc)
import Glibc
#endif

/// One PCI function, as sysfs and its config space (through libpci) describe it. A value: its
/// fields sit in one immutable box, shared by copies, and a write makes a new box.
@dynamicMemberLookup
public struct PCIDevice: Sendable, Identifiable {
    public struct Fields: Sendable {
        public var address: PCIAddress {
            didSet { bdf = address.description }
        }
        /// "dddd:bb:dd.f", as sysfs names the function; made once, it is in most paths and messages.
        public private(set) var bdf: String
        public var vendorID: UInt16
        public var deviceID: UInt16
        /// 24-bit class code: base class, subclass, programming interface.
        public var classCode: UInt32
        public var subsystemVendorID: UInt16?
        public var subsystemDeviceID: UInt16?
        /// "Vendor Device" from pci.ids, when it knows them.
        public var vendorName: String?
        public var deviceName: String?
        public var className: String?
        /// Bound driver, from the `driver` link; nil when unbound.
        public var driver: String?
        public var driverOverride: String?
        /// Number of the IOMMU group, from the `iommu_group` link; nil when the device has none.
        public var iommuGroup: Int?
        public var numaNode: Int?
        /// Config-space header type (0 normal, 1 PCI-PCI bridge, 2 CardBus), without the multi-function bit.
        public var headerType: UInt8?
        /// The header type's multi-function bit (`pdev->multifunction`): its siblings in the slot
        /// may reach each other without going upstream unless ACS says otherwise.
        public var multifunction: Bool = false
        /// PCI Express device/port type from the Express capability (0 endpoint, 4 root port, …).
        public var expressType: UInt8?
        public var capabilities: [PCICapability] = []
        /// False when only the first 64 bytes of config space were readable (not root).
        public var configComplete: Bool = false
        /// For bridges: the secondary bus number.
        public var secondaryBus: UInt8?
        public var sriov: SRIOV?
        /// For a VF: its PF.
        public var physfn: PCIAddress?
        /// The bridges above it, nearest first, from its place in /sys/devices.
        public var parents: [PCIAddress] = []
        /// `vfio-dev/vfioN` when vfio-pci exposes a device cdev.
        public var vfioDevice: String?
        /// virtio devices on top of this PCI function (virtio-pci transport).
        public var virtio: [VirtioDevice] = []
        /// `boot_vga`, which the kernel shows only for VGA functions (pci_is_vga): whether the
        /// firmware's console is on it. nil for other functions.
        public var bootVGA: Bool?
        /// Deciding attributes that could not be read ("driver", "iommu_group"): the device's driver
        /// or group is then unknown, not absent.
        public var unreadable: [String] = []
        // Reset (drivers/pci/pci.c): what the kernel says of it, and what decides it.
        /// `reset_method` (5.15+): the methods pci_init_reset_methods found, in the order the
        /// kernel tries them. The kernel hides the attribute when there are none
        /// (pci_dev_reset_method_attr_is_visible), so on 5.15+ `.absent` means "no method"; before
        /// 5.15 it means nothing. Empty when a user disabled every method.
        public var resetMethod: Reading<[ResetMethod]> = .absent
        /// `d3cold_allowed` (CONFIG_PM and CONFIG_ACPI): whether runtime PM may put it in D3cold.
        public var d3coldAllowed: Bool?
        /// Revision ID (config space byte 8): some quirks apply to one revision only.
        public var revision: UInt8?
        /// End-End TLP Prefix Supported (Device Capabilities 2, PCI_EXP_DEVCAP2_EE_PREFIX): what
        /// `pci_configure_eetlp_prefix` builds `eetlp_prefix_path` from (PASID needs it); nil
        /// without an Express capability or when config space was cut short.
        public var eetlpPrefix: Bool?

        init(address: PCIAddress, vendorID: UInt16, deviceID: UInt16, classCode: UInt32) {
            self.address = address
            bdf = address.description
            self.vendorID = vendorID
            self.deviceID = deviceID
            self.classCode = classCode
        }
    }

    private var box: ValueBox<Fields>

    public subscript<T>(dynamicMember kp: KeyPath<Fields, T>) -> T { box.value[keyPath: kp] }
    public subscript<T>(dynamicMember kp: WritableKeyPath<Fields, T>) -> T {
        get { box.value[keyPath: kp] }
        set { box.value[keyPath: kp] = newValue }
    }

    public var id: PCIAddress { box.value.address }
    public var baseClass: UInt8 { UInt8((self.classCode >> 16) & 0xff) }
    public var subClass: UInt8 { UInt8((self.classCode >> 8) & 0xff) }
    public var isBridge: Bool { baseClass == 0x06 && subClass == 0x04 || self.headerType == 1 || self.headerType == 2 }
    public var isVF: Bool { self.physfn != nil }
    public var displayName: String {
        var s = ""
        appendDisplayName(to: &s)
        return s
    }

    /// `displayName`, appended to `out` piece by piece (the text report writes thousands).
    func appendDisplayName(to out: inout String) {
        let f = box.value
        switch (f.vendorName, f.deviceName) {
        case let (v?, d?):
            out += v
            out += " "
            out += d
        case let (v?, nil): out += "\(v) device \(hex(f.deviceID, 4))"
        default: out += "[\(hex(f.vendorID, 4)):\(hex(f.deviceID, 4))]"
        }
    }

    public init(address: PCIAddress, vendorID: UInt16, deviceID: UInt16, classCode: UInt32) {
        box = ValueBox(Fields(address: address, vendorID: vendorID, deviceID: deviceID, classCode: classCode))
    }

    /// A device from fields a reader filled in (one box, however many fields were set).
    init(_ fields: Fields) { box = ValueBox(fields) }

    /// `edit` made to the fields, in one new box.
    mutating func update(_ edit: (inout Fields) -> Void) {
        var f = box.value
        edit(&f)
        box.value = f
    }
}

public struct PCICapability: Sendable, Equatable {
    public enum Space: String, Sendable { case normal, extended }
    public var id: UInt16
    public var space: Space
    public var offset: UInt32
    /// The capability's first `PCICapability.registerBytes` bytes of config space (fewer where
    /// the read ended): its header and the capability and control registers the checks decode.
    public var registers: [UInt8] = []

    /// Bytes kept per capability: enough for the Express capability's Device Capabilities and
    /// Control, PM's PMCSR, AF's capability byte, and the ACS, ATS and PASID control words.
    public static let registerBytes = 12

    public init(id: UInt16, space: Space, offset: UInt32, registers: [UInt8] = []) {
        self.id = id
        self.space = space
        self.offset = offset
        self.registers = registers
    }

    /// The little-endian word at `offset` within the capability; nil past what was read.
    public func word(at offset: Int) -> UInt16? {
        guard offset >= 0, offset + 2 <= registers.count else { return nil }
        return UInt16(registers[offset]) | UInt16(registers[offset + 1]) << 8
    }
    /// The little-endian dword at `offset` within the capability; nil past what was read.
    public func dword(at offset: Int) -> UInt32? {
        guard let lo = word(at: offset), let hi = word(at: offset + 2) else { return nil }
        return UInt32(lo) | UInt32(hi) << 16
    }

    public static let express: UInt16 = 0x10
    /// Power Management (PCI_CAP_ID_PM) and Advanced Features (PCI_CAP_ID_AF), for the resets.
    public static let powerManagement: UInt16 = 0x01
    public static let advancedFeatures: UInt16 = 0x13
    public static let msi: UInt16 = 0x05
    public static let msix: UInt16 = 0x11
    public static let acsExtended: UInt16 = 0x0d
    public static let sriovExtended: UInt16 = 0x10
    public static let atsExtended: UInt16 = 0x0f
    /// PCI_EXT_CAP_ID_PRI and PCI_EXT_CAP_ID_PASID (the PRI id is AF's in the normal space).
    public static let priExtended: UInt16 = 0x13
    public static let pasidExtended: UInt16 = 0x1b
}

public struct SRIOV: Sendable, Equatable {
    public var totalVFs: Int
    public var numVFs: Int
    public var vfs: [PCIAddress]
}

/// A device on the virtio bus. `features` is the negotiated feature string: '0'/'1' per bit.
public struct VirtioDevice: Sendable, Equatable {
    public var name: String
    public var deviceID: UInt32?
    public var features: Reading<String>
    public var driver: String?

    public static let accessPlatformBit = 33
    public var hasAccessPlatform: Bool? {
        guard let f = features.value else { return nil }
        let bits = Array(f)
        return bits.count > VirtioDevice.accessPlatformBit && bits[VirtioDevice.accessPlatformBit] == "1"
    }
}

/// A PCI function's `uevent` attribute: the kernel's view of its identity and its driver.
///
///     DRIVER=iavf
///     PCI_CLASS=20000
///     PCI_ID=8086:1889
///     PCI_SUBSYS_ID=8086:0000
///     PCI_SLOT_NAME=0000:05:01.3
///     MODALIAS=pci:v00008086d00001889sv00008086sd00000000bc02sc00i00
public struct PCIUevent: Sendable, Equatable {
    public var vendor: UInt16
    public var device: UInt16
    public var classCode: UInt32
    public var subsystem: (vendor: UInt16, device: UInt16)?
    /// nil when no driver is bound.
    public var driver: String?

    /// nil unless PCI_ID and PCI_CLASS are there and well formed.
    public init?(_ b: ArraySlice<UInt8>) {
        var id: (UInt16, UInt16)?, cls: UInt32?, sub: (UInt16, UInt16)?, driver: String?
        func pair(_ v: ArraySlice<UInt8>) -> (UInt16, UInt16)? {
            guard let colon = v.firstIndex(of: UInt8(ascii: ":")),
                let x = UInt64(hexBytes: v[..<colon]), let y = UInt64(hexBytes: v[(colon + 1)...]),
                x <= 0xffff, y <= 0xffff
            else { return nil }
            return (UInt16(x), UInt16(y))
        }
        var rest = b
        while !rest.isEmpty {
            let end = rest.firstIndex(of: 0x0a) ?? rest.endIndex
            let line = rest[..<end]
            rest = end == rest.endIndex ? [] : rest[(end + 1)...]
            guard let eq = line.firstIndex(of: UInt8(ascii: "=")) else { continue }
            let key = line[..<eq], value = line[(eq + 1)...]
            if key.elementsEqual("PCI_ID".utf8) {
                id = pair(value)
            } else if key.elementsEqual("PCI_CLASS".utf8) {
                cls = UInt64(hexBytes: value).flatMap { $0 <= 0xffffff ? UInt32($0) : nil }
            } else if key.elementsEqual("PCI_SUBSYS_ID".utf8) {
                sub = pair(value)
            } else if key.elementsEqual("DRIVER".utf8), !value.isEmpty {
                driver = String(decoding: value, as: UTF8.self)
            }
        }
        guard let id, let cls else { return nil }
        (vendor, device, classCode, self.driver) = (id.0, id.1, cls, driver)
        subsystem = sub.map { (vendor: $0.0, device: $0.1) }
    }

    public static func == (a: PCIUevent, b: PCIUevent) -> Bool {
        a.vendor == b.vendor && a.device == b.device && a.classCode == b.classCode && a.driver == b.driver
            && a.subsystem?.vendor == b.subsystem?.vendor && a.subsystem?.device == b.subsystem?.device
    }
}
