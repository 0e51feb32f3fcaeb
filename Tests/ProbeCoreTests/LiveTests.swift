import CShim
import Foundation
#if canImport(Glibc)
import Glibc
#endif
@testable import Live
import SystemPackage
import Testing
@testable import ProbeCore

/// Reads a fixture, runs the live walks against a scripted kernel, and folds the verdict.
func liveProbe(
    _ fixture: HostFixture, devices: [String], kernel: ScriptedKernel, deviceOpen: Bool = true, workload: Workload = Workload()
) throws -> Report {
    try liveProbe(root: fixture.path, devices: devices, kernel: kernel, deviceOpen: deviceOpen, workload: workload)
}

/// The live walks over a tree (a fixture's changed copy), with `kernel` answering the ioctls.
func liveProbe(
    root: String, devices: [String], kernel: ScriptedKernel, deviceOpen: Bool = true, workload: Workload = Workload()
) throws -> Report {
    let fs = try HostFS(root: root)
    let host = HostReader(fs: fs, lookUpNames: false).read(scope: .devices(devices.compactMap(PCIAddress.init)))
    let live = LiveProber(kernel: kernel, fs: fs, deviceOpen: deviceOpen, workloadMappings: workload.mappings(on: host)).run(host: host)
    let findings = CheckRegistry.run(CheckRegistry.all, CheckContext(host: host, live: live, workload: workload))
    let verdict = VerdictBuilder.build(host: host, findings: findings, live: live, deviceScoped: true)
    return Report(
        host: host, checks: CheckRegistry.all.map { $0.descriptor }, findings: findings, verdict: verdict, deviceScoped: true, live: live)
}

extension Report {
    func finding(_ id: String) -> Finding? { findings.first { $0.checkID == id } }
    var device: DeviceVerdict { verdict.devices[0] }
}

