/// Per IOMMU unit: VT-d scalable mode, or AMD-Vi guest translation, and the PASIDs they give.
public struct ScalableModeCheck: Check {
    public static let descriptor = CheckDescriptor(
        id: "iommu.scalable-mode",
        title: "IOMMU scalable mode and PASID support",
        category: .iommu,
        rationale:
            "PASIDs (SVA, SIOV, nested and per-process address spaces) need an IOMMU that tags DMA with them. VT-d does so only in scalable mode: the hardware's ecap.SMTS (bit 43) and the kernel's intel_iommu_sm (CONFIG_INTEL_IOMMU_SCALABLE_MODE_DEFAULT_ON, intel_iommu=sm_on/sm_off) make sm_supported, and with ecap.PASID (bit 40) pasid_supported, with PSS + 1 PASID bits (bits 39:35), PRS (bit 29) for page requests and NEST (bit 26) for nested translation (drivers/iommu/intel/iommu.h). AMD-Vi needs guest translation, GT and PPR with EPHSUP (amd_iommu_gt_ppr_supported), with PASMAX + 1 PASID bits, and refuses PASID with SNP enabled (amd_iommu_pasid_supported). Ordinary VFIO assignment needs none of it.",
        remedy:
            "For PASID on VT-d, boot with intel_iommu=sm_on (the kernel uses scalable mode only where ecap.SMTS is set); under QEMU, -device intel-iommu,x-scalable-mode=on.",
        looksAt: [
            "/sys/class/iommu/dmar*/intel-iommu/ecap", "/sys/class/iommu/ivhd*/amd-iommu/features",
            "/proc/cmdline (intel_iommu=sm_on, sm_off)",
            "kernel config (CONFIG_INTEL_IOMMU_SCALABLE_MODE_DEFAULT_ON)",
        ],
        examples: [.info("pasid-sm"), .info("amd-host-6.12"), .info("intel-vfio-ready"), .skip("arm-its")], decides: false)

    public static func evaluate(_ context: CheckContext) -> [Finding] {
        let host = context.host
        let units = host.units
        if units.isEmpty { return [] }
        let states = units.compactMap { PASIDRule.state(of: $0, host: host) }
        if states.isEmpty {
            let kinds = Set(units.map(\.kind.rawValue)).sorted().joined(separator: ", ")
            let arm = units.contains { $0.kind == .arm }
            var f = skipped(
                "PASID support is read from VT-d ecap and AMD-Vi EFR; this host's IOMMU is \(kinds)"
                    + (arm ? " (an SMMUv3's SSID width is in SMMU_IDR1, which sysfs does not show)" : "")
                    + rootComplexes(host))
            f.notApplicable = "VT-d and AMD-Vi only"
            return [f]
        }
        // Units that say the same thing share one finding.
        var order: [String] = []
        var byText: [String: (PASIDRule.UnitState, [PASIDRule.UnitState])] = [:]
        for s in states {
            let text = summary(s)
            if byText[text] == nil {
                order.append(text)
                byText[text] = (s, [])
            }
            byText[text]!.1.append(s)
        }
        return order.map { text in
            let (s, all) = byText[text]!
            let names = all.map(\.unit.name).joined(separator: ", ")
            let evidence = all.map { u in
                u.unit.kind == .intel
                    ? Evidence("/sys/class/iommu/\(u.unit.name)/intel-iommu/ecap", "0x\(hex(u.unit.intelEcap ?? 0, 1))")
                    : Evidence("/sys/class/iommu/\(u.unit.name)/amd-iommu/features", "EFR 0x\(hex(u.unit.amdFeatures ?? 0, 1))")
            }
            let offerSMOn = s.unit.kind == .intel && s.capable && s.scalableMode != true
            var detail = s.unit.kind == .intel && !s.capable ? nil : "kernel: \(s.why)"
            if let v = s.unit.vtdScalableMode, v.smts {
                detail! += "\n" + sva(v, cap: s.unit.intelCap ?? 0)
            }
            return finding(
                .info, "\(names): \(text)", detail: detail,
                remedy: offerSMOn ? descriptor.remedy : nil, evidence: evidence)
        }
    }

