/// A device on the Hyper-V VMBus.
public struct VMBusDevice: Sendable, Equatable {
    public var id: String
    public var classID: String?
    public var driver: String?
}
