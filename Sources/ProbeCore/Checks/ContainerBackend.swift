/// The implementation behind /dev/vfio/vfio.
public enum ContainerBackend: String, Sendable {
    /// VFIO's legacy container with vfio_iommu_type1.
    case type1 = "vfio"
    /// iommufd's emulation (CONFIG_IOMMUFD_VFIO_CONTAINER).
    case iommufd
}
