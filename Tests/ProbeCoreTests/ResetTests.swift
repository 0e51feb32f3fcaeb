import CShim
import Foundation
import Live
import SystemPackage
import Testing

@testable import ProbeCore

/// The whole fixture host, read as the probe reads it.
private func wholeHost(_ f: HostFixture) throws -> ProbeCore.Host {
    HostReader(fs: try HostFS(root: f.path), lookUpNames: false).read(scope: .all)
}

private func function(_ host: ProbeCore.Host, _ a: String) throws -> PCIDevice { try #require(host.devices[PCIAddress(a)!]) }

/// `d` with its capability `id`'s registers changed by `edit` (or added, at `offset`).
private func withCapability(_ d: PCIDevice, id: UInt16, offset: UInt32 = 0xb0, _ edit: (inout [UInt8]) -> Void) -> PCIDevice {
    var d = d
    d.update { f in
        if let i = f.capabilities.firstIndex(where: { $0.space == .normal && $0.id == id }) {
            edit(&f.capabilities[i].registers)
        } else {
            var r = [UInt8](repeating: 0, count: PCICapability.registerBytes)
            r[0] = UInt8(id)
            edit(&r)
            f.capabilities.append(PCICapability(id: id, space: .normal, offset: offset, registers: r))
        }
    }
    return d
}

/// drivers/pci/pci.c, Linux 6.12: pci_init_reset_methods over pci_reset_fn_methods, derived.
struct ResetDerivationTests {
    /// The derivation on 5.10 (no reset_method) gives what 6.12 lists for the same hardware, the
    /// attribute's absence on 6.12 meaning none (pci_dev_reset_method_attr_is_visible).
    @Test func derivationMatchesTheKernelsList() throws {
        let new = try wholeHost(.resetHost)
        let old = try wholeHost(.reset5_10)
        let candidates = DeviceResets.candidates(new)
        #expect(candidates.count == 6)
        for d in candidates {
            let listed = d.resetMethod.value ?? []
            let derived = ResetDerivation.derive(try function(old, d.bdf), on: old)
            #expect(derived.complete)
            #expect(derived.methods == listed, "\(d.bdf)")
            #expect(old.devices[d.address]?.resetMethod == .absent)
        }
    }

    /// pcie_reset_flr (DevCap FLR) and pci_parent_bus_reset (alone behind its root port); pm is
    /// refused by NoSoftRst+ (pci_pm_reset).
    @Test func flrCapableNIC() throws {
        let host = try wholeHost(.reset5_10)
        let r = ResetDerivation.derive(try function(host, "0000:01:00.0"), on: host)
        #expect(r.methods == [.flr, .bus])
        #expect(r.reasons.contains("pm: NoSoftRst+ (D3hot->D0 keeps its state)"))
        #expect(ResetDerivation.hotResetDomain(of: try function(host, "0000:01:00.0"), on: host) == [PCIAddress("0000:01:00.0")!])
    }

    /// pci_dev_specific_reset first: Samsung a804 is nvme_disable_and_flr's (class 010802 and FLR).
    @Test func deviceSpecificComesFirst() throws {
        let host = try wholeHost(.reset5_10)
        let nvme = try function(host, "0000:04:00.0")
        #expect(ResetDerivation.derive(nvme, on: host).methods == [.deviceSpecific, .flr, .bus])
        // nvme_disable_and_flr's probe needs pcie_reset_flr's: without FLR, neither.
        let noFLR = withCapability(nvme, id: PCICapability.express) { $0[7] &= ~0x10 }
        #expect(ResetDerivation.derive(noFLR, on: host).methods == [.bus])
    }

    /// quirk_no_pm_reset (ATI VGA, off the root bus) and pci_parent_bus_reset's "other functions
    /// on the bus": the Polaris GPU has no method.
    @Test func polarisHasNone() throws {
        let host = try wholeHost(.reset5_10)
        let gpu = try function(host, "0000:02:00.0")
        let r = ResetDerivation.derive(gpu, on: host)
        #expect(r.methods.isEmpty)
        #expect(r.reasons.contains("pm: quirk_no_pm_reset (its D3hot->D0 transition does not reset it)"))
        #expect(r.reasons.contains("bus: other functions share its bus (0000:02:00.1)"))
        #expect(ResetQuirks.vendorResetFamily(gpu) == "Polaris 10")
    }

    /// pci_pm_reset: NoSoftRst clear (PMCSR bit 3) gives pm; a PM capability of version 4 is one
    /// pci_pm_init ignores.
    @Test func pmReset() throws {
        let host = try wholeHost(.reset5_10)
        let e1000 = try function(host, "0000:03:01.0")
        #expect(ResetDerivation.derive(e1000, on: host).methods.isEmpty)
        let soft = withCapability(e1000, id: PCICapability.powerManagement) { $0[4] &= ~0x08 }
        #expect(ResetDerivation.derive(soft, on: host).methods == [.pm])
        let v4 = withCapability(soft, id: PCICapability.powerManagement) { $0[2] = 0x04 }
        #expect(ResetDerivation.derive(v4, on: host).methods.isEmpty)
    }

    /// pci_af_flr: the AF capability needs both TP and FLR (PCI_AF_CAP, cap + 3), and
    /// PCI_DEV_FLAGS_NO_FLR_RESET (quirk_no_flr) turns it off, as it does pcie_reset_flr.
    @Test func advancedFeaturesFLR() throws {
        let host = try wholeHost(.reset5_10)
        let e1000 = try function(host, "0000:03:01.0")
        let af = withCapability(e1000, id: PCICapability.advancedFeatures) { $0[3] = 0x03 }
        #expect(ResetDerivation.derive(af, on: host).methods == [.afFLR])
        let flrOnly = withCapability(e1000, id: PCICapability.advancedFeatures) { $0[3] = 0x02 }
        #expect(ResetDerivation.derive(flrOnly, on: host).methods.isEmpty)
        var quirked = af
        quirked.update { $0.deviceID = 0x1502 }  // 82579LM: quirk_no_flr
        #expect(ResetDerivation.derive(quirked, on: host).methods.isEmpty)
        var nic = try function(host, "0000:01:00.0")
        nic.update { $0.deviceID = 0x1503 }
        #expect(ResetDerivation.derive(nic, on: host).methods == [.bus], "quirk_no_flr: no flr despite DevCap")
    }

    /// pci_parent_bus_reset: never on the root bus, never with PCI_DEV_FLAGS_NO_BUS_RESET
    /// (quirk_no_bus_reset, quirk_nvidia_no_bus_reset); pci_bus_resettable likewise for the domain.
    @Test func busResetRules() throws {
        let host = try wholeHost(.reset5_10)
        let nic = try function(host, "0000:01:00.0")
        var root = nic
        root.update { $0.parents = [] }
        #expect(ResetDerivation.derive(root, on: host).methods == [.flr])
        #expect(ResetDerivation.hotResetDomain(of: root, on: host) == nil)
        var atheros = nic
        atheros.update {
            $0.vendorID = 0x168c
            $0.deviceID = 0x003c
        }
        #expect(ResetDerivation.derive(atheros, on: host).methods == [.flr])
        var nvidia = nic
        nvidia.update {
            $0.vendorID = 0x10de
            $0.deviceID = 0x2342
        }
        #expect(ResetDerivation.derive(nvidia, on: host).methods == [.flr])
        let quirkedHost = host.with { $0.devices[nic.address] = atheros }
        #expect(ResetDerivation.hotResetDomain(of: atheros, on: quirkedHost) == nil)
        // The bus below a PCI bridge: both e1000s go with a secondary bus reset.
        #expect(
            ResetDerivation.hotResetDomain(of: try function(host, "0000:03:01.0"), on: host)
                == [PCIAddress("0000:03:01.0")!, PCIAddress("0000:03:02.0")!])
    }

    /// reset_method_show: names separated by spaces and a newline; nothing when all are disabled.
    @Test func resetMethodText() {
        #expect(ResetMethod.list("device_specific flr bus\n") == [.deviceSpecific, .flr, .bus])
        #expect(ResetMethod.list("").isEmpty)
        #expect(ResetMethod.kernelOrder.map(\.rawValue) == ["device_specific", "acpi", "flr", "af_flr", "pm", "bus", "cxl_bus"])
    }
}

