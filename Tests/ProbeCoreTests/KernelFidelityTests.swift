@testable import ACPI
import Foundation
@testable import Live
import SystemPackage
import Testing
@testable import ProbeCore

/// Each rule the probe applies is the kernel's rule for that kernel: its release, configuration,
/// IOMMU vendor and architecture. Every test names the kernel function it follows.
struct KernelFidelityTests {
    /// A fixture host read whole, with its release changed (the rules that moved between releases).
    func host(_ fixture: HostFixture, release: String? = nil) throws -> ProbeCore.Host {
        var h = HostReader(fs: try HostFS(root: fixture.path), lookUpNames: false).read(scope: .all)
        if let release { h = h.with { $0.kernel.release = .value(release) } }
        return h
    }

    func failedWalk(_ kind: LiveWalk.Kind = .type1, at step: LiveStepID, _ errno: Errno) -> LiveWalk {
        LiveWalk(kind: kind, steps: [LiveStep(.open(.container), .ok), LiveStep(step, .failed(errno))])
    }

    @Test func kernelVersionsParse() {
        #expect(KernelVersion(release: "6.12.95-vfiotest") == KernelVersion(6, 12))
        #expect(KernelVersion(release: "5.15.0-91-generic") == KernelVersion(5, 15))
        #expect(KernelVersion(release: "4.18.0-513.el8.x86_64") == KernelVersion(4, 18))
        #expect(KernelVersion(release: "garbage") == nil)
    }

    // MARK: 1. iommufd's emulated container

    /// iommufd_vfio_check_extension: no type1 module; CONFIG_IOMMUFD_VFIO_CONTAINER=y.
    @Test func emulatedContainerIsRecognised() throws {
        var h = try host(.intelVFIOReady)
        #expect(h.containerBackend == .type1)
        h = h.with { $0.modules.byName["vfio_iommu_type1"]?.state = .absent }
        #expect(h.containerBackend == .iommufd)
        #expect(h.unsafeInterruptsParameter.module == "iommufd", "iommufd.allow_unsafe_interrupts, not type1's")
    }

    /// iommufd_vfio_cc_iommu answers VFIO_DMA_CC_IOMMU with -ENODEV before an IOAS exists: one
    /// extension's error is "not offered", not a failed container.
    @Test func anExtensionsErrorIsNotAFailedContainer() throws {
        let k = ScriptedKernel()
        k.extensionErrors[4] = .operationNotSupportedByDevice
        k.extensions[6] = 0
        let r = try liveProbe(.intelVFIOReady, devices: ["0000:01:00.0"], kernel: k)
        let c = try #require(r.live?.container)
        #expect(c.succeeded)
        #expect(c.facts.extensions["DMA_CC"] == false && c.facts.extensions["TYPE1_NESTING"] == false)
        #expect(r.device.readiness == .ready)
    }

    /// iommufd_device_bind checks isolated MSIs when the emulated container opens the device:
    /// EPERM at VFIO_GROUP_GET_DEVICE_FD, and iommufd's parameter is the unsafe answer's action.
    @Test func emulatedContainerRefusesAtDeviceOpen() throws {
        var h = try host(.intelNoIR)
        h = h.with { $0.modules.byName["vfio_iommu_type1"]?.state = .absent }
        let d = try #require(h.device(PCIAddress("0000:00:02.0")!))
        let diag = try #require(LiveDiagnosis.of(failedWalk(at: .groupGetDeviceFD, .notPermitted), device: d, host: h))
        #expect(diag.cause.contains("iommufd refuses without iommufd.allow_unsafe_interrupts=1"))
        #expect(diag.impacts.contains { $0.mode == .unsafeInterrupts && $0.actions == [Actions.allowUnsafeInterrupts("iommufd")] })
        #expect(diag.impacts.contains { $0.mode == .vfio && $0.kind == .blocks && !$0.liveCanLift })
    }

    // MARK: 2. MSI isolation

    /// msi_device_has_isolated_msi: a GICv3 ITS isolates (IRQ_DOMAIN_FLAG_ISOLATED_MSI), GICv2m does not.
    @Test func armMSIIsolationFollowsTheController() throws {
        #expect(try host(.armITS).interruptIsolation.isolated == true)
        #expect(try host(.armGICv2m).interruptIsolation.isolated == false)
    }

