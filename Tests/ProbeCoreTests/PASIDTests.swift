import ACPI
import Foundation
import Testing
@testable import ProbeCore

/// PASID and scalable devices: the VT-d ecap and AMD-Vi EFR decoding
/// (drivers/iommu/intel/iommu.h ecap_*, drivers/iommu/amd/amd_iommu_types.h FEATURE_*), the
/// kernel's scalable-mode switch (intel_iommu_setup, sm_supported, pasid_supported), and
/// pci_enable_pasid's path requirements (drivers/pci/ats.c, pci_configure_eetlp_prefix).
struct PASIDTests {
    func findings(_ r: Report, _ id: String, _ bdf: String? = nil) -> [Finding] {
        r.findings.filter { $0.checkID == id && (bdf == nil ? $0.subject == .host : $0.subject == .device(PCIAddress(bdf!)!)) }
    }
    func device(_ h: ProbeCore.Host, _ bdf: String) throws -> PCIDevice { try #require(h.device(PCIAddress(bdf)!)) }

    // ecap_smts (43), ecap_pasid (40), ecap_pss (39:35), ecap_prs (29), ecap_nest (26),
    // ecap_smpwc (48), ecap_flts (47), ecap_slts (46), ecap_pds (42).
    @Test func vtdEcapDecoding() {
        let e: UInt64 = 1 << 48 | 1 << 47 | 1 << 46 | 1 << 43 | 1 << 42 | 1 << 40 | 19 << 35 | 1 << 29 | 1 << 26
        let v = VTdScalableMode(ecap: e)
        #expect(v.smts && v.pasid && v.prs && v.nest && v.smpwc && v.flts && v.slts && v.pds)
        #expect(v.pss == 19)
        #expect(v.pasidBits == 20, "max_pasids = 2 << ecap_pss: 2^20")
        // The legacy fixtures' ecap (0xf0205ef): no scalable mode, no PASID, no PRS.
        let legacy = VTdScalableMode(ecap: 0xf02_05ef)
        #expect(!legacy.smts && !legacy.pasid && !legacy.prs)
    }

    // FEATURE_PPR BIT(1), FEATURE_GT BIT(4), FEATURE_PASMAX GENMASK(36, 32), FEATURE_EPHSUP
    // BIT(50), FEATURE_SNP BIT(63); amd_iommu_gt_ppr_supported needs GT, PPR and EPHSUP.
    @Test func amdFeatureDecoding() {
        let a = AMDGuestTranslation(efr: 0x58f_77ef_2229_4ade)  // amd-host's EFR
        #expect(a.gt && a.ppr && a.ephsup && !a.snp)
        #expect(a.pasmax == 15)
        #expect(a.pasidBits == 16, "max_pasids = (1 << (pasmax + 1)) - 1")
        #expect(a.gtPPR)
        #expect(!AMDGuestTranslation(efr: 0x58f_77ef_2229_4ade & ~(1 << 50)).gtPPR, "EPHSUP is needed too")
    }

    // The sysfs features file is "EFR:EFR2" (amd_iommu_show_features, "%llx:%llx"); the EFR is
    // the part before the colon.
    @Test func amdUnitReportsGuestTranslation() throws {
        let r = try probe(.amdHost6_12, only: ["iommu.scalable-mode"])
        let u = try #require(r.host.units.first)
        let s = try #require(PASIDRule.state(of: u, host: r.host))
        #expect(s.capable && s.pasid == true && s.pasidBits == 16 && s.prs && s.nested == nil)
        #expect(findings(r, "iommu.scalable-mode").map(\.summary) == ["ivhd0: guest translation (GT, PPR), 16-bit PASIDs"])
    }

    // intel_iommu_sm: CONFIG_INTEL_IOMMU_SCALABLE_MODE_DEFAULT_ON, then intel_iommu=sm_on /
    // sm_off in the order intel_iommu_setup meets them.
    @Test func scalableModeSettingFollowsIntelIOMMUSetup() throws {
        let base = try probe(.pasidSM).host
        func setting(_ cmdline: String, config: [String: String]?) -> Bool? {
            base.with { p in
                p.kernel.cmdline = .value(KernelCommandLine(cmdline))
                p.kernel.config = config.map { c in .value(KernelConfig(c.map { "\($0.key)=\($0.value)\n" }.joined())) } ?? .absent
            }
            .kernelScalableMode
        }
        #expect(setting("intel_iommu=on,sm_on", config: nil) == true)
        #expect(setting("intel_iommu=sm_on intel_iommu=sm_off", config: nil) == false)
        #expect(setting("intel_iommu=on", config: ["CONFIG_INTEL_IOMMU_SCALABLE_MODE_DEFAULT_ON": "y"]) == true)
        #expect(setting("intel_iommu=on", config: ["CONFIG_INTEL_IOMMU": "y"]) == false)
        #expect(setting("intel_iommu=on", config: nil) == nil)
    }

    // sm_supported = intel_iommu_sm && ecap_smts; pasid_supported adds ecap_pasid; nested_supported
    // adds ecap_nest.
    @Test func unitStateFollowsSMSupported() throws {
        let r = try probe(.pasidSM, only: ["iommu.scalable-mode"])
        let units = Dictionary(uniqueKeysWithValues: r.host.units.map { ($0.name, $0) })
        let dmar0 = try #require(units["dmar0"])
        let dmar1 = try #require(units["dmar1"])
        let sm = try #require(PASIDRule.state(of: dmar0, host: r.host))
        #expect(sm.capable && sm.scalableMode == true && sm.pasid == true && sm.pasidBits == 20 && sm.prs && sm.nested == true)
        let legacy = try #require(PASIDRule.state(of: dmar1, host: r.host))
        #expect(!legacy.capable && legacy.scalableMode == false && legacy.pasid == false && legacy.nested == false)
        #expect(
            findings(r, "iommu.scalable-mode").map(\.summary) == [
                "dmar0: scalable mode, 20-bit PASIDs, PRS, nested", "dmar1: legacy mode only (ecap.SMTS 0): no PASID",
            ])
        // intel_svm_check: PASID, SMPWC, FLTS; cap.FL1GP (bit 56) is set on the fixture's unit,
        // FL5LP (bit 60) is not.
        let detail = try #require(findings(r, "iommu.scalable-mode").first?.detail)
        #expect(detail.contains("FL1GP yes, FL5LP no: SVA only if the CPU does not use 5-level paging (la57)"))
        // With sm_off the capable unit runs in legacy mode, and the remedy says how to change it.
        let off = r.host.with { $0.kernel.cmdline = .value(KernelCommandLine("intel_iommu=on,sm_off")) }
        let s = try #require(PASIDRule.state(of: dmar0, host: off))
        #expect(s.scalableMode == false && s.pasid == false)
        let f = ScalableModeCheck.evaluate(CheckContext(host: off)).first
        #expect(f?.summary == "dmar0: scalable-mode capable (20-bit PASIDs, PRS) but run in legacy mode: no PASID")
        #expect(f?.remedy == ScalableModeCheck.descriptor.remedy)
    }

