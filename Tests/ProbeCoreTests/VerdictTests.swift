import Foundation
import Testing
@testable import ProbeCore

/// The verdict on each fixture: mode, readiness and the exact actions.
struct VerdictTests {
    func device(_ r: Report, _ bdf: String) -> DeviceVerdict? {
        r.verdict.devices.first { $0.address.description == bdf }
    }

    @Test func intelReady() throws {
        let r = try probe(.intelVFIOReady)
        #expect(r.verdict.mode == .vfio)
        #expect(r.verdict.actions.isEmpty)
        #expect(r.verdict.exitCode == 0)
        #expect(device(r, "0000:01:00.0")?.readiness == .ready)
        let other = try #require(device(r, "0000:01:00.1"))
        #expect(other.readiness == .bindable)
        #expect(other.actions == Actions.bindToVFIO(PCIAddress("0000:01:00.1")!, currentDriver: "i40e"))
        #expect(device(r, "0000:00:01.0")?.readiness == .blocked)
    }

    @Test func deviceScopeReadsOnlyTheDeviceItsGroupAndTheBridgesAbove() throws {
        let r = try probe(.intelVFIOReady, devices: ["0000:01:00.0"])
        #expect(r.verdict.mode == .vfio)
        // The root port above it: its ACS decides the group (pci_device_group).
        #expect(Set(r.host.devices.keys.map(\.description)) == ["0000:00:01.0", "0000:01:00.0"])
        #expect(Set(r.host.groups.keys) == [10])
        #expect(r.verdict.devices.map(\.readiness) == [.ready])
        #expect(r.verdict.summary == "safe VFIO is usable and the device is ready")
    }

    @Test func sharedGroupNeedsTheCompanionBound() throws {
        let r = try probe(.sharedGroup, devices: ["0000:01:00.0"])
        #expect(r.verdict.mode == .vfio)
        #expect(Set(r.host.devices.keys.map(\.description)) == ["0000:00:01.0", "0000:01:00.0", "0000:01:00.1"])
        let d = try #require(device(r, "0000:01:00.0"))
        #expect(d.readiness == .bindable)
        #expect(d.actions == Actions.bindToVFIO(PCIAddress("0000:01:00.1")!, currentDriver: "ixgbe"))
        #expect(d.reasons == ["IOMMU group 10 is shared with 0000:01:00.1 on ixgbe"])
    }

    @Test func iommuOffFallsBackToNoIOMMUWithTheFix() throws {
        let r = try probe(.intelIOMMUOff)
        #expect(r.verdict.mode == .noiommu)
        #expect(r.verdict.exitCode == 2)
        #expect(r.verdict.actions == [Actions.enableNoIOMMU])
        #expect(r.verdict.upgrade?.mode == .vfio)
        #expect(r.verdict.upgrade?.actions.contains(Actions.kernelParameter(replace: "intel_iommu=off", with: "intel_iommu=on")) == true)
        let d = try #require(device(r, "0000:00:02.0"))
        #expect(d.mode == .noiommu && d.readiness == .bindable)
        #expect(d.actions == [Actions.enableNoIOMMU] + Actions.bindToVFIO(PCIAddress("0000:00:02.0")!, currentDriver: "e1000e"))
    }

    @Test func amdHostNeedsTheModuleAndBinding() throws {
        let r = try probe(.amdHost, devices: ["0000:03:00.0"])
        #expect(r.verdict.mode == .vfio)
        let d = try #require(device(r, "0000:03:00.0"))
        #expect(d.readiness == .bindable)
        #expect(d.actions == [Actions.loadVFIO] + Actions.bindToVFIO(PCIAddress("0000:03:00.0")!, currentDriver: "mlx5_core"))
    }

    @Test func noIOMMUEnabledDeviceReady() throws {
        let r = try probe(.noiommuEnabled, devices: ["0000:00:03.0"])
        #expect(r.verdict.mode == .noiommu)
        #expect(device(r, "0000:00:03.0")?.readiness == .ready)
        #expect(r.verdict.upgrade?.actions.first == IOMMUTableCheck.qemuRemedy, "a QEMU guest is told how to get a vIOMMU")
    }

    @Test func noIOMMUNotCompiledIsNothing() throws {
        let r = try probe(.noiommuNotCompiled)
        #expect(r.verdict.mode == .unusable)
        #expect(r.verdict.exitCode == 3)
        #expect(r.verdict.reasons.contains("the kernel is built without CONFIG_VFIO_NOIOMMU"))
        #expect(device(r, "0000:00:03.0")?.readiness == .blocked)
    }