struct ResetCheckTests {
    /// No reset method: a plain warning, and readiness is what it was (ready).
    @Test func noMethodWarnsWithoutChangingReadiness() throws {
        let r = try probe(.resetHost, devices: ["0000:03:01.0"])
        let f = try #require(r.findings.first { $0.checkID == "device.reset" })
        #expect(f.status == .warn && f.impacts.isEmpty)
        #expect(
            f.summary
                == "no reset method: vfio-pci cannot reset it on open/close, a VM cannot be given it safely; a dataplane that never resets it can still use it"
        )
        #expect(f.detail?.contains("bus: other functions share its bus (0000:03:02.0)") == true)
        #expect(r.device.readiness == .ready)
        let hot = try #require(r.findings.first { $0.checkID == "device.hot-reset" })
        #expect(hot.status == .warn && hot.impacts.isEmpty)
    }

    @Test func kernelsListPasses() throws {
        let r = try probe(.resetHost, devices: ["0000:04:00.0"], only: ["device.reset"])
        let f = try #require(r.findings.first)
        #expect(f.status == .pass && f.summary == "reset by device_specific flr bus (reset_method)")
    }

    /// reset_method_store(""): every method disabled; `echo default` restores them.
    @Test func emptiedResetMethod() throws {
        let root = try scratchFixture(.resetHost) { dir in
            try "".write(toFile: dir + "/sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0/reset_method", atomically: true, encoding: .utf8)
        }
        let f = try #require(try probe(root: root, devices: ["0000:01:00.0"], only: ["device.reset"]).findings.first)
        #expect(f.status == .warn)
        #expect(f.summary.hasPrefix("no reset method: every method was disabled through reset_method (the kernel would have flr)"))
        #expect(f.remedy == "echo default > /sys/bus/pci/devices/0000:01:00.0/reset_method")
    }

    /// vendor-reset: warned without the module; before 5.15 no reset_method to set.
    @Test func vendorReset() throws {
        let new = try probe(.resetHost, devices: ["0000:02:00.0"], only: ["device.vendor-reset"])
        #expect(new.findings.first?.remedy?.hasSuffix("echo device_specific > /sys/bus/pci/devices/0000:02:00.0/reset_method") == true)
        let old = try probe(.reset5_10, devices: ["0000:02:00.0"], only: ["device.vendor-reset"])
        #expect(old.findings.first?.status == .warn && old.findings.first?.remedy == VendorResetCheck.install)
        let loaded = try scratchFixture(.resetHost) { dir in
            try FileManager.default.createDirectory(atPath: dir + "/sys/module/vendor_reset", withIntermediateDirectories: true)
            try "live\n".write(toFile: dir + "/sys/module/vendor_reset/initstate", atomically: true, encoding: .utf8)
        }
        let f = try #require(try probe(root: loaded, devices: ["0000:02:00.0"], only: ["device.vendor-reset"]).findings.first)
        #expect(f.status == .warn && f.remedy == "echo device_specific > /sys/bus/pci/devices/0000:02:00.0/reset_method")
        try "device_specific\n".write(
            toFile: loaded + "/sys/devices/pci0000:00/0000:00:1c.0/0000:02:00.0/reset_method", atomically: true, encoding: .utf8)
        #expect(try probe(root: loaded, devices: ["0000:02:00.0"], only: ["device.vendor-reset"]).findings.first?.status == .pass)
    }

    /// JSON: the methods, where they come from, and the bus-reset domain.
    @Test func jsonCarriesTheResetFacts() throws {
        let r = try probe(.reset5_10, devices: ["0000:03:01.0"])
        let json = JSONReporter.reset(r.host.devices[PCIAddress("0000:03:01.0")!]!, r.host)
        #expect(
            json
                == .object([
                    ("methods", JSONValue([String]())), ("source", .string("derived")), ("d3cold_allowed", .bool(true)),
                    ("bus_reset_domain", JSONValue(["0000:03:01.0", "0000:03:02.0"])),
                ]))
    }
}