    /// setup_irqremap / setup_nointremap: the last intremap=on/off or nointremap wins.
    @Test func intremapAppliesInOrder() throws {
        var h = try host(.intelVFIOReady)
        h = h.with { $0.kernel.cmdline = .value(KernelCommandLine("intremap=off intremap=on")) }
        #expect(h.remappingOffOnCommandLine == nil)
        h = h.with { $0.kernel.cmdline = .value(KernelCommandLine("intremap=on nointremap")) }
        #expect(h.remappingOffOnCommandLine == "nointremap")
        #expect(h.interruptIsolation.isolated == false)
    }

    // MARK: 3. direct regions, by release

    /// __iommu_device_set_domain's require_direct (v6.6, a48ce36e2786) refuses every IOMMU;
    /// before it only VT-d did (device_is_rmrr_locked), and AMD-Vi attached IVMD devices.
    @Test func directRegionsByRelease() throws {
        #expect(try host(.amdHost).directMappingRule.refuses == false, "6.1 AMD-Vi")
        #expect(try host(.amdHost, release: "6.6.0").directMappingRule.refuses == true)
        #expect(try host(.rmrrDirect, release: "6.1.0-27-amd64").directMappingRule.refuses == true, "VT-d refused before 6.6 too")
        var unknown = try host(.amdHost)
        unknown = unknown.with { $0.kernel.release = .unreadable(.permissionDenied("/proc/sys/kernel/osrelease")) }
        #expect(unknown.directMappingRule.refuses == true, "an unknown release refuses: no false yes")
    }

    // MARK: 4. the vfio-pci denylist

    /// vfio_pci_dev_in_denylist, vfio_pci_probe: -EINVAL unless disable_denylist.
    @Test func denylistedDevicesAreNotBindableAsIs() throws {
        let r = try probe(.qatDenylisted, devices: ["0000:3d:00.0"])
        let d = try #require(r.verdict.devices.first)
        #expect(d.readiness == .bindable)
        #expect(d.actions.first == DeviceDriverCheck.disableDenylist(builtIn: false))
        #expect(d.reasons.contains { $0.contains("denylist") })
    }

    // MARK: 5. the command line

    /// intel_iommu_setup applies its options in order; the AMD driver never reads intel_iommu=;
    /// the command line never overrules an IOMMU sysfs shows active (tboot_force_iommu).
    @Test func commandLineAsTheKernelReadsIt() throws {
        var h = try host(.intelIOMMUOff)
        h = h.with { $0.kernel.cmdline = .value(KernelCommandLine("intel_iommu=off intel_iommu=on")) }
        #expect(h.iommuDisablingParameter == nil)
        h = h.with { $0.kernel.cmdline = .value(KernelCommandLine("intel_iommu=on,igfx_off intel_iommu=off")) }
        #expect(h.iommuDisablingParameter == "intel_iommu=off")
        var amd = try host(.amdHost)
        amd = amd.with { $0.kernel.cmdline = .value(KernelCommandLine("intel_iommu=off")) }
        #expect(amd.iommuDisablingParameter == nil, "parse_amd_iommu_options does not read intel_iommu=")
        let active = try probe(.amdHost)
        #expect(active.verdict.mode == .vfio)
        let tboot = try host(.intelVFIOReady)
        var forced = tboot
        forced = forced.with { $0.kernel.cmdline = .value(KernelCommandLine("intel_iommu=off tboot=0x8c000")) }
        let findings = CommandLineCheck.evaluate(CheckContext(host: forced))
        #expect(findings.allSatisfy { $0.impacts.isEmpty }, "VT-d is active: the parameter explains nothing")
    }

    /// QEMU's default CPU says AuthenticAMD under an emulated VT-d: the DMAR decides the driver.
    @Test func theIOMMUVendorComesFromTheFirmware() throws {
        var h = try host(.intelIOMMUOff)
        h = h.with { $0.platform.cpuVendor = .value(.amd) }
        #expect(h.iommuVendor == .intel)
        #expect(h.iommuDisablingParameter == "intel_iommu=off")
    }