struct LiveWalkTests {
    @Test func type1AndIOMMUFDSucceed() throws {
        let k = ScriptedKernel()
        let r = try liveProbe(.intelVFIOReady, devices: ["0000:01:00.0"], kernel: k)
        #expect(k.leftNothingBehind)
        let walk = try #require(r.live?.walk(.type1, for: PCIAddress("0000:01:00.0")!))
        #expect(walk.succeeded)
        #expect(
            walk.steps.map(\.name) == [
                "open /dev/vfio/vfio", "VFIO_GET_API_VERSION", "VFIO_CHECK_EXTENSION", "open /dev/vfio/10", "VFIO_GROUP_GET_STATUS",
                "VFIO_GROUP_SET_CONTAINER", "VFIO_SET_IOMMU(TYPE1v2)", "VFIO_IOMMU_GET_INFO", "mmap DMA buffer", "VFIO_IOMMU_MAP_DMA",
                "VFIO_IOMMU_UNMAP_DMA", "VFIO_GROUP_GET_DEVICE_FD", "VFIO_DEVICE_GET_INFO", "VFIO_DEVICE_GET_REGION_INFO(config)",
                "pread config space", "VFIO_DEVICE_GET_IRQ_INFO", "VFIO_DEVICE_GET_PCI_HOT_RESET_INFO",
            ])
        #expect(walk.facts.mappedIOVA == 0x1_0000_0000, "first 4 GiB-aligned IOVA inside the ranges")
        #expect(walk.facts.unmappedSize == 0x4000)
        #expect(walk.facts.irqCounts == ["INTx": 1, "MSI": 1, "MSI-X": 64])
        let t1 = try #require(r.finding("live.type1"))
        #expect(t1.status == .pass)
        #expect(t1.summary == "type1 (TYPE1v2) works: mapped 0x4000 bytes at IOVA 0x100000000 and unmapped them")
        #expect(t1.detail?.contains("config space through VFIO: 8086:1572, as sysfs says") == true)
        let fd = try #require(r.finding("live.iommufd"))
        #expect(fd.status == .pass)
        #expect(fd.detail?.contains("Intel VT-d, cap 0xd2008c406f0462 (MGAW 48 bits)") == true)
        #expect(r.verdict.mode == .vfio && r.device.readiness == .ready)
        #expect(r.verdict.disagreements.isEmpty)
        // The legacy walk is closed before the cdev is opened: they exclude each other.
        let cdevOpen = try #require(k.calls.firstIndex(of: .step(.open(.cdev("vfio0")))))
        let groupClose = try #require(k.calls.firstIndex(of: .close("/dev/vfio/10")))
        #expect(groupClose < cdevOpen)
    }

    /// vfio_iommu_type1_attach_group: "No interrupt remapping support. Use the module param
    /// \"allow_unsafe_interrupts\" to enable VFIO IOMMU support on this platform" (-EPERM).
    @Test func noInterruptRemappingAtSetIOMMU() throws {
        let k = ScriptedKernel()
        k.failures[.setIOMMU(.type1v2)] = .notPermitted
        k.config = [0x86, 0x80, 0xd3, 0x10]
        let r = try liveProbe(.intelNoIR, devices: ["0000:00:02.0"], kernel: k)
        #expect(k.leftNothingBehind)
        let f = try #require(r.finding("live.type1"))
        #expect(f.status == .fail)
        #expect(
            f.summary.hasPrefix(
                "VFIO_SET_IOMMU(TYPE1v2) failed with EPERM: MSIs are not isolated (the IOMMU does not support it (VT-d ecap.IR = 0))"))
        #expect(f.remedy == InterruptRemappingCheck.descriptor.remedy)
        #expect(r.verdict.mode == .unsafeInterrupts)
        #expect(r.device.readiness == .bindable)
        #expect(r.device.actions == [Actions.allowUnsafeInterrupts()])
        #expect(r.verdict.disagreements.isEmpty, "sysfs already said so")
        let walk = try #require(r.live?.walk(.type1, for: PCIAddress("0000:00:02.0")!))
        #expect(
            walk.steps.drop { $0.name != "VFIO_IOMMU_GET_INFO" }.allSatisfy { $0.outcome == .skipped },
            "later steps are recorded as skipped")
        #expect(!k.calls.contains(.step(.iommuMapDMA)))
    }

    /// With interrupts remapped, EPERM at VFIO_SET_IOMMU is not the interrupts: never blame them
    /// (kernels up to 5.18 and 6.2-6.5 refuse an RMRR device there, device_is_rmrr_locked).
    @Test func setIOMMUPermissionWithRemappingDoesNotBlameInterrupts() throws {
        let k = ScriptedKernel()
        k.failures[.setIOMMU(.type1v2)] = .notPermitted
        let r = try liveProbe(.intelVFIOReady, devices: ["0000:01:00.0"], kernel: k)
        let f = try #require(r.finding("live.type1"))
        #expect(!f.summary.contains("not isolated") && f.summary.contains("refused although MSIs are isolated"))
        #expect(!r.device.actions.contains(Actions.allowUnsafeInterrupts()))
        #expect(r.device.readiness == .blocked)
    }

    @Test func busyGroupNamesTheHolder() throws {
        let k = ScriptedKernel()
        k.failures[.open(.group(10))] = .resourceBusy
        let r = try liveProbe(.intelVFIOReady, devices: ["0000:01:00.0"], kernel: k)
        #expect(k.leftNothingBehind)
        let f = try #require(r.finding("live.type1"))
        #expect(f.summary == "open /dev/vfio/10 failed with EBUSY: it is in use by pid 4242 (dpdk-testpmd); vfio-probe leaves it alone")
        #expect(r.device.actions == ["stop pid 4242 (dpdk-testpmd)"])
    }

    @Test func notViableNamesTheCompanions() throws {
        let k = ScriptedKernel()
        k.groupFlags = 0
        let r = try liveProbe(.sharedGroup, devices: ["0000:01:00.0"], kernel: k)
        #expect(k.leftNothingBehind)
        let f = try #require(r.finding("live.type1"))
        #expect(f.summary == "VFIO_GROUP_GET_STATUS: group 10 is not viable: 0000:01:00.1 on ixgbe")
        #expect(r.device.readiness == .bindable)
        #expect(r.device.actions == Actions.bindToVFIO(PCIAddress("0000:01:00.1")!, currentDriver: "ixgbe"))
    }

    /// EINVAL at VFIO_GROUP_SET_CONTAINER on a device no firmware direct mapping names: refused
    /// a domain, without blaming an RMRR (KernelFidelityTests covers the RMRR itself).
    @Test func refusedDomainAtSetContainerBlocks() throws {
        let k = ScriptedKernel()
        k.failures[.groupSetContainer] = .invalidArgument
        let r = try liveProbe(.intelVFIOReady, devices: ["0000:01:00.0"], kernel: k)
        #expect(k.leftNothingBehind)
        #expect(r.finding("live.type1")?.summary.contains("no firmware direct mapping explains it") == true)
        #expect(r.verdict.mode == .unusable && r.device.readiness == .blocked)
    }

    @Test func memlockAtMapDMA() throws {
        let k = ScriptedKernel()
        k.failures[.iommuMapDMA] = .noMemory
        let r = try liveProbe(.intelVFIOReady, devices: ["0000:01:00.0"], kernel: k)
        #expect(k.leftNothingBehind, "the buffer is unmapped on the error path")
        let f = try #require(r.finding("live.type1"))
        #expect(
            f.summary
                == "VFIO_IOMMU_MAP_DMA failed with ENOMEM: RLIMIT_MEMLOCK is exceeded (the limit is 8 MiB); pinned DMA memory is charged to it"
        )
        #expect(r.device.actions == [MemlockCheck.descriptor.remedy])
    }

    @Test func dmaEntryLimitAtMapDMA() throws {
        let k = ScriptedKernel()
        k.failures[.iommuMapDMA] = .noSpace
        let r = try liveProbe(.intelVFIOReady, devices: ["0000:01:00.0"], kernel: k)
        #expect(r.finding("live.type1")?.remedy == DMAEntryLimitCheck.descriptor.remedy)
        #expect(k.leftNothingBehind)
    }

    @Test func shortUnmapIsRejected() throws {
        let k = ScriptedKernel()
        k.unmapShortBy = 0x1000
        let r = try liveProbe(.intelVFIOReady, devices: ["0000:01:00.0"], kernel: k)
        let walk = try #require(r.live?.walk(.type1, for: PCIAddress("0000:01:00.0")!))
        #expect(walk.failure?.name == "VFIO_IOMMU_UNMAP_DMA" && walk.failure?.outcome == .rejected)
        #expect(k.leftNothingBehind, "closing the container drops what UNMAP left")
    }

    @Test func vfTokenAtGetDeviceFD() throws {
        let k = ScriptedKernel()
        k.failures[.groupGetDeviceFD] = .permissionDenied
        k.config = [0x86, 0x80, 0x89, 0x18]
        let r = try liveProbe(.sriovPF, devices: ["0000:01:02.0"], kernel: k)
        #expect(k.leftNothingBehind)
        let f = try #require(r.finding("live.type1"))
        #expect(f.summary.contains("\"VF token required\""))
        #expect(f.remedy == SRIOVCheck.descriptor.remedy)
    }

    @Test func configSpaceMismatchIsRejected() throws {
        let k = ScriptedKernel()
        k.config = [0xff, 0xff, 0xff, 0xff]
        let r = try liveProbe(.intelVFIOReady, devices: ["0000:01:00.0"], kernel: k)
        let walk = try #require(r.live?.walk(.type1, for: PCIAddress("0000:01:00.0")!))
        #expect(walk.failure?.name == "pread config space")
        #expect(walk.failure?.detail == "config space says ffff:ffff, sysfs says 8086:1572")
        #expect(k.leftNothingBehind)
    }

    @Test func noDeviceOpenStopsBeforeTheDevice() throws {
        let k = ScriptedKernel()
        let r = try liveProbe(.intelVFIOReady, devices: ["0000:01:00.0"], kernel: k, deviceOpen: false)
        #expect(!k.calls.contains(.step(.groupGetDeviceFD)))
        #expect(!k.calls.contains(.step(.open(.cdev("vfio0")))))
        #expect(k.calls.contains(.step(.iommuMapDMA)), "the container-level proof still runs")
        #expect(k.leftNothingBehind)
        #expect(r.finding("live.type1")?.status == .pass)
        #expect(r.finding("live.type1")?.detail?.contains("device fd not opened (--no-device-open)") == true)
        #expect(r.device.readiness == .ready)
    }

    @Test func iommufdFailureDoesNotDecideTheMode() throws {
        let k = ScriptedKernel()
        k.failures[.deviceBindIOMMUFD] = .notPermitted
        let r = try liveProbe(.intelVFIOReady, devices: ["0000:01:00.0"], kernel: k)
        #expect(k.leftNothingBehind)
        let f = try #require(r.finding("live.iommufd"))
        #expect(f.status == .warn)
        #expect(f.summary.contains("the group is not viable, or another DMA owner"), "MSIs are isolated here: not blamed")
        #expect(r.device.readiness == .ready, "type1 worked")
    }

    @Test func liveSuccessOverridesStaticDoubt() throws {
        // Static analysis expects type1 to refuse (no IR, no allow_unsafe_interrupts); the kernel accepted.
        let k = ScriptedKernel()
        k.config = [0x86, 0x80, 0xd3, 0x10]
        let r = try liveProbe(.intelNoIR, devices: ["0000:00:02.0"], kernel: k)
        #expect(r.device.readiness == .ready)
        #expect(r.verdict.mode == .unsafeInterrupts, "the walk proves the IOMMU path, not interrupt isolation")
        #expect(
            r.verdict.disagreements == [
                "0000:00:02.0: sysfs analysis says unsafe-interrupts bindable, the kernel says unsafe-interrupts ready (the kernel completed the type1/iommufd walk)"
            ])
        #expect(r.verdict.summary.hasSuffix("[the kernel disagreed with sysfs: live wins]"))
    }

    @Test func noIOMMUWalk() throws {
        let k = ScriptedKernel()
        k.extensions[8] = 1
        k.config = [0x86, 0x80, 0xd3, 0x10]
        let r = try liveProbe(.noiommuEnabled, devices: ["0000:00:03.0"], kernel: k)
        #expect(k.leftNothingBehind)
        let f = try #require(r.finding("live.noiommu"))
        #expect(f.status == .pass)
        #expect(f.detail?.contains("the application must use physical addresses") == true)
        #expect(!k.calls.contains(.step(.iommuMapDMA)), "no-IOMMU has no DMA mapping")
        #expect(k.calls.contains(.step(.open(.noIOMMUGroup(0)))))
        #expect(r.verdict.mode == .noiommu && r.device.readiness == .ready)
    }

    @Test func noIOMMUGroupNeedsRawIO() throws {
        let k = ScriptedKernel()
        k.extensions[8] = 1
        k.failures[.open(.noIOMMUGroup(0))] = .notPermitted
        let r = try liveProbe(.noiommuEnabled, devices: ["0000:00:03.0"], kernel: k)
        #expect(k.leftNothingBehind)
        let f = try #require(r.finding("live.noiommu"))
        #expect(f.summary == "open /dev/vfio/noiommu-0 failed with EPERM: no-IOMMU groups need CAP_SYS_RAWIO")
        #expect(r.device.actions.contains(NoIOMMUPrivilegesCheck.descriptor.remedy))
    }

    @Test func noIOMMUExtensionOff() throws {
        let k = ScriptedKernel()
        let r = try liveProbe(.noiommuEnabled, devices: ["0000:00:03.0"], kernel: k)
        #expect(r.finding("live.noiommu")?.summary == "VFIO_CHECK_EXTENSION: NOIOMMU is not offered: no-IOMMU mode is off")
        #expect(r.device.actions == [Actions.enableNoIOMMU])
    }

    @Test func containerMissing() throws {
        let k = ScriptedKernel()
        k.failures[.open(.container)] = .noSuchFileOrDirectory
        let r = try liveProbe(.intelVFIOReady, devices: ["0000:01:00.0"], kernel: k)
        let f = try #require(r.finding("live.container"))
        #expect(f.status == .fail)
        #expect(f.summary == "open /dev/vfio/vfio failed with ENOENT: the node does not exist")
        #expect(r.verdict.mode == .unusable)
        #expect(k.leftNothingBehind)
    }

    @Test func containerMissingWithoutVFIOIsNoNews() throws {
        let k = ScriptedKernel()
        k.failures[.open(.container)] = .noSuchFileOrDirectory
        let r = try liveProbe(.amdHost, devices: ["0000:03:00.0"], kernel: k)
        let f = try #require(r.finding("live.container"))
        #expect(f.status == .info, "vfio is not loaded: the static check carries the fix")
        #expect(f.impacts.isEmpty)
        #expect(r.verdict.mode == .vfio && r.device.actions.first == Actions.loadVFIO)
    }

    @Test func mdevInstancesAreWalkedByUUID() throws {
        let k = ScriptedKernel()
        k.config = [0x48, 0x43, 0x53, 0x32]
        k.unsupportedIRQs = [2]  // mtty: no MSI-X
        let fs = try HostFS(root: HostFixture.intelNoIR.path)
        let host = HostReader(fs: fs, lookUpNames: false).read(scope: .all)
        let live = LiveProber(kernel: k, fs: fs).run(host: host)
        let uuid = "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001"
        let walk = try #require(live.mdevs[uuid]?.first)
        #expect(walk.succeeded)
        #expect(k.calls.contains(.step(.open(.group(2)))))
        #expect(walk.facts.configVendorID == 0x4348, "no sysfs ids to compare an mdev with: recorded, not rejected")
        #expect(walk.facts.irqCounts == ["INTx": 1, "MSI": 1], "an unimplemented IRQ index is recorded, not a failure")
        #expect(walk.steps.last?.detail == "INTx 1, MSI 1, MSI-X EINVAL")
        let findings = CheckRegistry.run(CheckRegistry.all, CheckContext(host: host, live: live))
        let f = try #require(findings.first { $0.checkID == "live.type1" && $0.summary.hasPrefix("mdev \(uuid)") })
        #expect(f.status == .pass && f.impacts.isEmpty && f.subject == .host)
        #expect(k.leftNothingBehind)
    }

    @Test func everyFailurePointLeavesNothingBehind() throws {
        let points: [LiveStepID] = [
            .open(.container), .getAPIVersion, .checkExtension, .open(.group(10)), .groupGetStatus,
            .groupSetContainer, .setIOMMU(.type1v2), .iommuGetInfo, .mmapDMABuffer, .iommuMapDMA, .iommuUnmapDMA,
            .groupGetDeviceFD, .deviceGetInfo, .deviceGetRegionInfo(.config), .preadConfigSpace, .deviceGetIRQInfo,
            .deviceGetPCIHotResetInfo, .open(.iommufd), .ioasAlloc, .open(.cdev("vfio0")), .deviceBindIOMMUFD,
            .deviceAttachIOMMUFDPT, .ioasIOVARanges, .ioasMap, .ioasUnmap, .getHWInfo,
            .destroy,
        ]
        for p in points {
            let k = ScriptedKernel()
            k.failures[p] = .ioError
            let r = try liveProbe(.intelVFIOReady, devices: ["0000:01:00.0"], kernel: k)
            #expect(k.leftNothingBehind, "after a failure at \(p)")
            let walks = r.live?.devices[PCIAddress("0000:01:00.0")!] ?? []
            if p == .deviceGetIRQInfo || p == .deviceGetPCIHotResetInfo {
                // Per-index answers: an error is recorded in the step, the walk goes on.
                let step = walks.first?.steps.first { $0.id == p }
                #expect(walks.first?.succeeded == true && step?.detail.contains("EIO") == true, "\(p) is recorded")
            } else {
                #expect(walks.contains { $0.failure != nil } || r.live?.container?.failure != nil, "\(p) is reported")
            }
        }
    }
}

