/// VFIO and iommufd character devices.
public struct DevNodes: Sendable {
    public var container: Reading<DeviceNode>  // /dev/vfio/vfio
    public var iommufd: Reading<DeviceNode>  // /dev/iommu
    /// /dev/vfio/N and /dev/vfio/noiommu-N, by node name.
    public var groups: [String: DeviceNode]
    /// /dev/vfio/devices/vfioN, by name.
    public var cdevs: [String: DeviceNode]
    public var groupsReadable: Bool
}