    // MARK: 6. errno diagnosis, by release

    /// device_is_rmrr_locked moved with the DMA-ownership rework: EPERM at VFIO_SET_IOMMU up to
    /// 5.18 and in 6.2-6.5, at VFIO_GROUP_SET_CONTAINER in 5.19-6.1; -EINVAL at SET_CONTAINER
    /// since 6.6 (require_direct).
    @Test(arguments: [
        ("5.15.0", LiveStepID.setIOMMU(.type1v2), Errno.notPermitted), ("6.1.0-27-amd64", .groupSetContainer, .notPermitted),
        ("6.4.0", .setIOMMU(.type1v2), .notPermitted), ("6.12.95", .groupSetContainer, .invalidArgument),
    ])
    func rmrrFailsWhereThatReleaseRefuses(release: String, step: LiveStepID, errno: Errno) throws {
        let h = try host(.rmrrDirect, release: release)
        let d = try #require(h.device(PCIAddress("0000:01:00.0")!))
        let diag = try #require(LiveDiagnosis.of(failedWalk(at: step, errno), device: d, host: h))
        #expect(diag.cause.contains("firmware direct mapping"), "\(release) \(step): \(diag.cause)")
        #expect(!diag.cause.contains("interrupt"))
        #expect(diag.impacts.allSatisfy { $0.kind == .blocks })
    }

    /// The same EPERM at VFIO_SET_IOMMU on 6.1 is no RMRR (it is refused at SET_CONTAINER there),
    /// and with interrupts remapped it is not the interrupts either.
    @Test func eperm61AtSetIOMMUIsNotAnRMRR() throws {
        let h = try host(.rmrrDirect, release: "6.1.0-27-amd64")
        let d = try #require(h.device(PCIAddress("0000:01:00.0")!))
        let diag = try #require(LiveDiagnosis.of(failedWalk(at: .setIOMMU(.type1v2), .notPermitted), device: d, host: h))
        #expect(diag.cause.contains("no firmware RMRR of the group explains it"))
    }

    /// vfio_df_ioctl_bind_iommufd: EBUSY when the group is open through /dev/vfio/N;
    /// vfio_pci_validate_vf_token: a PF whose VFs are in use needs the token (EACCES).
    @Test func cdevAndTokenErrnos() throws {
        let h = try host(.sriovPF)
        let pf = try #require(h.device(PCIAddress("0000:01:00.0")!))
        let busy = try #require(LiveDiagnosis.of(failedWalk(.iommufd, at: .deviceBindIOMMUFD, .resourceBusy), device: pf, host: h))
        #expect(busy.cause.contains("open through /dev/vfio/30"))
        let token = try #require(LiveDiagnosis.of(failedWalk(at: .groupGetDeviceFD, .permissionDenied), device: pf, host: h))
        #expect(token.cause.contains("this PF's VFs are in use"))
    }

    // MARK: 7. a PF with SR-IOV enabled

    /// vfio_pci_core_register_device: "Cannot bind to PF with SR-IOV enabled" (-EBUSY).
    @Test func pfWithVFsIsDestroyedFirstAndSaysSo() {
        let step = Actions.disableSRIOV(PCIAddress("0000:01:00.0")!, vfs: [], count: 4)
        #expect(step.hasPrefix("echo 0 > /sys/bus/pci/devices/0000:01:00.0/sriov_numvfs  # DESTRUCTIVE: destroys its 4 VFs"))
    }

    // MARK: 8. memlock

    /// vfio_noiommu_ops pins nothing: no-IOMMU needs no locked memory.
    @Test func noIOMMUNeedsNoMemlock() throws {
        let r = try probe(.nonroot, devices: ["0000:00:03.0"])
        let mem = r.findings.filter { $0.checkID == "process.memlock" }
        #expect(mem.allSatisfy { $0.impacts.allSatisfy { $0.mode != .noiommu } })
    }

    // MARK: 9. remedies that exist

