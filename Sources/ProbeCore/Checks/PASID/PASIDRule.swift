/// The kernel's PASID rules (6.12): when an IOMMU unit runs in scalable mode and offers PASID
/// (`sm_supported`, `pasid_supported`, drivers/iommu/intel/iommu.h; `amd_iommu_pasid_supported`,
/// drivers/iommu/amd/init.c), and when `pci_enable_pasid` (drivers/pci/ats.c) can turn a
/// function's PASID capability on. Information for SVA and PASID workloads: none of it changes
/// whether a device can be given to VFIO.
public enum PASIDRule {
    /// What `intel_iommu_sm` is on this kernel, and where that comes from.
    public struct ScalableModeSetting: Sendable, Equatable {
        /// nil: neither the command line nor a readable kernel config says.
        public var on: Bool?
        public var source: String
    }

    /// `intel_iommu_sm`: IS_ENABLED(CONFIG_INTEL_IOMMU_SCALABLE_MODE_DEFAULT_ON), then
    /// `intel_iommu=sm_on` / `sm_off` as `intel_iommu_setup` meets them (the last one wins).
    public static func scalableModeSetting(_ host: Host) -> ScalableModeSetting {
        if let o = host.cmdline?.lastOption("intel_iommu", among: ["sm_on", "sm_off"]) {
            return ScalableModeSetting(on: o == "sm_on", source: "intel_iommu=\(o)")
        }
        let symbol = "CONFIG_INTEL_IOMMU_SCALABLE_MODE_DEFAULT_ON"
        if let config = host.kernel.config.value {
            // Absent from a config that has CONFIG_INTEL_IOMMU: not set. Without VT-d in it the
            // question does not arise; say what the config says.
            let on = config.isEnabled(symbol) ?? false
            return ScalableModeSetting(on: on, source: "\(symbol)=\(on ? "y" : "n")")
        }
        return ScalableModeSetting(on: nil, source: "no intel_iommu=sm_on/sm_off, and the kernel config could not be read")
    }

    /// One unit's PASID state: the hardware's, and what the kernel makes of it.
    public struct UnitState: Sendable, Equatable {
        public var unit: IOMMUUnit
        /// VT-d ecap.SMTS; AMD-Vi GT, PPR and EPHSUP (`amd_iommu_gt_ppr_supported`).
        public var capable: Bool
        /// VT-d: `sm_supported` (capable, and `intel_iommu_sm`); nil when `intel_iommu_sm` is
        /// not known and no device behind the unit shows it. nil for AMD-Vi.
        public var scalableMode: Bool?
        /// Whether the kernel gives devices behind it PASIDs: VT-d `pasid_supported`, AMD-Vi
        /// `amd_iommu_pasid_supported` (nil when it turns on what the probe cannot see: SNP).
        public var pasid: Bool?
        /// The hardware's PASID width (VT-d PSS + 1 with ecap.PASID; AMD-Vi PASMAX + 1 with GT).
        public var pasidBits: Int?
        /// VT-d ecap.PRS; AMD-Vi PPR.
        public var prs: Bool
        /// VT-d `nested_supported`: ecap.NEST in scalable mode (nil when that is not known); nil
        /// for AMD-Vi.
        public var nested: Bool?
        /// Where the kernel's answer comes from.
        public var why: String
    }

    /// nil for units that are neither VT-d nor AMD-Vi.
    public static func state(of u: IOMMUUnit, host: Host) -> UnitState? {
        if let v = u.vtdScalableMode {
            let setting = scalableModeSetting(host)
            var sm: Bool? = setting.on.map { $0 && v.smts }
            var why = setting.source
            if !v.smts {
                sm = false
                why = "ecap.SMTS is clear"
            } else if sm == nil, v.pasid, members(of: u, host: host).contains(where: { $0.pasid?.enabled == true }) {
                // intel_iommu_probe_device enables PASID on every capable function only when
                // pasid_supported: an enabled one shows scalable mode is on.
                sm = true
                why = "a device behind it has PASID enabled, which intel_iommu_probe_device does only in scalable mode"
            }
            return UnitState(
                unit: u, capable: v.smts, scalableMode: sm, pasid: sm.map { $0 && v.pasid }, pasidBits: v.pasid ? v.pasidBits : nil,
                prs: v.prs, nested: sm.map { $0 && v.nest }, why: why)
        }
        if let a = u.amdGuestTranslation {
            let pasid: Bool? = !a.gtPPR ? false : a.snp ? nil : true
            let lacking = [a.gt ? nil : "GT", a.ppr ? nil : "PPR", a.ephsup ? nil : "EPHSUP"].compactMap { $0 }
            let why =
                !a.gtPPR
                ? "amd_iommu_gt_ppr_supported needs GT, PPR and EPHSUP; its EFR lacks \(lacking.joined(separator: " and "))"
                : a.snp
                    ? "amd_iommu_pasid_supported refuses PASID when SNP is enabled, which this IOMMU supports (EFR.SNPSup) and the probe cannot see"
                    : "amd_iommu_gt_ppr_supported: GT, PPR and EPHSUP"
            return UnitState(
                unit: u, capable: a.gtPPR, scalableMode: nil, pasid: pasid, pasidBits: a.gt ? a.pasidBits : nil, prs: a.ppr, nested: nil,
                why: why)
        }
        return nil
    }