struct LiveUnitTests {
    @Test func requestNumbersMatchTheUAPI() {
        #expect(VP_VFIO_GET_API_VERSION == 0x3B64)
        #expect(VP_VFIO_CHECK_EXTENSION == 0x3B65)
        #expect(VP_VFIO_SET_IOMMU == 0x3B66)
        #expect(VP_VFIO_GROUP_GET_STATUS == 0x3B67)
        #expect(VP_VFIO_GROUP_SET_CONTAINER == 0x3B68)
        #expect(VP_VFIO_GROUP_GET_DEVICE_FD == 0x3B6A)
        #expect(VP_VFIO_DEVICE_GET_INFO == 0x3B6B)
        #expect(VP_VFIO_DEVICE_GET_REGION_INFO == 0x3B6C)
        #expect(VP_VFIO_DEVICE_GET_IRQ_INFO == 0x3B6D)
        #expect(VP_VFIO_IOMMU_GET_INFO == 0x3B70)
        #expect(VP_VFIO_IOMMU_MAP_DMA == 0x3B71)
        #expect(VP_VFIO_IOMMU_UNMAP_DMA == 0x3B72)
        #expect(VP_VFIO_DEVICE_BIND_IOMMUFD == 0x3B76)
        #expect(VP_VFIO_DEVICE_ATTACH_IOMMUFD_PT == 0x3B77)
        #expect(VP_IOMMU_DESTROY == 0x3B80)
        #expect(VP_IOMMU_IOAS_ALLOC == 0x3B81)
        #expect(VP_IOMMU_IOAS_IOVA_RANGES == 0x3B84)
        #expect(VP_IOMMU_IOAS_MAP == 0x3B85)
        #expect(VP_IOMMU_IOAS_UNMAP == 0x3B86)
        #expect(VP_IOMMU_GET_HW_INFO == 0x3B8A)
        #expect(MemoryLayout<vp_vfio_device_attach_iommufd_pt>.size == 12)
        #expect(MemoryLayout<vp_iommu_hw_info>.size == 40)
    }