    /// parse_amd_iommu_options has no "on"; an IORT with no SMMU node cannot be fixed with
    /// iommu.passthrough=0; CONFIG_INTEL_IOMMU_DEFAULT_ON_INTGPU_OFF turns VT-d on by default.
    @Test func remediesThatExist() throws {
        var amd = try host(.amdHost)
        amd = amd.with { $0.iommuUnits = .value([]) }
        #expect(!amd.iommuEnableAction.contains("amd_iommu=on"))
        let arm = try host(.armITS)
        #expect(arm.iommuEnableAction.contains("IORT") && arm.iommuEnableAction.contains("does not create one"))
        var debian = try host(.intelIOMMUOff)
        debian = debian.with {
            $0.kernel.config = .value(KernelConfig("CONFIG_INTEL_IOMMU=y\nCONFIG_INTEL_IOMMU_DEFAULT_ON_INTGPU_OFF=y\n"))
        }
        #expect(debian.vtdOnByDefault == true)
        #expect(debian.iommuEnableAction == Actions.kernelParameter(replace: "intel_iommu=off", with: "intel_iommu=on"))
        var noDriver = try host(.intelIOMMUOff)
        noDriver = noDriver.with { $0.kernel.config = .value(KernelConfig("# CONFIG_INTEL_IOMMU is not set\nCONFIG_IOMMU_SUPPORT=y\n")) }
        #expect(noDriver.iommuEnableAction == "use a kernel built with CONFIG_INTEL_IOMMU")
    }

    // MARK: 10. group viability, by release

    /// driver_managed_dma (5.19+): pcieport is fine on any function, an RCEC included;
    /// vfio_dev_driver_allowed (<5.19): any driver on a non-type-0 function, pci-stub on the rest.
    @Test func groupViabilityByRelease() throws {
        var rcec = PCIDevice(address: PCIAddress("0000:00:1e.0")!, vendorID: 0x8086, deviceID: 0x1234, classCode: 0x080700)
        rcec.headerType = 0
        rcec.driver = "pcieport"
        var bridge = PCIDevice(address: PCIAddress("0000:00:1c.0")!, vendorID: 0x8086, deviceID: 0x1235, classCode: 0x060400)
        bridge.headerType = 1
        bridge.driver = "shpchp"
        let new = try host(.intelVFIOReady)
        let old = try host(.intelVFIOReady, release: "5.15.0")
        #expect(new.keepsGroupViable(rcec) && !new.keepsGroupViable(bridge))
        #expect(!old.keepsGroupViable(rcec) && old.keepsGroupViable(bridge))
    }

    // MARK: 11. firmware scopes as the kernel resolves them

    /// is_downstream_to_pci_bridge: an RMRR scope naming a bridge covers every function below it.
    @Test func rmrrBridgeScopeCoversWhatIsBelow() {
        var map = IdentityMap(
            source: .rmrr, index: 0, base: 0x1000, end: 0x1fff, allDevices: false, devices: [], ranges: [], unresolved: [])
        map.bridges = [PCIAddress("0000:00:01.0")!]
        var nic = PCIDevice(address: PCIAddress("0000:01:00.1")!, vendorID: 0x8086, deviceID: 0x1572, classCode: 0x020000)
        nic.parents = [PCIAddress("0000:00:01.0")!]
        let elsewhere = PCIDevice(address: PCIAddress("0000:02:00.0")!, vendorID: 0x8086, deviceID: 0x1572, classCode: 0x020000)
        #expect(map.covers(nic) && !map.covers(elsewhere))
    }

    /// init_memory_definitions: only an exclusion range or a unity map becomes a direct region;
    /// an IVMD's device ids are in its PCI segment (ivmd_header.pci_seg).
    @Test func ivmdFlagsAndSegment() {
        let readOnly = IVRS.IVMD(type: 0x21, flags: 0x06, deviceID: 0x0403, auxiliaryData: 0, start: 0, length: 0x1000)
        #expect(!readOnly.countsForTheKernel)
        #expect(IVRS.IVMD(type: 0x21, flags: 0x01, deviceID: 0x0403, auxiliaryData: 0, start: 0, length: 0x1000).countsForTheKernel)
        var map = IdentityMap(
            source: .ivmd, index: 0, base: 0, end: 0xfff, allDevices: false, devices: [], ranges: [0x0400...0x04ff], unresolved: [])
        map.segment = 1
        let seg0 = PCIDevice(address: PCIAddress("0000:04:00.3")!, vendorID: 0x1022, deviceID: 0x149c, classCode: 0x0c0330)
        let seg1 = PCIDevice(address: PCIAddress("0001:04:00.3")!, vendorID: 0x1022, deviceID: 0x149c, classCode: 0x0c0330)
        #expect(!map.covers(seg0) && map.covers(seg1))
    }