    /// The functions a unit translates for, among those read.
    static func members(of u: IOMMUUnit, host: Host) -> [PCIDevice] {
        (u.members ?? []).compactMap { host.device($0) }
    }

    /// The unit a function sits behind: the one whose `devices` lists it, or the only VT-d or
    /// AMD-Vi unit when the listings were not read.
    public static func unit(of d: PCIDevice, host: Host) -> IOMMUUnit? {
        let units = host.units
        if let u = units.first(where: { $0.members?.contains(d.address) == true }) { return u }
        let translating = units.filter { $0.kind == .intel || $0.kind == .amd }
        return translating.count == 1 && translating[0].members == nil ? translating[0] : nil
    }

    /// `pdev->eetlp_prefix_path` (`pci_configure_eetlp_prefix`): End-End TLP Prefix Supported on
    /// the function and, unless it is a root port or an RC integrated endpoint, on every bridge up
    /// to the root port. nil when a function on the way could not be read far enough.
    public static func eetlpPrefixPath(_ d: PCIDevice, host: Host) -> Bool? {
        var at = d
        var parents = d.parents[...]
        while true {
            guard let ee = at.eetlpPrefix else { return at.expressType == nil && at.configComplete ? false : nil }
            if !ee { return false }
            if at.expressType == ACSRule.rootPort || at.expressType == ACSRule.rcEndpoint { return true }
            // pci_upstream_bridge: none on the root bus.
            guard let p = parents.first else { return false }
            parents = parents.dropFirst()
            guard let bridge = host.device(p) else { return nil }
            at = bridge
        }
    }

    /// `quirk_huawei_pcie_sva` sets `pasid_no_tlp`: these HiSilicon functions (revisions 0x21 and
    /// 0x30) use PASID without TLP prefixes.
    static func pasidNoTLP(_ d: PCIDevice) -> Bool {
        d.vendorID == 0x19e5 && [0xa250, 0xa251, 0xa255, 0xa256, 0xa258, 0xa259].contains(d.deviceID)
            && (d.revision == 0x21 || d.revision == 0x30)
    }

    /// What stands between a function and PASID.
    public struct DeviceState: Sendable, Equatable {
        /// Its PASID capability (a VF's is its PF's: VFs must not implement one).
        public var pasid: DevicePASID
        /// For a VF: the PF whose PASID configuration it shares.
        public var sharedFrom: PCIAddress?
        public var unit: UnitState?
        /// `pdev->eetlp_prefix_path || pdev->pasid_no_tlp`; nil when not known.
        public var tlpPrefix: Bool?
        /// The functions on its path to the root bus where ACS RR and UF are not both in effect
        /// (`pci_acs_path_enabled(pdev, NULL, PCI_ACS_RR | PCI_ACS_UF)`), with their state.
        public var acsMissing: [(PCIAddress, ACSState)]
        /// Functions on that path that could not be judged.
        public var acsUnknown: [PCIAddress]
        /// Why `pci_enable_pasid` (or the IOMMU driver before it) would not enable PASID.
        public var obstacles: [String]
        /// Whether the IOMMU driver can attach PASID domains to it: PASID enabled, or enable-able.
        /// nil when not known.
        public var attachable: Bool?

        public static func == (a: Self, b: Self) -> Bool {
            a.pasid == b.pasid && a.sharedFrom == b.sharedFrom && a.unit == b.unit && a.tlpPrefix == b.tlpPrefix
                && a.acsMissing.map(\.0) == b.acsMissing.map(\.0) && a.acsUnknown == b.acsUnknown && a.obstacles == b.obstacles
                && a.attachable == b.attachable
        }
    }

