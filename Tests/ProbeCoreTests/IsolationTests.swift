import Foundation
import Testing
@testable import ProbeCore

/// Isolation: the kernel's ACS rule (drivers/pci/pci.c, drivers/pci/quirks.c,
/// drivers/iommu/iommu.c in 6.12) read from config space, and the checks built on it.
struct IsolationTests {
    func findings(_ r: Report, _ id: String, _ bdf: String? = nil) -> [Finding] {
        r.findings.filter { $0.checkID == id && (bdf == nil ? $0.subject == .host : $0.subject == .device(PCIAddress(bdf!)!)) }
    }
    func verdict(_ r: Report, _ bdf: String) -> DeviceVerdict? { r.verdict.devices.first { $0.address.description == bdf } }

    /// A PCIe function made up for the rule: `type` is its Express type, `acs` its ACS
    /// capability and control words.
    func function(
        _ bdf: String, vendor: UInt16 = 0x1234, device: UInt16 = 0x5678, type: UInt8?, acs: (UInt16, UInt16)? = nil,
        multifunction: Bool = false, parents: [String] = []
    ) -> PCIDevice {
        var d = PCIDevice(address: PCIAddress(bdf)!, vendorID: vendor, deviceID: device, classCode: 0x060400)
        d.headerType = type == 4 || type == 6 ? 1 : 0
        d.expressType = type
        d.configComplete = true
        d.multifunction = multifunction
        d.parents = parents.compactMap(PCIAddress.init)
        if let (cap, ctrl) = acs {
            let regs: [UInt8] = [
                0x0d, 0x00, 0x01, 0x00, UInt8(cap & 0xff), UInt8(cap >> 8), UInt8(ctrl & 0xff), UInt8(ctrl >> 8), 0, 0, 0, 0,
            ]
            d.capabilities = [PCICapability(id: PCICapability.acsExtended, space: .extended, offset: 0x100, registers: regs)]
        }
        return d
    }

    func host(_ devices: [PCIDevice], groups: [Int: [String]] = [:], cmdline: String = "intel_iommu=on") throws -> ProbeCore.Host {
        let base = try probe(.switchNoACS).host
        return base.with { p in
            var byAddress = Dictionary(uniqueKeysWithValues: devices.map { ($0.address, $0) })
            for (id, members) in groups { members.compactMap(PCIAddress.init).forEach { byAddress[$0]?.iommuGroup = id } }
            p.devices = byAddress
            p.selected = devices.map(\.address)
            p.kernel.cmdline = .value(KernelCommandLine(cmdline))
            var gs: [Int: IOMMUGroup] = [:]
            for (id, members) in groups {
                var g = base.groups[14]!
                g.id = id
                g.members = members
                gs[id] = g
            }
            p.groups = gs
        }
    }

    // pci_acs_flags_enabled: a required control missing from the capability word is hard-wired
    // on; one the capability has must be on in the control word.
    @Test func acsFlagsEnabledReadsCapabilityAndControl() throws {
        let h = try probe(.switchNoACS).host
        #expect(ACSRule.state(of: function("0000:00:1c.0", type: 4, acs: (0x1f, 0x1d)), host: h) == .enabled)
        #expect(ACSRule.state(of: function("0000:00:1c.0", type: 4, acs: (0x1f, 0x11)), host: h) == .notEnabled([.rr, .cr]))
        #expect(ACSRule.state(of: function("0000:00:1c.0", type: 4, acs: (0x11, 0x11)), host: h) == .enabled)
        #expect(ACSRule.state(of: function("0000:00:1c.0", type: 4, acs: (0, 0)), host: h) == .enabled)
        #expect(ACSRule.state(of: function("0000:00:1c.0", type: 4), host: h) == .missing)
        #expect(ACSRule.state(of: function("0000:02:00.0", type: 6), host: h) == .missing)
    }

    // pci_acs_enabled: single-function endpoints need no ACS; multifunction ones do;
    // conventional devices and PCIe-to-PCI bridges never have it.
    @Test func acsEnabledByFunctionType() throws {
        let h = try probe(.switchNoACS).host
        #expect(ACSRule.state(of: function("0000:03:00.0", type: 0), host: h) == .notApplicable)
        #expect(ACSRule.state(of: function("0000:03:00.0", type: 0, multifunction: true), host: h) == .missing)
        #expect(ACSRule.state(of: function("0000:03:00.0", type: 0, acs: (0x5d, 0x1d), multifunction: true), host: h) == .enabled)
        #expect(ACSRule.state(of: function("0000:03:00.0", type: 5), host: h) == .notApplicable)
        #expect(ACSRule.state(of: function("0000:03:00.0", type: nil), host: h) == .conventional)
        #expect(ACSRule.state(of: function("0000:00:1e.0", type: 7), host: h) == .pciBridge)
        var partial = function("0000:03:00.0", type: 0)
        partial.configComplete = false
        if case .unknown = ACSRule.state(of: partial, host: h) {} else { Issue.record("64 bytes of config space: unknown") }
    }