    @Test func rmrrBlocksTheDevice() throws {
        let r = try probe(.rmrrDirect, devices: ["0000:01:00.0"])
        #expect(r.verdict.mode == .unusable)
        let d = try #require(device(r, "0000:01:00.0"))
        #expect(d.readiness == .blocked)
        #expect(d.reasons.contains { $0.contains("RMRR") })
        #expect(d.actions == [ReservedRegionsCheck.descriptor.remedy])
        // The host as a whole still offers VFIO.
        #expect(try probe(.rmrrDirect).verdict.mode == .vfio)
    }

    /// Without interrupt remapping, safe VFIO is not available: the parameter that lets type1
    /// through gives its own, unsafe answer, and is never an action towards "safe"
    /// (vfio_iommu_type1_attach_group refuses without it: "No interrupt remapping support").
    @Test func noInterruptRemappingIsNotSafeVFIO() throws {
        let r = try probe(.intelNoIR, devices: ["0000:00:02.0"])
        #expect(r.verdict.mode == .unsafeInterrupts)
        #expect(r.verdict.exitCode == 5)
        #expect(r.verdict.exitStatus(requiring: .vfio) == 5, "--require vfio never passes without interrupt isolation")
        #expect(r.verdict.exitStatus(requiring: .unsafeInterrupts) == 4, "usable once the operator accepts the risk")
        let d = try #require(device(r, "0000:00:02.0"))
        #expect(d.readiness == .bindable)
        #expect(d.actions == [Actions.allowUnsafeInterrupts()])
        #expect(r.verdict.upgrade?.mode == .vfio)
        #expect(
            r.verdict.upgrade?.actions == [
                "give the guest an IOMMU with interrupt remapping: in QEMU, -device intel-iommu,intremap=on with -machine kernel-irqchip=split"
            ])
        #expect(!(r.verdict.upgrade?.actions.contains(Actions.allowUnsafeInterrupts()) ?? true))
        #expect(r.verdict.summary.contains("a device can forge MSIs"))
    }

    /// An operator who already set allow_unsafe_interrupts gets that answer, with its risk, and
    /// gates on it with --require unsafe-interrupts.
    @Test func operatorsUnsafeInterruptsAreTheirChoice() throws {
        let r = try probe(.virtioNoAccessPlatform, devices: ["0000:00:04.0"])
        #expect(r.verdict.mode == .unsafeInterrupts)
        let ir = try #require(r.findings.first { $0.checkID == "iommu.irq-remapping" })
        #expect(ir.status == .warn && ir.summary.contains("the operator set vfio_iommu_type1.allow_unsafe_interrupts=Y"))
        #expect(ir.impacts.allSatisfy { $0.mode == .vfio && $0.kind == .blocks && !$0.liveCanLift })
    }

    @Test func uioBindingIsRebindable() throws {
        let r = try probe(.uioBound, devices: ["0000:01:00.0"])
        #expect(r.verdict.mode == .vfio)
        let d = try #require(device(r, "0000:01:00.0"))
        #expect(d.readiness == .bindable)
        #expect(d.actions == Actions.bindToVFIO(PCIAddress("0000:01:00.0")!, currentDriver: "uio_pci_generic"))
    }

    @Test func hyperVGuestHasNothing() throws {
        let r = try probe(.hyperVGuest)
        #expect(r.verdict.mode == .unusable)
        #expect(r.host.devices.keys.map(\.description) == ["7870:00:02.0"])
        #expect(r.verdict.reasons.contains("the kernel is built without CONFIG_VFIO_NOIOMMU"))
    }

    /// vfio_pci_validate_vf_token: with the PF on vfio-pci, the VF opens only with its token.
    @Test func sriovVFsNeedTheTokenOfAVFIOPF() throws {
        let r = try probe(.sriovPF, devices: ["0000:01:02.0"])
        #expect(r.verdict.mode == .vfio)
        #expect(r.host.devices[PCIAddress("0000:01:00.0")!] != nil, "the PF is read for a VF")
        let vf = try #require(device(r, "0000:01:02.0"))
        #expect(vf.readiness == .bindable)
        #expect(vf.actions == ["open 0000:01:02.0 with the PF owner's VF token: \(SRIOVCheck.descriptor.remedy)"])
        #expect(r.findings.contains { $0.checkID == "device.sriov" && $0.status == .warn })
    }

    @Test func virtioWithoutAccessPlatformIsBlocked() throws {
        let r = try probe(.virtioNoAccessPlatform, devices: ["0000:00:03.0"])
        #expect(r.verdict.mode == .unusable)
        #expect(try probe(.virtioNoAccessPlatform, devices: ["0000:00:04.0"]).verdict.mode == .unsafeInterrupts)
    }

    @Test func containerWithoutNodesHasNothing() throws {
        let r = try probe(.container)
        #expect(r.verdict.mode == .unusable)
        #expect(r.verdict.reasons == ["/dev/vfio/vfio is missing"])
    }

    @Test func nonRootSeesLessButDoesNotPass() throws {
        let r = try probe(.nonroot, devices: ["0000:00:03.0"])
        #expect(r.verdict.mode == .noiommu)
        let d = try #require(device(r, "0000:00:03.0"))
        #expect(d.readiness == .bindable)
        #expect(d.actions.contains(NoIOMMUPrivilegesCheck.descriptor.remedy))
        #expect(r.host.devices[PCIAddress("0000:00:03.0")!]?.configComplete == false)
        #expect(r.host.kernel.config.isUnreadable)
        #expect(!r.findings.contains { $0.checkID == "noiommu.privileges" && $0.status == .pass })
    }

    /// A DPDK user's view: the group node is root's and 8 MiB of locked memory starves DMA.
    @Test func serviceUserNeedsNodeAccessAndMemlock() throws {
        let r = try probe(.intelNonroot, devices: ["0000:01:00.0"])
        #expect(r.verdict.mode == .vfio)
        let d = try #require(device(r, "0000:01:00.0"))
        #expect(d.readiness == .bindable)
        #expect(d.actions == [MemlockCheck.descriptor.remedy, DevNodesCheck.descriptor.remedy])
        #expect(d.reasons.contains("locked memory is limited to 8 MiB (below 64 MiB) without CAP_IPC_LOCK"))
    }

    @Test func mixedModesHaveNothingInCommon() throws {
        // A device in an IOMMU group and one outside every group: type1 and no-IOMMU cannot mix.
        let r = try probe(.virtioNoAccessPlatform, devices: ["0000:00:04.0", "0000:00:00.0"])
        #expect(r.verdict.mode == .unusable)
        #expect(r.verdict.reasons.contains { $0.hasPrefix("the devices have no mode in common") })
    }

    @Test func missingDeviceIsNothing() throws {
        let r = try probe(.intelVFIOReady, devices: ["0000:09:00.0"])
        #expect(r.verdict.mode == .unusable)
        #expect(r.host.missing.map(\.description) == ["0000:09:00.0"])
        #expect(r.verdict.reasons == ["0000:09:00.0: no such PCI device"])
    }

    @Test func partialVerdictSaysSo() throws {
        let r = try probe(.intelVFIOReady, only: ["device"])
        #expect(!r.verdict.notRun.isEmpty)
        #expect(r.verdict.summary.contains("partial verdict"))
    }

    /// A host large enough that the checks and the verdict run on all cores, the verdict in slices
    /// of devices that each fold their own findings: every device's verdict is the one a
    /// `--device` run (one slice, no threads) draws for it.
    @Test func largeHostVerdictInSlicesMatchesDeviceScope() throws {
        let dir = try syntheticHost(pfs: 8, vfs: 63)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var o = Pipeline.Options()
        o.root = dir
        let r = try Pipeline.run(o)
        #expect(r.verdict.devices.count == 520)
        #expect(r.verdict.devices.map(\.address) == r.host.selected, "in address order across the slices")
        for dv in r.verdict.devices {
            let d = try #require(r.host.devices[dv.address])
            switch d.driver {
            case "vfio-pci": #expect(dv.readiness == .ready && dv.mode == .vfio, "\(d.bdf)")
            case "pcieport": #expect(dv.readiness == .blocked && dv.deviceReasons.contains("\(d.bdf) is a bridge"), "\(d.bdf)")
            default: #expect(dv.readiness == .bindable && dv.deviceReasons == ["\(d.bdf) is not bound to vfio-pci"], "\(d.bdf)")
            }
        }
        // Devices at the start, around the slice boundaries and at the end, one at a time.
        for i in [0, 1, 259, 260, 261, 519] {
            let dv = r.verdict.devices[i]
            o.devices = [dv.address]
            let scoped = try #require(try Pipeline.run(o).verdict.devices.first)
            #expect(scoped == dv, "\(dv.address)")
        }
    }
}
