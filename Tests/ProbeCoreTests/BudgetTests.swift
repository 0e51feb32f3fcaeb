import Foundation
import Live
import SystemPackage
import Testing

@testable import ProbeCore

/// `--memory`: the DMA budget (memlock, dma_entry_limit, hugepages, IOVA space), the capacity
/// trial against the scripted kernel, the IOVA-mode choice and the NUMA placement.
struct BudgetTests {
    @Test func sizesParseInBinaryUnitsAndPrintWithoutOverstating() {
        #expect(ByteCount.parse("64G") == 64 << 30)
        #expect(ByteCount.parse("64GiB") == 64 << 30)
        #expect(ByteCount.parse("512m") == 512 << 20)
        #expect(ByteCount.parse("2M") == 2 << 20)
        #expect(ByteCount.parse("4096") == 4096)
        #expect(ByteCount.parse("1T") == 1 << 40)
        for bad in ["", "G", "-1G", "1.5G", "0", "99999999999E", "12Q"] { #expect(ByteCount.parse(bad) == nil, "\(bad)") }
        #expect(ByteCount.text(256 << 20) == "256 MiB")
        // 65535 × 4 KiB is just under 256 MiB: rounded down, never up.
        #expect(ByteCount.text(65535 * 4096) == "255.9 MiB")
        #expect(ByteCount.text(4096) == "4 KiB")
    }

    @Test func hugepagePoolsAndNodesAreRead() throws {
        let h = try probe(.numaTwoNodes, only: ["device.numa"]).host
        #expect(h.memory.defaultHugepageSize == 2 << 20)
        #expect(h.memory.pool(2 << 20) == HugePagePool(size: 2 << 20, total: 2048, free: 2048, reserved: 0))
        #expect(h.memory.nodes.value?.map(\.id) == [0, 1])
        #expect(h.memory.node(1)?.cpus == "24-47,72-95")
        #expect(h.memory.node(1)?.pool(2 << 20)?.free == 0)
        #expect(h.memory.isMultiNode)
        // resv_hugepages are promised to mappings already (hugetlb_acct_memory): not available.
        #expect(HugePagePool(size: 2 << 20, total: 10, free: 8, reserved: 3).available == 5)
    }

    /// Without --memory: what each page size allows. 65535 × 4 KiB (type1's default
    /// dma_entry_limit, vfio_iommu_type1.c U16_MAX) is the bound with base pages.
    @Test func withoutAWorkloadTheReportSaysWhatTheHostAllows() throws {
        let f = try #require(try probe(.budgetHugepages, only: ["vfio.dma-budget"]).finding("vfio.dma-budget"))
        #expect(f.status == .info)
        #expect(f.summary.contains("at most 255.9 MiB with 4 KiB pages: dma_entry_limit 65535 × 4 KiB"))
        #expect(f.summary.contains("at most 8 GiB with 2 MiB pages: 4096 free 2 MiB hugepages"))
        #expect(f.impacts.isEmpty)
    }

    /// vfio_dma_do_map refuses the mapping after dma_avail reaches 0: exactly the limit fits.
    @Test func dmaEntryLimitAtTheEdge() throws {
        let fits = try probe(.intelVFIOReady, only: ["vfio.dma-entry-limit"], workload: Workload(memory: 65535 * 4096, hugepageSize: 4096))
        #expect(fits.finding("vfio.dma-entry-limit")?.status == .pass)
        let over = try probe(
            .intelVFIOReady, only: ["vfio.dma-entry-limit"], workload: Workload(memory: 65535 * 4096 + 1, hugepageSize: 4096))
        let f = try #require(over.finding("vfio.dma-entry-limit"))
        #expect(f.status == .warn)
        #expect(f.summary.contains("65536 mappings"))
        #expect(f.impacts.map(\.mode) == Mode.iommuBacked && f.impacts.allSatisfy { $0.kind == .requires })
        #expect(f.remedy?.contains("echo 65536 > /sys/module/vfio_iommu_type1/parameters/dma_entry_limit") == true)
        // In 2 MiB hugepages 64 GiB is 32768 mappings: fine.
        let huge = try probe(.intelVFIOReady, only: ["vfio.dma-entry-limit"], workload: Workload(memory: 64 << 30, hugepageSize: 2 << 20))
        #expect(huge.finding("vfio.dma-entry-limit")?.status == .pass)
    }

    /// type1's vfio_lock_acct fails when locked_vm + npage > limit: the limit itself fits.
    @Test func memlockAtTheEdge() throws {
        let fits = try probe(.budgetMemlock, only: ["process.memlock"], workload: Workload(memory: 1 << 30))
        #expect(fits.finding("process.memlock")?.status == .pass)
        let over = try probe(.budgetMemlock, only: ["process.memlock"], workload: Workload(memory: (1 << 30) + 4096))
        let f = try #require(over.finding("process.memlock"))
        #expect(f.status == .warn)
        #expect(f.impacts.contains { $0.kind == .requires && $0.mode == .vfio })
        #expect(over.verdict.exitStatus(requiring: .vfio) != 0)
    }

    @Test func hugepagesShortAreAnActionWithTheExactCount() throws {
        let r = try probe(.budgetHugepages, workload: Workload(memory: 64 << 30))
        let f = try #require(r.finding("vfio.dma-budget"))
        #expect(f.status == .warn)
        // 64 GiB / 2 MiB = 32768 pages; 4096 reserved and free: 32768 in all.
        let actions = f.impacts.flatMap(\.actions)
        #expect(actions.contains("echo 32768 > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"))
        #expect(Set(f.impacts.map(\.mode)) == Set(Mode.usable))
        // 1 GiB pages with none reserved: at boot.
        let giga = try probe(.budgetHugepages, only: ["vfio.dma-budget"], workload: Workload(memory: 8 << 30, hugepageSize: 1 << 30))
        let g = try #require(giga.finding("vfio.dma-budget"))
        #expect(g.impacts.flatMap(\.actions).contains { $0.contains("hugepagesz=1G hugepages=8") })
        let fits = try probe(.budgetHugepages, only: ["vfio.dma-budget"], workload: Workload(memory: 8 << 30))
        #expect(fits.finding("vfio.dma-budget")?.status == .pass)
    }

    @Test func aWorkloadBeyondTheIOVASpaceIsBlocked() throws {
        // 39-bit MGAW: 512 GiB of IOVA space.
        let r = try probe(.budgetNarrow, workload: Workload(memory: 1 << 40, hugepageSize: 4096))
        let f = try #require(r.finding("vfio.dma-budget"))
        #expect(f.status == .fail)
        #expect(f.impacts.contains { $0.kind == .blocks && $0.mode == .vfio && !$0.liveCanLift })
        #expect(r.verdict.mode < .unsafeInterrupts)
        #expect(r.verdict.exitStatus(requiring: .vfio) != 0)
    }

    /// The capacity trial: 17 separate maps against a type1 whose dma_entry_limit is 16 (the VM's
    /// vfio_iommu_type1.dma_entry_limit=16): the 17th answers ENOSPC, everything is unmapped.
    @Test func theLiveTrialMeetsENOSPCAndTheReportSaysSo() throws {
        let k = ScriptedKernel()
        k.dmaEntryLimit = 16
        let r = try liveProbe(
            .intelVFIOReady, devices: ["0000:01:00.0"], kernel: k, workload: Workload(memory: 1 << 20, hugepageSize: 4096))
        #expect(k.leftNothingBehind)
        let walk = try #require(r.live?.walk(.type1, for: PCIAddress("0000:01:00.0")!))
        let trial = try #require(walk.facts.mapTrial)
        #expect(trial.asked == 256 && trial.mapped == 16 && trial.errno == 28)
        #expect(trial.unmapped == 16 * 4096)
        #expect(walk.succeeded)
        // The sysfs limit (65535) predicted it would fit; the kernel said otherwise: it decides.
        let f = try #require(r.finding("vfio.dma-budget"))
        #expect(f.status == .warn)
        #expect(f.summary.contains("mapping 17 failed with ENOSPC"))
        #expect(f.impacts.contains { $0.kind == .requires && $0.mode == .vfio })
        #expect(r.device.readiness != .ready)
    }

    @Test func theTrialIsBoundedAndFitsWhenTheKernelAgrees() throws {
        let k = ScriptedKernel()
        let r = try liveProbe(
            .budgetHugepages, devices: ["0000:01:00.0"], kernel: k, workload: Workload(memory: 8 << 30, hugepageSize: 2 << 20))
        #expect(k.leftNothingBehind)
        let trial = try #require(r.live?.walk(.type1, for: PCIAddress("0000:01:00.0")!)?.facts.mapTrial)
        #expect(trial.needed == 4096 && trial.asked == LiveProber.mapTrialLimit && trial.succeeded)
        #expect(r.live?.walk(.iommufd, for: PCIAddress("0000:01:00.0")!)?.facts.mapTrial?.succeeded == true)
        #expect(r.finding("vfio.dma-budget")?.status == .pass)
    }

    /// Without --memory the walk makes no trial at all.
    @Test func noTrialWithoutAWorkload() throws {
        let k = ScriptedKernel()
        let r = try liveProbe(.intelVFIOReady, devices: ["0000:01:00.0"], kernel: k)
        #expect(r.live?.devices.values.joined().allSatisfy { $0.facts.mapTrial == nil } == true)
        #expect(!k.calls.contains(.step(.mapTrial(1))))
    }

    @Test func memlockInTheTrialIsENOMEM() throws {
        let k = ScriptedKernel()
        k.memlockPages = 12  // the 4-page trial buffer, then 8 trial pages
        let r = try liveProbe(
            .intelVFIOReady, devices: ["0000:01:00.0"], kernel: k, workload: Workload(memory: 64 << 20, hugepageSize: 4096))
        let trial = try #require(r.live?.walk(.type1, for: PCIAddress("0000:01:00.0")!)?.facts.mapTrial)
        #expect(trial.errno == 12)
        #expect(k.leftNothingBehind)
    }

    /// IOVA mode: 47-bit user addresses need a 48-bit IOMMU (VT-d MGAW); with la57 a process may
    /// ask for more (early_identify_cpu keeps la57 only with 5-level paging on).
    @Test func iovaModeFollowsTheWidthAndTheAddressSpace() throws {
        let ready = try probe(.intelVFIOReady, only: ["iommu.address-width"])
        #expect(IOVAMode.of(ready.host, live: nil).recommended == .va)
        let narrow = try probe(.budgetNarrow, only: ["iommu.address-width"])
        let m = IOVAMode.of(narrow.host, live: nil)
        #expect(m.la57 && m.userBits == 56 && m.width == 39)
        #expect(m.topOfRAM == 0x4_8000_0000)  // 18 GiB: below 2^39, so pa fits
        #expect(m.recommended == .pa)
        #expect(narrow.finding("iommu.address-width")?.summary.contains("--iova-mode=pa") == true)
        // RAM above 2^39: neither.
        let big = narrow.host.with { $0.memory.topOfRAM = 1 << 40 }
        #expect(IOVAMode.of(big, live: nil).recommended == nil)
        // No IOMMU: physical addresses.
        let noiommu = try probe(.noiommuEnabled, only: ["iommu.address-width"])
        #expect(noiommu.finding("iommu.address-width")?.summary.contains("--iova-mode=pa") == true)
    }

    @Test func liveIOVARangesDecideTheWidth() throws {
        let k = ScriptedKernel()
        k.type1.ranges = [IOVARange(start: 0, last: 0xfedfffff), IOVARange(start: 0xfef00000, last: (1 << 39) - 1)]
        k.ioasRanges = k.type1.ranges
        let r = try liveProbe(.intelVFIOReady, devices: ["0000:01:00.0"], kernel: k)
        let m = IOVAMode.of(r.host, live: r.live)
        #expect(m.width == 39 && m.widthSource?.hasSuffix("(live)") == true)
    }

    @Test func iomemTopOfRAM() {
        let text =
            "00000000-00000fff : Reserved\n00001000-0009ffff : System RAM\n100000000-47fffffff : System RAM\n  100000000-1000fffff : Crash kernel\n"
        #expect(Memory.parseTopOfRAM(text) == 0x4_8000_0000)
        // Without CAP_SYS_ADMIN r_show prints zeros.
        #expect(Memory.parseTopOfRAM("00000000-00000000 : System RAM\n") == nil)
    }

    @Test func numaPlacement() throws {
        let r = try probe(.numaTwoNodes, devices: [], only: ["device.numa"])
        func f(_ a: String) -> Finding? { r.findings.first { $0.subject == .device(PCIAddress(a)!) } }
        #expect(f("0000:01:00.0")?.status == .pass)
        #expect(f("0000:86:00.0")?.status == .warn)
        #expect(f("0000:86:00.0")?.summary.contains("node 0 has 2048") == true)
        #expect(f("0000:00:1f.6")?.summary.contains("-1") == true)
        // Bridges and the chipset say nothing.
        #expect(f("0000:80:01.0") == nil && f("0000:00:1f.0") == nil)
        // One node: nothing to say.
        #expect(try probe(.intelVFIOReady, only: ["device.numa"]).findings.isEmpty)
    }
}

/// Hostile or extreme inputs to the budget: answered, never a trap.
struct BudgetHardeningTests {
    /// iommufd and virtio-iommu give the whole 64-bit space as one range (0-2^64-1); its size
    /// saturates instead of overflowing.
    @Test func theWhole64BitSpaceSaturates() throws {
        #expect(IOVARange(start: 0, last: .max).size == .max)
        #expect(IOVARange(start: 5, last: 4).size == 0)
        let k = ScriptedKernel()
        k.type1.ranges = [IOVARange(start: 0, last: .max)]
        k.ioasRanges = [IOVARange(start: 0, last: .max)]
        let r = try liveProbe(.intelVFIOReady, devices: ["0000:01:00.0"], kernel: k, workload: Workload(memory: .max, hugepageSize: 4096))
        #expect(r.finding("vfio.dma-budget") != nil)
        #expect(k.leftNothingBehind)
        #expect(IOVAMode.of(r.host, live: r.live).width == 64)
    }

    @Test func negativeCountsAndLimitsAreNotBelieved() throws {
        let dir = try scratchFixture(.budgetHugepages) { root in
            try "-5\n".write(toFile: root + "/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", atomically: true, encoding: .utf8)
            try "-1\n".write(toFile: root + "/sys/module/vfio_iommu_type1/parameters/dma_entry_limit", atomically: true, encoding: .utf8)
        }
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var o = Pipeline.Options()
        o.root = dir
        o.workload = Workload(memory: .max, hugepageSize: 0)
        let r = try Pipeline.run(o)
        #expect(r.host.memory.pool(2 << 20) == nil)
        #expect(r.finding("vfio.dma-budget")?.status != nil)
        #expect(r.finding("vfio.dma-entry-limit")?.status == .warn)
        // A zero page size falls back to the host's default instead of dividing by zero.
        #expect(o.workload.pageSize(on: r.host).size >= Memory.basePage)
    }
}