    // intel_iommu_probe_device enables PASID only when pasid_supported: with intel_iommu_sm
    // unknown, an enabled PASID behind the unit shows scalable mode is on.
    @Test func enabledPASIDShowsScalableMode() throws {
        let h = try probe(.pasidSM).host.with { p in
            p.kernel.cmdline = .value(KernelCommandLine("intel_iommu=on"))
            p.kernel.config = .absent
        }
        let u = try #require(h.units.first { $0.name == "dmar0" })
        let s = try #require(PASIDRule.state(of: u, host: h))
        #expect(s.scalableMode == true && s.why.contains("intel_iommu_probe_device"))
    }

    // PCI_PASID_CAP (+4): EXEC bit 1, PRIV bit 2, WIDTH bits 12:8; PCI_PASID_CTRL (+6) ENABLE bit 0;
    // PCI_PRI_CTRL (+4) ENABLE bit 0, PCI_PRI_STATUS (+6) PASID bit 15.
    @Test func devicePASIDCapabilityDecoding() throws {
        let h = try probe(.pasidSM).host
        let dsa = try #require(try device(h, "0000:6a:01.0").pasid)
        #expect(dsa.enabled && dsa.maxPASIDBits == 20 && dsa.privileged && !dsa.exec && dsa.privilegedEnabled)
        #expect(dsa.pri?.enabled == false && dsa.pri?.responsePASIDRequired == true)
        #expect(dsa.ats && dsa.atsEnabled)
        let nic = try #require(try device(h, "0000:6b:00.0").pasid)
        #expect(!nic.enabled && nic.maxPASIDBits == 20 && nic.pri == nil)
        #expect(try device(h, "0000:00:02.0").pasid == nil)
    }