    /// The real seam on what any host has: an anonymous buffer, pread of a file, and ioctls a
    /// regular file refuses (ENOTTY) in the no-argument, value and pointer forms.
    @Test func linuxSeamCallsGlibc() throws {
        let k = LinuxVFIOKernel()
        let a = try k.mapBuffer(length: 4 * 4096)
        #expect(a != 0 && a % 4096 == 0)
        k.unmapBuffer(address: a, length: 4 * 4096)
        let path = NSTemporaryDirectory() + "vp-seam-\(getpid())"
        #expect(FileManager.default.createFile(atPath: path, contents: Data([1, 2, 3, 4, 5, 6])))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        try #require(fd >= 0)
        defer { k.close(fd) }
        #expect(try k.pread(fd, count: 4, offset: 2) == [3, 4, 5, 6])
        #expect(throws: Errno.inappropriateIOCTLForDevice) { try k.getAPIVersion(fd) }
        #expect(throws: Errno.inappropriateIOCTLForDevice) { try k.checkExtension(fd, VFIOExtension.type1v2.rawValue) }
        #expect(throws: Errno.inappropriateIOCTLForDevice) { try k.groupStatus(fd) }
    }

    /// A GET_INFO buffer: 24-byte header, an IOVA-range capability with two ranges, then DMA_AVAIL.
    func infoBuffer(loop: Bool = false) -> [UInt8] {
        var b = [UInt8](repeating: 0, count: 24)
        func put32(_ v: UInt32) { for i in 0..<4 { b.append(UInt8((v >> (8 * UInt32(i))) & 0xff)) } }
        func put64(_ v: UInt64) { for i in 0..<8 { b.append(UInt8((v >> (8 * UInt64(i))) & 0xff)) } }
        // IOVA_RANGE at 24: id 1, version 1, next 72
        put32(1 | 1 << 16); put32(72); put32(2); put32(0)
        put64(0); put64(0xfedfffff); put64(0xfef00000); put64(0x7fffffffff)
        // DMA_AVAIL at 72: id 3, next 0 (or back to 24: a loop)
        put32(3 | 1 << 16); put32(loop ? 24 : 0); put32(65535); put32(0)
        return b
    }