    /// SVA on VT-d binds the CPU's page tables as first-level tables: `intel_svm_check` needs
    /// pasid_supported and ecap.SMPWC, and refuses without cap.FL1GP (bit 56) on a CPU with 1 GiB
    /// pages and without cap.FL5LP (bit 60) with LA57; `intel_pasid_setup_first_level` needs
    /// ecap.FLTS. The CPU's flags are not read: the line says what the unit has.
    static func sva(_ v: VTdScalableMode, cap: UInt64) -> String {
        func yn(_ b: Bool) -> String { b ? "yes" : "no" }
        let fl1gp = cap >> 56 & 1 != 0, fl5lp = cap >> 60 & 1 != 0
        let ready = v.pasid && v.smpwc && v.flts
        let caveats = [fl1gp ? nil : "the CPU has no 1 GiB pages (pdpe1gb)", fl5lp ? nil : "the CPU does not use 5-level paging (la57)"]
            .compactMap { $0 }
        let verdict =
            !ready
            ? "no SVA (intel_svm_check and first-level PASID entries need PASID, SMPWC and FLTS)"
            : caveats.isEmpty
                ? "SVA can bind process page tables (intel_svm_check)"
                : "SVA only if \(caveats.joined(separator: " and ")) (intel_svm_check)"
        return
            "first-level translation (FLTS) \(yn(v.flts)), second-level (SLTS) \(yn(v.slts)), page-walk coherency (SMPWC) \(yn(v.smpwc)), FL1GP \(yn(fl1gp)), FL5LP \(yn(fl5lp)): "
            + verdict
    }

    /// What the IORT's root complex nodes say of PASID (ACPI_IORT_ATS_SUPPORTED,
    /// ACPI_IORT_PRI_SUPPORTED, ACPI_IORT_PASID_FWD_SUPPORTED, ACPI_IORT_PASID_MAX_WIDTH): the
    /// firmware's word, not the SMMU's.
    static func rootComplexes(_ host: Host) -> String {
        let rcs = (host.firmware.iort?.nodes ?? []).compactMap { n -> String? in
            guard case .rootComplex(let seg, let ats, let pasid) = n.kind else { return nil }
            let flags = [ats & 1 != 0 ? "ATS" : nil, ats & 2 != 0 ? "PRI" : nil, ats & 4 != 0 ? "PASID forwarding" : nil].compactMap { $0 }
            let width = pasid.map { "max PASID width \($0 & 0x1f)" } ?? "no PASID Capabilities field"
            return "segment \(seg): \(flags.isEmpty ? "no ATS" : flags.joined(separator: ", ")), \(width)"
        }
        return rcs.isEmpty ? "" : "; the IORT's root complexes: " + rcs.joined(separator: "; ")
    }

    /// "scalable mode, PASID 20 bits, PRS, nested".
    static func summary(_ s: PASIDRule.UnitState) -> String {
        var extras: [String] = []
        if s.prs, s.unit.kind == .intel { extras.append("PRS") }
        if s.nested == true { extras.append("nested") }
        let features = (s.pasidBits.map { ["\($0)-bit PASIDs"] } ?? ["no PASID"]) + extras
        let hw = features.joined(separator: ", ")
        if s.unit.kind == .amd {
            switch s.pasid {
            case true?: return "guest translation (GT, PPR), \(hw)"
            case nil: return "guest translation (GT, PPR), \(hw): PASID unless SNP is enabled"
            case false?: return "no guest translation (amd_iommu_gt_ppr_supported is false): no PASID"
            }
        }
        guard s.capable else { return "legacy mode only (ecap.SMTS 0): no PASID" }
        switch s.scalableMode {
        case true?: return "scalable mode, \(hw)"
        case false?: return "scalable-mode capable (\(hw)) but run in legacy mode: no PASID"
        case nil: return "scalable-mode capable (\(hw)); whether the kernel uses it is not known"
        }
    }
}