/// VFIO_DEVICE_GET_PCI_HOT_RESET_INFO in the live walk (vfio_pci_ioctl_get_pci_hot_reset_info).
struct HotResetLiveTests {
    @Test func requestAndLayoutMatchTheUAPI() {
        #expect(VP_VFIO_DEVICE_GET_PCI_HOT_RESET_INFO == 0x3B70)  // _IO(VFIO_TYPE, VFIO_BASE + 12)
        #expect(MemoryLayout<vp_vfio_pci_hot_reset_info>.size == 12)
        #expect(MemoryLayout<vp_vfio_pci_dependent_device>.size == 8)
    }

    /// Legacy path: group ids; the sibling in group 11 is not in this process's groups. cdev
    /// path: VFIO_PCI_HOT_RESET_FLAG_DEV_ID, the sibling VFIO_PCI_DEVID_NOT_OWNED.
    @Test func domainAndOwnership() throws {
        let k = ScriptedKernel()
        let r = try liveProbe(.intelVFIOReady, devices: ["0000:01:00.0"], kernel: k)
        #expect(k.leftNothingBehind)
        let a = PCIAddress("0000:01:00.0")!
        let type1 = try #require(r.live?.walk(.type1, for: a))
        #expect(type1.succeeded)
        let legacy = try #require(type1.facts.hotReset)
        #expect(!legacy.usesDevIDs && legacy.notOwned(openedGroup: 10).map(\.address) == [PCIAddress("0000:01:00.1")!])
        let cdev = try #require(r.live?.walk(.iommufd, for: a)?.facts.hotReset)
        #expect(cdev.usesDevIDs && cdev.flags & HotResetDomain.flagDevIDOwned == 0)
        #expect(cdev.notOwned(openedGroup: nil).map(\.address) == [PCIAddress("0000:01:00.1")!])
        let f = try #require(r.finding("device.hot-reset"))
        #expect(
            f.summary
                == "a hot reset also resets 0000:01:00.1 in group 11, not in this process's groups: VFIO_DEVICE_PCI_HOT_RESET needs them all"
        )
        #expect(f.impacts.isEmpty && r.device.readiness == .ready)
    }

    /// Every function of the domain in the opened group: nothing more is needed.
    @Test func wholeDomainOwned() throws {
        let k = ScriptedKernel()
        k.hotResetMembers = [("0000:03:01.0", 3), ("0000:03:02.0", 3)]
        k.config = [0x86, 0x80, 0x0e, 0x10]
        let r = try liveProbe(.resetHost, devices: ["0000:03:01.0"], kernel: k)
        let f = try #require(r.finding("device.hot-reset"))
        #expect(f.status == .info && f.summary == "a hot reset also resets 0000:03:02.0: all in this process's groups")
    }

    /// ENODEV (no slot or bus reset) is an answer: recorded, and the walk still succeeds.
    @Test func noBusResetIsAnAnswer() throws {
        let k = ScriptedKernel()
        k.failures[.deviceGetPCIHotResetInfo] = Errno(rawValue: 19)
        let r = try liveProbe(.intelVFIOReady, devices: ["0000:01:00.0"], kernel: k)
        let walk = try #require(r.live?.walk(.type1, for: PCIAddress("0000:01:00.0")!))
        #expect(walk.succeeded && walk.facts.hotResetErrno == 19 && walk.facts.hotReset == nil)
        #expect(walk.steps.last?.detail == "ENODEV: no slot or bus reset for this device")
        #expect(
            r.finding("device.hot-reset")?.summary
                == "the kernel can do no slot or bus reset of it (VFIO_DEVICE_GET_PCI_HOT_RESET_INFO: ENODEV)")
        #expect(r.verdict.mode == .vfio && r.device.readiness == .ready)
    }

    /// Only on an open device fd: --no-device-open never asks.
    @Test func notWithoutDeviceOpen() throws {
        let k = ScriptedKernel()
        _ = try liveProbe(.intelVFIOReady, devices: ["0000:01:00.0"], kernel: k, deviceOpen: false)
        #expect(!k.calls.contains(.step(.deviceGetPCIHotResetInfo)))
    }
}
