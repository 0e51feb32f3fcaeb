/// An mdev (mediated) device: /sys/bus/mdev/devices/UUID.
public struct MdevDevice: Sendable, Equatable {
    public var uuid: String
    public var parent: String?
    public var type: String?
    public var iommuGroup: Int?
    public var driver: String?
}

/// A device that offers mediated devices: /sys/class/mdev_bus/NAME.
public struct MdevParent: Sendable, Equatable {
    public var name: String
    public var types: [MdevType]
}

/// A kind of mdev a parent offers: mdev_supported_types/ID.
public struct MdevType: Sendable, Equatable {
    public var id: String
    public var name: String?
    public var deviceAPI: String?
    public var availableInstances: Int?
    public var instances: [String]
}