    /// dmar_find_matched_drhd_unit looks a VF up through pci_physfn: a VF is covered as its PF is.
    @Test func aVFIsCoveredAsItsPF() {
        var c = IOMMUCoverage(source: "DMAR")
        c.endpoints = [PCIAddress("0000:01:00.0")!]
        let pf = PCIDevice(address: PCIAddress("0000:01:00.0")!, vendorID: 0x8086, deviceID: 0x159b, classCode: 0x020000)
        var vf = PCIDevice(address: PCIAddress("0000:01:02.0")!, vendorID: 0x8086, deviceID: 0x1889, classCode: 0x020000)
        vf.physfn = pf.address
        #expect(!c.covers(vf) && c.covers(vf, physfn: pf))
    }

    // MARK: 12. hypervisors and platforms

    /// Cloud Hypervisor's PCI host bridge is 8086:0d57; Firecracker took the same code.
    @Test func microVMsAreNamed() throws {
        let h = try host(.microvmGuest)
        #expect(h.platform.hypervisor == .cloudHypervisorOrFirecracker)
        #expect(h.vIOMMURemedy?.contains("Firecracker offers no vIOMMU") == true)
    }

    /// TAINT_FWCTL is bit 19 since 6.15.
    @Test func taintBit19() {
        #expect(Kernel.taintNames.contains { $0.bit == 19 && $0.letter == "J" })
    }

    // MARK: the kernel review's findings

    /// vfio_iommu_type1_attach_group attaches (device_is_rmrr_locked) before it checks MSIs: on
    /// 6.4 an RMRR device without interrupt remapping fails for the RMRR, and the unsafe
    /// parameter would not help.
    @Test func rmrrAnswersBeforeInterrupts() throws {
        var h = try host(.rmrrDirect, release: "6.4.0")
        h = h.with { $0.kernel.cmdline = .value(KernelCommandLine("intremap=off")) }
        #expect(h.interruptIsolation.isolated == false)
        let d = try #require(h.device(PCIAddress("0000:01:00.0")!))
        let diag = try #require(LiveDiagnosis.of(failedWalk(at: .setIOMMU(.type1v2), .notPermitted), device: d, host: h))
        #expect(diag.cause.contains("firmware direct mapping"))
        #expect(!diag.impacts.contains { $0.mode == .unsafeInterrupts && $0.kind == .requires })
    }

    /// iommufd's container before 6.6: iommu_attach_group refuses the RMRR at GET_DEVICE_FD, EPERM.
    @Test func emulatedContainerRMRRBefore66() throws {
        var h = try host(.rmrrDirect, release: "6.4.0")
        h = h.with { $0.modules.byName["vfio_iommu_type1"]?.state = .absent }
        let d = try #require(h.device(PCIAddress("0000:01:00.0")!))
        let diag = try #require(LiveDiagnosis.of(failedWalk(at: .groupGetDeviceFD, .notPermitted), device: d, host: h))
        #expect(diag.cause.contains("firmware direct mapping"))
    }

    /// vfio_df_open: EINVAL when another cdev fd has the device bound; require_direct refuses at
    /// bind, so an ATTACH_IOMMUFD_PT EINVAL is no RMRR.
    @Test func cdevEINVALs() throws {
        let h = try host(.intelVFIOReady)
        let d = try #require(h.device(PCIAddress("0000:01:00.0")!))
        let bind = try #require(LiveDiagnosis.of(failedWalk(.iommufd, at: .deviceBindIOMMUFD, .invalidArgument), device: d, host: h))
        #expect(bind.cause.contains("bound through another /dev/vfio/devices fd"))
        let attach = try #require(LiveDiagnosis.of(failedWalk(.iommufd, at: .deviceAttachIOMMUFDPT, .invalidArgument), device: d, host: h))
        #expect(attach.cause.contains("incompatible") && !attach.cause.contains("RMRR"))
    }

