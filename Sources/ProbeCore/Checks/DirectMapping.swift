/// Whether this kernel refuses a VFIO domain to a device with a firmware direct mapping, and the
/// rule it follows: every IOMMU since 6.6 (`require_direct` in `__iommu_device_set_domain`,
/// a48ce36e2786, -EINVAL); before, only VT-d (`device_is_rmrr_locked`, -EPERM), while AMD IVMD unity
/// maps and Arm IORT RMRs were attached and only kept out of the IOVA space. An unknown release
/// is taken to refuse: a false "no" costs less than a false "yes".
public struct DirectMappingRule: Sendable, Equatable {
    public var refuses: Bool
    public var rule: String
}

extension Host {
    public var directMappingRule: DirectMappingRule {
        guard let v = kernel.version else {
            return DirectMappingRule(
                refuses: true, rule: "the kernel release is unknown; since 6.6 every IOMMU refuses it (require_direct)")
        }
        if v >= KernelVersion(6, 6) {
            return DirectMappingRule(
                refuses: true, rule: "since 6.6 the kernel refuses a VFIO domain to a device with a direct region (require_direct)")
        }
        if iommuVendor == .intel {
            return DirectMappingRule(refuses: true, rule: "VT-d refuses a VFIO domain to an RMRR device (device_is_rmrr_locked)")
        }
        return DirectMappingRule(
            refuses: false,
            rule: "before 6.6 only VT-d refused it; this IOMMU attaches the device and keeps the region out of the IOVA space")
    }

    /// The firmware direct mappings of a device's group (sysfs `direct` regions) or named for it by
    /// the tables (RMRR, IVMD): what the kernel may refuse it a domain for.
    public func directMappings(of d: PCIDevice) -> [String] {
        let regions =
            group(of: d)?.reservedRegions.value?.filter { $0.type == "direct" }.map { "0x\(hex($0.start, 1))-0x\(hex($0.end, 1)) direct" }
            ?? []
        return regions + firmware.identityMaps.filter { $0.covers(d) }.map(\.description)
    }
}
