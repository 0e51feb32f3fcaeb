/// PASID (Process Address Space ID) facts, decoded from what is already read: a function's
/// PASID, PRI and ATS extended capabilities (include/uapi/linux/pci_regs.h), and an IOMMU unit's
/// VT-d extended capability register (drivers/iommu/intel/iommu.h ecap_*) or AMD-Vi extended
/// feature register (drivers/iommu/amd/amd_iommu_types.h FEATURE_*).

/// A function's PASID capability (PCI_EXT_CAP_ID_PASID, 0x1b) with PRI and ATS beside it.
public struct DevicePASID: Sendable, Equatable {
    /// Offset of the PASID capability in config space.
    public var offset: UInt32
    /// PCI_PASID_CAP (+4) and PCI_PASID_CTRL (+6).
    public var capability: UInt16
    public var control: UInt16
    /// PCI_PASID_CAP_WIDTH (bits 12:8): the function's PASIDs are this many bits wide
    /// (`pci_max_pasids` is 1 << width).
    public var maxPASIDBits: Int { Int((capability >> 8) & 0x1f) }
    /// PCI_PASID_CAP_EXEC, PCI_PASID_CAP_PRIV.
    public var exec: Bool { capability & 0x0002 != 0 }
    public var privileged: Bool { capability & 0x0004 != 0 }
    /// PCI_PASID_CTRL_ENABLE: `pci_enable_pasid` has run (or something else set it).
    public var enabled: Bool { control & 0x0001 != 0 }
    public var execEnabled: Bool { control & 0x0002 != 0 }
    public var privilegedEnabled: Bool { control & 0x0004 != 0 }
    /// The Page Request Interface capability (0x13 in the extended space), when there is one:
    /// its control (+4, PCI_PRI_CTRL) and status (+6, PCI_PRI_STATUS) words.
    public var pri: PRI?
    /// Whether the ATS capability is there, and its Enable bit (PCI_ATS_CTRL_ENABLE).
    public var ats: Bool
    public var atsEnabled: Bool

    public struct PRI: Sendable, Equatable {
        public var offset: UInt32
        public var control: UInt16
        public var status: UInt16
        /// PCI_PRI_CTRL_ENABLE (`pci_enable_pri`).
        public var enabled: Bool { control & 0x0001 != 0 }
        /// PCI_PRI_STATUS_PASID: page request responses must carry the PASID
        /// (`pci_prg_resp_pasid_required`).
        public var responsePASIDRequired: Bool { status & 0x8000 != 0 }
    }
}

extension PCIDevice {
    /// Its PASID capability decoded, with PRI and ATS; nil without one (or with one cut short).
    public var pasid: DevicePASID? {
        let caps = self.capabilities
        guard let p = caps.first(where: { $0.space == .extended && $0.id == PCICapability.pasidExtended }),
            let cap = p.word(at: 4), let ctrl = p.word(at: 6)
        else { return nil }
        let pri = caps.first(where: { $0.space == .extended && $0.id == PCICapability.priExtended }).flatMap { c in
            c.word(at: 4).map { DevicePASID.PRI(offset: c.offset, control: $0, status: c.word(at: 6) ?? 0) }
        }
        let ats = caps.first(where: { $0.space == .extended && $0.id == PCICapability.atsExtended })
        return DevicePASID(
            offset: p.offset, capability: cap, control: ctrl, pri: pri, ats: ats != nil,
            atsEnabled: (ats?.word(at: 6) ?? 0) & 0x8000 != 0)
    }
}

/// What a VT-d unit's ecap says about scalable mode (drivers/iommu/intel/iommu.h).
public struct VTdScalableMode: Sendable, Equatable {
    public var ecap: UInt64
    func bit(_ n: Int) -> Bool { (ecap >> UInt64(n)) & 1 != 0 }
    /// ecap_smts (bit 43): scalable-mode translation.
    public var smts: Bool { bit(43) }
    /// ecap_pasid (bit 40).
    public var pasid: Bool { bit(40) }
    /// ecap_pss (bits 39:35): PASID width minus one (`max_pasids = 2 << ecap_pss`).
    public var pss: Int { Int((ecap >> 35) & 0x1f) }
    public var pasidBits: Int { pss + 1 }
    /// ecap_prs (bit 29): page requests; ecap_pds (bit 42): page-request drain. The kernel
    /// gives a device PRI only with both (`intel_iommu_probe_device`).
    public var prs: Bool { bit(29) }
    public var pds: Bool { bit(42) }
    /// ecap_nest (bit 26): nested translation.
    public var nest: Bool { bit(26) }
    /// ecap_smpwc (bit 48): page-walk coherency in scalable mode (SVA needs it:
    /// `intel_svm_check`).
    public var smpwc: Bool { bit(48) }
    /// ecap_flts (bit 47), ecap_slts (bit 46): first- and second-level translation.
    public var flts: Bool { bit(47) }
    public var slts: Bool { bit(46) }
}

/// What an AMD-Vi unit's EFR says about guest translation (drivers/iommu/amd/amd_iommu_types.h).
public struct AMDGuestTranslation: Sendable, Equatable {
    public var efr: UInt64
    func bit(_ n: Int) -> Bool { (efr >> UInt64(n)) & 1 != 0 }
    /// FEATURE_GT (bit 4): guest translation (the v2, PASID-tagged page tables).
    public var gt: Bool { bit(4) }
    /// FEATURE_PPR (bit 1): peripheral page requests.
    public var ppr: Bool { bit(1) }
    /// FEATURE_EPHSUP (bit 50): the third feature `amd_iommu_gt_ppr_supported` needs.
    public var ephsup: Bool { bit(50) }
    /// FEATURE_PASMAX (bits 36:32): PASID width minus one (`max_pasids = (1 << (pasmax + 1)) - 1`).
    public var pasmax: Int { Int((efr >> 32) & 0x1f) }
    public var pasidBits: Int { pasmax + 1 }
    /// FEATURE_SNP (bit 63): with SNP enabled the kernel refuses PASID
    /// (`amd_iommu_pasid_supported`).
    public var snp: Bool { bit(63) }
    /// `amd_iommu_gt_ppr_supported`: GT, PPR and EPHSUP.
    public var gtPPR: Bool { gt && ppr && ephsup }
}

extension IOMMUUnit {
    public var vtdScalableMode: VTdScalableMode? { kind == .intel ? intelEcap.map(VTdScalableMode.init) : nil }
    public var amdGuestTranslation: AMDGuestTranslation? { kind == .amd ? amdFeatures.map(AMDGuestTranslation.init) : nil }
}