    // pci_dev_specific_acs_enabled: the quirks table answers before the capability is looked at.
    @Test func quirksVouchOrDeny() throws {
        let h = try probe(.switchNoACS).host
        // pci_quirk_intel_pch_acs (Cougar Point root port): ACS-like controls, no capability.
        #expect(
            ACSRule.state(of: function("0000:00:1c.0", vendor: 0x8086, device: 0x1c10, type: 4), host: h)
                == .quirk("pci_quirk_intel_pch_acs"))
        // A PCH root port not in the list has no quirk.
        #expect(ACSRule.state(of: function("0000:00:1c.0", vendor: 0x8086, device: 0xa338, type: 4), host: h) == .missing)
        // pci_quirk_mf_endpoint_acs: 82599 functions do no peer-to-peer.
        #expect(
            ACSRule.state(of: function("0000:01:00.0", vendor: 0x8086, device: 0x10fb, type: 0, multifunction: true), host: h)
                == .quirk("pci_quirk_mf_endpoint_acs"))
        // pci_quirk_rciep_acs: Intel root complex integrated endpoints.
        #expect(
            ACSRule.state(of: function("0000:00:02.0", vendor: 0x8086, device: 0x9a49, type: 9, multifunction: true), host: h)
                == .quirk("pci_quirk_rciep_acs"))
        // pci_quirk_intel_spt_pch_acs: Sunrise Point keeps the control register at +8, as a dword.
        var spt = function("0000:00:1c.0", vendor: 0x8086, device: 0xa110, type: 4)
        spt.capabilities = [
            PCICapability(
                id: PCICapability.acsExtended, space: .extended, offset: 0x140, registers: [0x0d, 0, 1, 0, 0x1f, 0, 0, 0, 0x1d, 0, 0, 0])
        ]
        #expect(ACSRule.state(of: spt, host: h) == .quirk("pci_quirk_intel_spt_pch_acs"))
        // pci_quirk_wangxun_nic_acs answers no for a Wangxun device not in its list.
        #expect(
            ACSRule.state(of: function("0000:05:00.0", vendor: 0x8088, device: 0x0200, type: 0), host: h)
                == .quirkDenies("pci_quirk_wangxun_nic_acs"))
        // pci_quirk_zhaoxin_pcie_ports_acs: the listed ports isolate, the others do not.
        #expect(
            ACSRule.state(of: function("0000:00:03.0", vendor: 0x1d17, device: 0x0715, type: 4), host: h)
                == .quirk("pci_quirk_zhaoxin_pcie_ports_acs"))
        #expect(
            ACSRule.state(of: function("0000:00:03.0", vendor: 0x1d17, device: 0x0800, type: 4, acs: (0x1f, 0x1d)), host: h)
                == .quirkDenies("pci_quirk_zhaoxin_pcie_ports_acs"))
    }

    // pci_device_group / pci_acs_path_enabled: a switch downstream port without ACS merges the
    // functions below it; the one with ACS leaves its endpoint alone.
    @Test func switchDownstreamPortWithoutACSMergesItsDevices() throws {
        let r = try probe(.switchNoACS)
        let f = try #require(findings(r, "device.group-isolation", "0000:03:00.0").first)
        #expect(f.status == .warn)
        #expect(f.summary.hasPrefix("group 14 is large because 0000:02:00.0 ("))
        #expect(f.summary.contains("has no ACS (SV RR CR UF needed; it has none); and "))
        #expect(f.remedy == GroupIsolationCheck.remedy)
        #expect(f.impacts.isEmpty, "the group's size is explained, not a new blocker")
        // 04:00.0 is alone in its group (its own port has ACS), yet what enters 02:00.0 from
        // below is routed to 02:01.0 without going upstream: said, as the kernel does not.
        let peer = try #require(findings(r, "device.group-isolation", "0000:04:00.0").first)
        #expect(peer.status == .warn && peer.impacts.isEmpty)
        #expect(
            peer.summary.hasSuffix(
                "0000:02:00.0 has no ACS Request Redirect, so requests entering it from below go straight to the sibling ports: peer-to-peer DMA between 0000:04:00.0 and 0000:03:00.0, 0000:03:00.1 (in other groups) is not translated by the IOMMU"
            ))
        #expect(peer.summary.hasPrefix("alone in IOMMU group 16, but in the switch below 0000:01:00.0 ("))
        let p = ACSRule.path(of: try #require(r.host.device(PCIAddress("0000:03:00.0")!)), host: r.host)
        #expect(p.anchor == PCIAddress("0000:02:00.0"))
        #expect(p.merges == [GroupMerge(at: PCIAddress("0000:02:00.0")!, kind: .port, state: .missing)])
        let groups = ACSRule.hardwareGroups(r.host)
        let g = groups[PCIAddress("0000:03:00.0")!]
        #expect(groups[PCIAddress("0000:03:00.1")!] == g && groups[PCIAddress("0000:02:00.0")!] == g)
        #expect(groups[PCIAddress("0000:04:00.0")!] != g)
        // The model gives exactly the kernel's groups on this fixture.
        for (a, d) in r.host.devices {
            for (b, e) in r.host.devices {
                #expect((groups[a] == groups[b]) == (d.iommuGroup == e.iommuGroup), "\(a) \(b)")
            }
        }
    }

    // pci_for_each_dma_alias: every function behind a PCIe-to-PCI bridge aliases to it.
    @Test func pciBridgeAliasesWhatIsBehindIt() throws {
        let r = try probe(.bridgeGroup)
        let f = try #require(findings(r, "device.group-isolation", "0000:01:01.0").first)
        #expect(f.status == .warn)
        #expect(f.summary.contains("because 0000:00:01.0"))
        #expect(f.summary.contains("the devices behind it share its requester ID"))
        #expect(f.remedy?.hasPrefix("Conventional PCI devices behind a bridge can never be told apart") == true)
    }

    // get_pci_function_alias_group: functions of a multifunction device without ACS share.
    @Test func multifunctionWithoutACSSharesWithSiblings() throws {
        let r = try probe(.intelVFIOReady)
        let f = try #require(findings(r, "device.group-isolation", "0000:00:1f.2").first)
        #expect(f.status == .warn)
        #expect(
            f.summary.hasSuffix(
                "is a function of a multifunction device without ACS (no ACS capability): it shares with 0000:00:1f.2"))
        #expect(f.summary.contains("because 0000:00:1f.0 ("))
        #expect(f.remedy == GroupIsolationCheck.multifunctionRemedy)
        #expect(findings(r, "device.group-isolation", "0000:01:00.0").first?.status == .pass)
    }

    // A root port whose ACS controls are off: the reason names them and the remedy says who
    // turns them on (pci_std_enable_acs) and what turns them off (pci=disable_acs_redir=).
    @Test func portWithControlsOffNamesThem() throws {
        let rp = function("0000:00:1c.0", type: 4, acs: (0x1f, 0x01))
        let ep = function("0000:01:00.0", type: 0, parents: ["0000:00:1c.0"])
        let h = try host([rp, ep], groups: [7: ["0000:00:1c.0", "0000:01:00.0"]], cmdline: "pci=disable_acs_redir=0000:00:1c.0")
        let f = try #require(GroupIsolationCheck.evaluate(CheckContext(host: h)).first { $0.subject == .device(ep.address) })
        #expect(f.status == .warn)
        #expect(f.summary.hasSuffix("lacks RR and CR and UF enabled (its ACS capability has them, but they are off)"))
        #expect(f.remedy?.contains("pci=disable_acs_redir=0000:00:1c.0") == true)
    }

    // pcie_acs_overrides (the out-of-tree patch) parses like the patch's setup function.
    @Test func overrideParameterParses() throws {
        let o = try #require(ACSOverride(KernelCommandLine("quiet pcie_acs_override=downstream,id:8086:a338")))
        #expect(o.downstream && !o.multifunction)
        #expect(o.ids == [ACSOverride.PCIIDPair(vendor: 0x8086, device: 0xa338)])
        #expect(ACSOverride(KernelCommandLine("quiet")) == nil)
        #expect(o.covers(function("0000:00:1c.0", type: 4)))
        // "Never override ACS for legacy devices or devices with ACS caps".
        #expect(!o.covers(function("0000:00:1c.0", type: 4, acs: (0x1f, 0x01))))
        #expect(!o.covers(function("0000:00:1c.0", type: nil)))
        #expect(!o.covers(function("0000:03:00.0", type: 0, multifunction: true)))
    }

    // The override splits a group the hardware does not isolate: the device is not safe VFIO,
    // loudly, and no live walk can lift it.
    @Test func overrideSplitGroupBlocksVFIO() throws {
        let r = try probe(.acsOverride)
        let f = try #require(findings(r, "kernel.acs-override", "0000:03:00.0").first)
        #expect(f.status == .fail)
        #expect(
            f.summary
                == "pcie_acs_override=downstream,multifunction splits group 14: 0000:00:1c.0 (Intel Corporation Cannon Lake PCH PCI Express Root Port #1) has no ACS (SV RR CR UF needed; it has none), so peer-to-peer DMA between 0000:03:00.0 and 0000:03:00.1 is not translated by the IOMMU"
        )
        #expect(Set(f.impacts.map(\.mode)) == [.vfio, .unsafeInterrupts])
        #expect(f.impacts.allSatisfy { $0.kind == .blocks && !$0.liveCanLift })
        #expect(verdict(r, "0000:03:00.0")?.readiness == .blocked)
        #expect(verdict(r, "0000:05:00.0")?.readiness == .ready)
        #expect(findings(r, "kernel.acs-override").first?.status == .warn)
        // The hardware's group for it holds its sibling and the port; the kernel's does not.
        let g = ACSRule.hardwareGroups(r.host)
        #expect(g[PCIAddress("0000:03:00.0")!] == g[PCIAddress("0000:03:00.1")!])
        #expect(g[PCIAddress("0000:03:00.0")!] != g[PCIAddress("0000:05:00.0")!])
        // group-isolation sees the device alone, and says the rule would not have it so.
        #expect(findings(r, "device.group-isolation", "0000:03:00.0").first?.status == .info)
    }

    // Reading only the named device, the bridges above it are read too: the answer stands.
    @Test func overrideIsSeenWithDeviceScope() throws {
        let r = try probe(.acsOverride, devices: ["0000:03:00.0"])
        #expect(findings(r, "kernel.acs-override", "0000:03:00.0").first?.status == .fail)
        #expect(r.verdict.devices.map(\.readiness) == [.blocked])
        #expect(r.host.devices[PCIAddress("0000:00:1c.0")!] != nil)
        let ok = try probe(.acsOverride, devices: ["0000:05:00.0"])
        #expect(ok.verdict.devices.map(\.readiness) == [.ready])
    }

    // --accept-acs-override: the impact becomes a warning, and the verdict says it was accepted.
    @Test func acceptedOverrideWarns() throws {
        var o = Pipeline.Options()
        o.root = HostFixture.acsOverride.path
        o.devices = [PCIAddress("0000:03:00.0")!]
        o.accepted = [.acsOverride]
        let r = try Pipeline.run(o)
        let f = try #require(findings(r, "kernel.acs-override", "0000:03:00.0").first)
        #expect(f.status == .warn && f.impacts.isEmpty)
        #expect(f.summary.hasSuffix("(accepted with --accept-acs-override)"))
        #expect(r.verdict.devices.map(\.readiness) == [.ready])
        #expect(r.verdict.summary.contains("[accepted with --accept-acs-override:"))
    }

    @Test func acceptFlagReachesTheCheck() throws {
        let args = ["--root", HostFixture.acsOverride.path, "--no-live", "--device", "0000:03:00.0", "--require", "vfio", "--quiet"]
        #expect(try runBinary(args).status != 0)
        #expect(try runBinary(args + ["--accept-acs-override"]).status == 0)
    }

    // An override on hardware with ACS on the whole path changes nothing for the device.
    @Test func overrideWithACSEverywhereOnlyWarnsForTheHost() throws {
        let r = try probe(.acsOverride, devices: ["0000:05:00.0"])
        #expect(findings(r, "kernel.acs-override", "0000:05:00.0").first?.status == .pass)
        #expect(findings(r, "kernel.acs-override").first?.status == .warn)
        #expect(findings(r, "kernel.acs-override").first?.impacts.isEmpty == true)
    }

    // pci_enable_ats sets the ATS Enable bit (PCI_ATS_CTRL bit 15).
    @Test func atsEnabledIsReported() throws {
        let r = try probe(.atsEnabled, devices: ["0000:01:00.0"])
        let f = try #require(findings(r, "device.ats", "0000:01:00.0").first)
        #expect(f.status == .info)
        #expect(f.summary.hasPrefix("ATS is enabled: the device caches IOMMU translations"))
        #expect(f.impacts.isEmpty)
        // The capability present but off: every request is translated.
        #expect(findings(try probe(.atsEnabled, devices: ["0000:01:00.1"]), "device.ats", "0000:01:00.1").first?.status == .pass)
        // No capability: nothing to say.
        #expect(findings(try probe(.intelVFIOReady, devices: ["0000:01:00.0"]), "device.ats", "0000:01:00.0").isEmpty)
    }

    // The JSON report names the merging port for each device of a shared group.
    @Test func jsonNamesTheMergingPort() throws {
        let r = try probe(.switchNoACS)
        let text = JSONReporter.document(r).render(pretty: true)
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let devices = try #require(doc["devices"] as? [[String: Any]])
        let nic = try #require(devices.first { $0["bdf"] as? String == "0000:03:00.0" })
        let merged = try #require(nic["group_merged_by"] as? [[String: Any]])
        #expect(merged.map { $0["bdf"] as? String } == ["0000:02:00.0"])
        #expect(merged.first?["kind"] as? String == "port")
        let alone = try #require(devices.first { $0["bdf"] as? String == "0000:04:00.0" })
        #expect((alone["group_merged_by"] as? [Any])?.isEmpty == true)
    }
}
