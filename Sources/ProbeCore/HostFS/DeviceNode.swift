/// A character device node as this process sees it.
public struct DeviceNode: Sendable, Equatable, Codable {
    public var path: String
    public var major: UInt32
    public var minor: UInt32
    public var mode: UInt32
    public var uid: UInt32
    public var gid: UInt32
    public var readable: Bool
    public var writable: Bool
    public var usable: Bool { readable && writable }
}
