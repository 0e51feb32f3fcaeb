public import ACPI

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
    /// Vendor and device of 0000:00:00.0, which names some VMMs' PCI host bridge.
    public var hostBridge: (vendor: UInt64?, device: UInt64?) = (nil, nil)
}

public enum Hypervisor: String, Sendable, Codable {
    case kvm = "KVM/QEMU"
    case cloudHypervisor = "Cloud Hypervisor"
    /// KVM with Cloud Hypervisor's PCI host bridge (8086:0d57) and no DMI: Cloud Hypervisor or
    /// Firecracker, which took its PCI code.
    case cloudHypervisorOrFirecracker = "KVM (Cloud Hypervisor or Firecracker)"
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
    /// Each readable table decoded, or why it could not be.
    public var decoded: [String: Result<DecodedTable, ACPIDecodeError>] = [:]
    /// Memory the firmware requires mapped 1:1 (DMAR RMRR, IVRS IVMD), with the PCI functions it
    /// names resolved through the bridges' secondary bus numbers.
    public var identityMaps: [IdentityMap] = []

    /// Which devices the firmware puts behind an IOMMU (DRHD and IVHD scopes); nil when no
    /// DMAR or IVRS could be read.
    public var coverage: IOMMUCoverage?

    public var dmar: DMAR? { if case .success(let t)? = decoded["DMAR"], case .dmar(let d) = t.body { d } else { nil } }
    public var ivrs: IVRS? { if case .success(let t)? = decoded["IVRS"], case .ivrs(let i) = t.body { i } else { nil } }
    public var iort: IORT? { if case .success(let t)? = decoded["IORT"], case .iort(let i) = t.body { i } else { nil } }
}

/// The devices DRHD (VT-d) or IVHD (AMD-Vi) structures claim.
public struct IOMMUCoverage: Sendable, Equatable {
    /// Segments a unit covers whole (DRHD INCLUDE_PCI_ALL, IVHD "all" entries).
    public var wholeSegments: Set<UInt32> = []
    /// Functions named as endpoints.
    public var endpoints: Set<PCIAddress> = []
    /// Bridges whose whole sub-hierarchy is covered.
    public var bridges: Set<PCIAddress> = []
    /// Requester-id ranges per segment (IVHD select, range, alias and extended entries).
    public var ranges: [UInt32: [ClosedRange<UInt16>]] = [:]
    public var source: String

    /// Whether a DRHD or IVHD covers the function. A VF is covered as its PF is: the kernel looks
    /// a VF's unit up through pci_physfn (device_lookup_iommu / dmar_find_matched_drhd_unit).
    public func covers(_ d: PCIDevice, physfn pf: PCIDevice? = nil) -> Bool {
        // AMD-Vi looks a VF up by its own device id (rlookup_amd_iommu): the PF stands in for VT-d only.
        if let pf, d.isVF, source == "DMAR" { return covers(pf) }
        let a = d.address
        if wholeSegments.contains(a.domain) || endpoints.contains(a) || bridges.contains(a) { return true }
        if d.parents.contains(where: bridges.contains) { return true }
        let rid = UInt16(a.bus) << 8 | UInt16(a.device) << 3 | UInt16(a.function)
        return ranges[a.domain]?.contains { $0.contains(rid) } == true
    }
}

/// A firmware-mandated identity mapping and the devices it applies to.
public struct IdentityMap: Sendable, Equatable {
    public enum Source: String, Sendable { case rmrr = "RMRR", ivmd = "IVMD" }
    public var source: Source
    public var index: Int
    public var base: UInt64
    /// Inclusive.
    public var end: UInt64
    /// Applies to every device (IVMD type 20h).
    public var allDevices: Bool
    /// Functions named, resolved to addresses.
    public var devices: [PCIAddress]
    /// Bridges named (RMRR scope type 2): every function below them is covered
    /// (is_downstream_to_pci_bridge).
    public var bridges: [PCIAddress] = []
    /// The PCI segment of `ranges` (IVMD's pci_seg).
    public var segment: UInt32 = 0
    /// Requester-id ranges (IVMD type 22h), segment 0.
    public var ranges: [ClosedRange<UInt16>]
    /// Scope paths that did not resolve (a bridge on the path was not found).
    public var unresolved: [String]

    public func covers(_ d: PCIDevice) -> Bool {
        let a = d.address
        // An IVMD for all devices covers its segment (init_unity_map_range: 0..last_bdf of pci_seg).
        if allDevices && (source == .rmrr || a.domain == segment) { return true }
        if devices.contains(a) || bridges.contains(a) || d.parents.contains(where: bridges.contains) { return true }
        let rid = UInt16(a.bus) << 8 | UInt16(a.device) << 3 | UInt16(a.function)
        return a.domain == segment && ranges.contains { $0.contains(rid) }
    }

    public var description: String { "\(source.rawValue) \(index) 0x\(hex(base, 1))-0x\(hex(end, 1))" }
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