    // pci_configure_eetlp_prefix: PCI_EXP_DEVCAP2_EE_PREFIX on the function, and, unless it is a
    // root port or an RC integrated endpoint, eetlp_prefix_path on its upstream bridge.
    @Test func eetlpPrefixPathFollowsTheKernel() throws {
        let h = try probe(.pasidSM).host
        #expect(try device(h, "0000:6a:01.0").eetlpPrefix == true)
        #expect(PASIDRule.eetlpPrefixPath(try device(h, "0000:6a:01.0"), host: h) == true, "an RCiEP ends the walk")
        #expect(PASIDRule.eetlpPrefixPath(try device(h, "0000:6b:00.0"), host: h) == true, "endpoint, then its root port")
        let noPrefixAtPort = h.with { p in
            p.devices[PCIAddress("0000:00:02.0")!]!.eetlpPrefix = false
        }
        #expect(PASIDRule.eetlpPrefixPath(try device(noPrefixAtPort, "0000:6b:00.0"), host: noPrefixAtPort) == false)
        let s = try #require(PASIDRule.device(try device(noPrefixAtPort, "0000:6b:00.0"), host: noPrefixAtPort))
        #expect(s.obstacles.contains { $0.contains("End-End TLP Prefix") })
    }

    // pci_enable_pasid: pci_acs_path_enabled(pdev, NULL, PCI_ACS_RR | PCI_ACS_UF) — a root port
    // without ACS refuses; one with RR and UF on (even with SV and CR off) passes.
    @Test func pciEnablePASIDNeedsRRAndUFOnThePath() throws {
        let h = try probe(.pasidSM).host
        let nic = try #require(PASIDRule.device(try device(h, "0000:6b:00.0"), host: h))
        #expect(nic.acsMissing.map(\.0) == [PCIAddress("0000:00:02.0")!])
        #expect(nic.attachable == false)
        let rrUF: [UInt8] = [0x0d, 0x00, 0x01, 0x00, 0x1f, 0x00, 0x14, 0x00, 0, 0, 0, 0]  // cap SV..UF, ctrl RR UF
        let withACS = h.with { p in
            p.devices[PCIAddress("0000:00:02.0")!]!.capabilities.append(
                PCICapability(id: PCICapability.acsExtended, space: .extended, offset: 0x200, registers: rrUF))
        }
        let port = try device(withACS, "0000:00:02.0")
        #expect(ACSRule.state(of: port, host: withACS) == .notEnabled([.sv, .cr]), "REQ_ACS_FLAGS still fails")
        #expect(ACSRule.state(of: port, host: withACS, flags: [.rr, .uf]) == .enabled)
        let now = try #require(PASIDRule.device(try device(withACS, "0000:6b:00.0"), host: withACS))
        #expect(now.acsMissing.isEmpty && now.obstacles.isEmpty && now.attachable == true)
    }

    // pci_enable_pasid on a VF: "VFs must not implement the PASID Capability, but if a PF
    // supports PASID, its VFs share the PF PASID configuration": 0 when the PF has it enabled.
    @Test func aVFSharesItsPFsPASID() throws {
        let base = try probe(.pasidSM).host
        func vf(_ bdf: String, of pf: String) -> PCIDevice {
            var d = PCIDevice(address: PCIAddress(bdf)!, vendorID: 0x8086, deviceID: 0x1889, classCode: 0x020000)
            d.physfn = PCIAddress(pf)
            d.configComplete = true
            d.expressType = 0
            return d
        }
        let h = base.with { p in
            for d in [vf("0000:6a:01.1", of: "0000:6a:01.0"), vf("0000:6b:01.0", of: "0000:6b:00.0")] { p.devices[d.address] = d }
        }
        let onPF = try #require(PASIDRule.device(try device(h, "0000:6a:01.1"), host: h))
        #expect(onPF.sharedFrom == PCIAddress("0000:6a:01.0") && onPF.pasid.enabled && onPF.attachable == true)
        let offPF = try #require(PASIDRule.device(try device(h, "0000:6b:01.0"), host: h))
        #expect(offPF.sharedFrom == PCIAddress("0000:6b:00.0") && offPF.attachable == false)
        #expect(offPF.obstacles == ["it is a VF and its PF 0000:6b:00.0 does not have PASID enabled"])
    }