    @Test func capabilityChain() {
        let c = Type1CapabilityChain.parse(infoBuffer(), firstOffset: 24)
        #expect(c.ranges == [IOVARange(start: 0, last: 0xfedfffff), IOVARange(start: 0xfef00000, last: 0x7fffffffff)])
        #expect(c.dmaAvailable == 65535)
        #expect(!c.migration)
    }

    @Test func capabilityChainSurvivesBadInput() {
        let looped = Type1CapabilityChain.parse(infoBuffer(loop: true), firstOffset: 24)
        #expect(looped.ranges.count == 2, "a loop ends the walk")
        // Header 24, capability header 8, nr_iovas and reserved 8: the first range ends at 56.
        #expect(Type1CapabilityChain.parse(Array(infoBuffer().prefix(56)), firstOffset: 24).ranges.count == 1)
        #expect(Type1CapabilityChain.parse(Array(infoBuffer().prefix(55)), firstOffset: 24).ranges.isEmpty)
        #expect(Type1CapabilityChain.parse(infoBuffer(), firstOffset: 4000).ranges.isEmpty)
        #expect(Type1CapabilityChain.parse(infoBuffer(), firstOffset: 8).ranges.isEmpty, "inside the header")
        for cut in 0..<infoBuffer().count {
            _ = Type1CapabilityChain.parse(Array(infoBuffer().prefix(cut)), firstOffset: 24)
        }
    }

    @Test func iovaChoice() {
        let ranges = [IOVARange(start: 0, last: 0xfedfffff), IOVARange(start: 0xfef00000, last: 0x7fffffffff)]
        #expect(LiveProber.chooseIOVA(ranges, length: 0x4000, alignment: 0x1000) == 0x1_0000_0000)
        #expect(
            LiveProber.chooseIOVA([IOVARange(start: 0, last: 0xffffff)], length: 0x4000, alignment: 0x1000) == 0x1000, "narrow: above zero")
        #expect(LiveProber.chooseIOVA([IOVARange(start: 0x1000, last: 0x2fff)], length: 0x4000, alignment: 0x1000) == nil)
        #expect(LiveProber.chooseIOVA([IOVARange(start: .max - 0xfff, last: .max)], length: 0x4000, alignment: 0x1000) == nil)
    }
}
