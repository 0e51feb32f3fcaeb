/// One PCI function, as sysfs and its config space (through libpci) describe it.
public struct PCIDevice: Sendable, Identifiable {
    public var id: PCIAddress { address }
    public var address: PCIAddress
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
    /// PCI Express device/port type from the Express capability (0 endpoint, 4 root port, …).
    public var expressType: UInt8?
    public var capabilities: [PCICapability]
    /// False when only the first 64 bytes of config space were readable (not root).
    public var configComplete: Bool
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
    public var virtio: [VirtioDevice]

    public var baseClass: UInt8 { UInt8((classCode >> 16) & 0xff) }
    public var subClass: UInt8 { UInt8((classCode >> 8) & 0xff) }
    public var isBridge: Bool { baseClass == 0x06 && subClass == 0x04 || headerType == 1 || headerType == 2 }
    public var isVF: Bool { physfn != nil }
    public var displayName: String {
        switch (vendorName, deviceName) {
        case let (v?, d?): "\(v) \(d)"
        case let (v?, nil): "\(v) device \(hex(deviceID, 4))"
        default: "[\(hex(vendorID, 4)):\(hex(deviceID, 4))]"
        }
    }

    public init(address: PCIAddress, vendorID: UInt16, deviceID: UInt16, classCode: UInt32) {
        self.address = address
        self.vendorID = vendorID
        self.deviceID = deviceID
        self.classCode = classCode
        capabilities = []
        configComplete = false
        virtio = []
    }
}

public struct PCICapability: Sendable, Equatable {
    public enum Space: String, Sendable { case normal, extended }
    public var id: UInt16
    public var space: Space
    public var offset: UInt32

    public static let express: UInt16 = 0x10
    public static let msi: UInt16 = 0x05
    public static let msix: UInt16 = 0x11
    public static let acsExtended: UInt16 = 0x0d
    public static let sriovExtended: UInt16 = 0x10
}

public struct SRIOV: Sendable, Equatable {
    public var totalVFs: Int
    public var numVFs: Int
    public var vfs: [PCIAddress]
}

public struct MdevType: Sendable, Equatable {
    public var id: String
    public var name: String?
    public var deviceAPI: String?
    public var availableInstances: Int?
    public var instances: [String]
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