    /// `pci_enable_pasid` (drivers/pci/ats.c) for `d`, with its IOMMU's side: nil for a function
    /// without a PASID capability (a VF: its PF's).
    public static func device(_ d: PCIDevice, host: Host) -> DeviceState? {
        var shared: PCIAddress?
        var subject = d
        if d.pasid == nil, let pf = d.physfn, let p = host.device(pf), p.pasid != nil {
            shared = pf
            subject = p
        }
        guard let pasid = subject.pasid else { return nil }
        let unit = (unit(of: d, host: host) ?? unit(of: subject, host: host)).flatMap { state(of: $0, host: host) }
        var obstacles: [String] = []
        var unknown = false
        switch unit?.pasid {
        case false?:
            let u = unit!
            let name = u.unit.name
            if u.unit.kind != .intel {
                obstacles.append("its IOMMU \(name) has no PASID support: \(u.why)")
            } else if !u.capable {
                obstacles.append("its IOMMU \(name) has no scalable mode (ecap.SMTS 0): no PASID")
            } else if u.scalableMode == true {
                obstacles.append("its IOMMU \(name) is in scalable mode without ecap.PASID")
            } else {
                obstacles.append("its IOMMU \(name) runs in legacy mode (\(u.why)): pasid_supported is false")
            }
        case nil:
            unknown = true
        case true?: break
        }
        // pci_enable_pasid on a VF: 0 when the PF has it enabled, -EINVAL otherwise.
        var tlp: Bool? = true
        var missing: [(PCIAddress, ACSState)] = []
        var acsUnknown: [PCIAddress] = []
        if shared == nil {
            tlp = pasidNoTLP(d) ? true : eetlpPrefixPath(d, host: host)
            if tlp == false {
                obstacles.append(
                    "End-End TLP Prefix is not supported on its whole path to the root port (eetlp_prefix_path, PCI_EXP_DEVCAP2_EE_PREFIX)")
            }
            // pci_acs_path_enabled(pdev, NULL, PCI_ACS_RR | PCI_ACS_UF): the function, then each
            // bridge above it.
            for a in [d.address] + d.parents {
                let s = host.device(a).map { ACSRule.state(of: $0, host: host, flags: [.rr, .uf]) } ?? .unknown("it was not read")
                switch s.isEnabled {
                case false?: missing.append((a, s))
                case nil: acsUnknown.append(a)
                case true?: break
                }
            }
            if !missing.isEmpty {
                obstacles.append(
                    "ACS Request Redirect and Upstream Forwarding are not in effect at "
                        + missing.map { "\($0.0)" }.joined(separator: ", ") + " (pci_acs_path_enabled with PCI_ACS_RR | PCI_ACS_UF)")
            }
        } else if !pasid.enabled {
            obstacles.append("it is a VF and its PF \(shared!) does not have PASID enabled")
        }
        let attachable: Bool? =
            pasid.enabled && unit?.pasid == true
            ? true
            : !obstacles.isEmpty ? false : (unknown || tlp == nil || !acsUnknown.isEmpty) ? nil : true
        return DeviceState(
            pasid: pasid, sharedFrom: shared, unit: unit, tlpPrefix: tlp, acsMissing: missing, acsUnknown: acsUnknown,
            obstacles: obstacles, attachable: attachable)
    }

    /// Whether VFIO's uapi lets userspace attach a PASID of a device cdev
    /// (VFIO_DEVICE_ATTACH_IOMMUFD_PT with VFIO_DEVICE_ATTACH_PASID): not in 6.12's uapi, where
    /// its flags must be 0; the flag came with v6.15 (commit ad744ed5dd8b).
    public static let vfioPASIDAttachSince = KernelVersion(6, 15)
    public static func vfioCanAttachPASID(_ host: Host) -> Bool? {
        host.kernel.version.map { $0 >= vfioPASIDAttachSince }
    }

    /// "20-bit PASIDs, exec, privileged; PRI (off), ATS (on)".
    static func describe(_ p: DevicePASID) -> String {
        var s = "\(p.maxPASIDBits)-bit PASIDs"
        let modes = [p.exec ? "exec" : nil, p.privileged ? "privileged" : nil].compactMap { $0 }
        if !modes.isEmpty { s += " (" + modes.joined(separator: ", ") + ")" }
        if let pri = p.pri { s += ", PRI \(pri.enabled ? "on" : "off")" } else { s += ", no PRI" }
        if p.ats { s += ", ATS \(p.atsEnabled ? "on" : "off")" } else { s += ", no ATS" }
        return s
    }
}

extension PASIDRule {
    /// Whether an mdev parent's instances can live behind PASIDs: only a PCI function with PASID
    /// enabled behind an IOMMU that gives PASIDs could tag each instance's DMA with its own. The
    /// parent driver decides, and sysfs does not say, so the best answer is nil ("maybe").
    public static func mdevBehindPASID(_ p: MdevParent, host: Host) -> (behind: Bool?, why: String) {
        guard let a = PCIAddress(p.name) else {
            return (false, "its parent \(p.name) is not a PCI function: the parent driver emulates its DMA")
        }
        guard let d = host.device(a) else { return (nil, "its parent \(a) was not read") }
        guard d.configComplete else { return (nil, "its parent's extended config space could not be read") }
        guard let s = device(d, host: host) else {
            return (false, "its parent \(a) has no PASID capability: every instance's DMA carries the parent's requester ID")
        }
        if !s.pasid.enabled {
            return (false, "its parent \(a) has PASID off: every instance's DMA carries the parent's requester ID")
        }
        guard s.unit?.pasid == true else {
            return (nil, "its parent \(a) has PASID on, but whether its IOMMU gives PASIDs is not known")
        }
        return (
            nil,
            "its parent \(a) has PASID on behind \(s.unit!.unit.name) in scalable mode: its driver (\(d.driver ?? "none")) may give each instance a PASID, which sysfs does not show"
        )
    }
}
