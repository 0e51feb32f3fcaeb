public enum CPUVendor: String, Sendable, Codable {
    case intel, amd, arm, other
}

/// What the machine is: CPU vendor and, in a guest, the hypervisor.
public struct Platform: Sendable {
    public var cpuVendor: Reading<CPUVendor>
    /// "hypervisor" flag in /proc/cpuinfo (x86).
    public var hypervisorFlag: Bool?
    /// DMI system vendor and product, e.g. "QEMU" / "Standard PC (Q35 + ICH9, 2009)".
    public var systemVendor: String?
    public var productName: String?
    /// /sys/hypervisor/type ("xen").
    public var hypervisorType: String?
    /// The hypervisor, when the evidence names one.
    public var hypervisor: Hypervisor?
}

public enum Hypervisor: String, Sendable, Codable {
    case kvm = "KVM/QEMU"
    case hyperV = "Microsoft Hyper-V"
    case vmware = "VMware"
    case xen = "Xen"
    case virtualBox = "VirtualBox"
    case other = "unidentified hypervisor"
}

/// ACPI tables that announce an IOMMU. Presence comes from the directory listing, which
/// anyone may read; the tables' contents are root-only.
public struct FirmwareTables: Sendable {
    public static let iommuSignatures = ["DMAR", "IVRS", "IORT", "VIOT"]
    /// Signatures found in /sys/firmware/acpi/tables (DMAR, IVRS, IORT, VIOT).
    public var present: Reading<[String]>
    /// Raw bytes of each present IOMMU table, when readable.
    public var contents: [String: Reading<[UInt8]>]
}

/// VFIO and iommufd character devices.
public struct DevNodes: Sendable {
    public var container: Reading<DeviceNode>      // /dev/vfio/vfio
    public var iommufd: Reading<DeviceNode>        // /dev/iommu
    /// /dev/vfio/N and /dev/vfio/noiommu-N, by node name.
    public var groups: [String: DeviceNode]
    /// /dev/vfio/devices/vfioN, by name.
    public var cdevs: [String: DeviceNode]
    public var groupsReadable: Bool
}

/// A device on the Hyper-V VMBus.
public struct VMBusDevice: Sendable, Equatable {
    public var id: String
    public var classID: String?
    public var driver: String?
}

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