    // Arm: an SMMUv3's SSID width is not in sysfs; the IORT's root complex nodes say what the
    // firmware does (ats_attribute, pasid_capabilities & ACPI_IORT_PASID_MAX_WIDTH).
    @Test(.enabled(if: SharedTables.available, Comment(rawValue: SharedTables.absent)))
    func armNamesTheIORTRootComplexes() throws {
        let table = try ACPI.decode(try SharedTables.bytes("synthetic/iort-0001.IORT-0001.bin"))
        let h = try probe(.armITS).host.with { $0.firmware.decoded["IORT"] = .success(table) }
        let f = try #require(ScalableModeCheck.evaluate(CheckContext(host: h)).first)
        #expect(f.status == .skip && f.summary.contains("SMMU_IDR1"))
        #expect(f.summary.contains("the IORT's root complexes: segment "))
        let plain = try #require(ScalableModeCheck.evaluate(CheckContext(host: try probe(.armITS).host)).first)
        #expect(!plain.summary.contains("root complexes"), "the fixture's IORT has no nodes")
    }

    // pasid_supported false (legacy mode): the IOMMU side is the obstacle.
    @Test func legacyModeUnitIsTheObstacle() throws {
        let h = try probe(.pasidSM).host.with { $0.kernel.cmdline = .value(KernelCommandLine("intel_iommu=on,sm_off")) }
        let s = try #require(PASIDRule.device(try device(h, "0000:6b:00.0"), host: h))
        #expect(s.unit?.pasid == false)
        #expect(s.obstacles.first?.contains("legacy mode") == true)
    }

    // The check: info for the enabled DSA, a warning (no readiness change) for the NIC that
    // pci_enable_pasid refuses, nothing for a function without a PASID capability.
    @Test func devicePASIDCheckOnTheFixture() throws {
        let r = try probe(.pasidSM)
        #expect(findings(r, "device.pasid", "0000:6a:01.0").map(\.status) == [.info])
        let warn = try #require(findings(r, "device.pasid", "0000:6b:00.0").first)
        #expect(warn.status == .warn && warn.impacts.isEmpty)
        #expect(warn.summary.contains("pci_acs_path_enabled"))
        #expect(findings(r, "device.pasid", "0000:00:02.0").isEmpty)
        // Readiness is what it is without the check.
        let without = try probe(.pasidSM, skip: ["device.pasid"])
        #expect(r.verdict.devices.map(\.readiness) == without.verdict.devices.map(\.readiness))
    }

    // VFIO_DEVICE_ATTACH_IOMMUFD_PT's flags must be 0 in 6.12's uapi (no VFIO_DEVICE_ATTACH_PASID).
    @Test func vfioPASIDAttachIsNotIn6_12() throws {
        let r = try probe(.pasidSM)
        #expect(PASIDRule.vfioCanAttachPASID(r.host) == false)
        let json = JSONReporter.document(r)
        let dsa = try #require(json["devices"]?.elements?.first { $0["bdf"] == .string("0000:6a:01.0") })
        #expect(dsa["pasid"]?["vfio_attach_pasid"] == .bool(false))
        #expect(dsa["pasid"]?["attachable"] == .bool(true))
        #expect(dsa["pasid"]?["max_pasid_bits"] == .int(20))
        let units = try #require(json["host"]?["iommu"]?["units"]?.elements)
        #expect(units.first?["scalable_mode"]?["enabled"] == .bool(true))
        #expect(units.first?["pasid_bits"] == .int(20))
    }

    // mdev parents as scalable functions: a parent with PASID on behind a scalable-mode unit may
    // tag instances with PASIDs (sysfs does not say); mtty is no PCI function.
    @Test func scalableFunctions() throws {
        let r = try probe(.pasidSM, only: ["vfio.scalable-functions"])
        let f = try #require(findings(r, "vfio.scalable-functions").first)
        #expect(f.summary == "0000:6a:01.0 [idxd]: 1 type, 1 instance; behind PASID: cannot tell")
        #expect(f.detail?.contains("room for 7 more") == true)
        let mtty = try probe(.intelNoIR, only: ["vfio.scalable-functions"])
        #expect(findings(mtty, "vfio.scalable-functions").first?.summary == "mtty: 2 types, 1 instance; not behind PASID")
        let json = JSONReporter.document(r)
        let sf = try #require(json["host"]?["scalable_functions"]?.elements?.first)
        #expect(sf["behind_pasid"] == .null)
        #expect(sf["types"]?.elements?.first?["available_instances"] == .int(7))
    }
}

extension JSONValue {
    /// An array's elements; nil for anything else.
    fileprivate var elements: [JSONValue]? {
        if case .array(let xs) = self { return xs }
        return nil
    }
}

extension ProbeCore.Host {
    /// What `intel_iommu_sm` is on this host.
    var kernelScalableMode: Bool? { PASIDRule.scalableModeSetting(self).on }
}