    /// Only the remapping MSI parents name chips "IR-PCI-MSI…"; an IR-IO-APIC alone (Hyper-V's
    /// HYPERV-IR) proves nothing without a VT-d or AMD-Vi unit.
    @Test func anIRIOAPICAloneIsNoRemapping() throws {
        var h = try host(.virtioNoAccessPlatform)
        h = h.with { $0.kernel.interruptChips = .value(["IR-IO-APIC"]) }
        #expect(h.interruptIsolation.isolated == false)
        var intel = try host(.intelVFIOReady)
        intel = intel.with { $0.kernel.interruptChips = .value(["IR-IO-APIC"]) }
        #expect(intel.interruptIsolation.isolated == true)
    }

    /// vfio_pci_dev_in_denylist: QAT since 5.9, DSA/IAX since the 2024 fix.
    @Test func denylistByRelease() {
        let qat = PCIDevice(address: PCIAddress("0000:3d:00.0")!, vendorID: 0x8086, deviceID: 0x37c8, classCode: 0x0b4000)
        let dsa = PCIDevice(address: PCIAddress("0000:6a:01.0")!, vendorID: 0x8086, deviceID: 0x0b25, classCode: 0x088000)
        #expect(!Actions.denylisted(qat, on: KernelVersion(5, 4)) && Actions.denylisted(qat, on: KernelVersion(5, 10)))
        #expect(!Actions.denylisted(dsa, on: KernelVersion(5, 15)) && Actions.denylisted(dsa, on: KernelVersion(6, 12)))
    }

    /// The VF token arrived in 5.7: before it, a VF of a vfio-pci PF opens without one.
    @Test func vfTokenFrom57() throws {
        var h = try host(.sriovPF, release: "5.4.0")
        h = h.with { $0.selected = [PCIAddress("0000:01:02.0")!] }
        let f = SRIOVCheck.evaluate(CheckContext(host: h))
        #expect(f.allSatisfy { $0.impacts.isEmpty })
    }

    /// rlookup_amd_iommu finds a VF by its own device id: under AMD-Vi the PF does not stand in.
    @Test func amdVFsAreLookedUpByTheirOwnID() {
        var c = IOMMUCoverage(source: "IVRS")
        c.endpoints = [PCIAddress("0000:01:00.0")!]
        let pf = PCIDevice(address: PCIAddress("0000:01:00.0")!, vendorID: 0x8086, deviceID: 0x159b, classCode: 0x020000)
        var vf = PCIDevice(address: PCIAddress("0000:01:02.0")!, vendorID: 0x8086, deviceID: 0x1889, classCode: 0x020000)
        vf.physfn = pf.address
        #expect(!c.covers(vf, physfn: pf))
    }

    /// init_unity_map_range: an IVMD for all devices covers its own segment only.
    @Test func ivmdForAllDevicesIsPerSegment() {
        var map = IdentityMap(source: .ivmd, index: 0, base: 0, end: 0xfff, allDevices: true, devices: [], ranges: [], unresolved: [])
        map.segment = 1
        #expect(!map.covers(PCIDevice(address: PCIAddress("0000:04:00.3")!, vendorID: 1, deviceID: 1, classCode: 0)))
        #expect(map.covers(PCIDevice(address: PCIAddress("0001:04:00.3")!, vendorID: 1, deviceID: 1, classCode: 0)))
    }

    /// platform_dma_configure: a platform device on its driver takes the default domain, so the
    /// group is not viable unless that driver is VFIO's.
    @Test func platformMembersCount() throws {
        var h = try host(.intelVFIOReady)
        h = h.with { $0.scope = .devices([PCIAddress("0000:01:00.0")!]) }
        h = h.with { $0.selected = [PCIAddress("0000:01:00.0")!] }
        var g = try #require(h.groups[10])
        g.members = ["0000:01:00.0", "soc:dma@1000"]
        g.otherDrivers = ["soc:dma@1000": "pl330"]
        h = h.with { $0.groups[10] = g }
        let f = GroupViabilityCheck.evaluate(CheckContext(host: h))
        #expect(f.first?.status == .warn && f.first?.summary.contains("soc:dma@1000 (not PCI) on pl330") == true)
    }
}
