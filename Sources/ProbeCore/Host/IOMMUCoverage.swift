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
