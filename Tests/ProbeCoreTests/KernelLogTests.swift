import Foundation
import SystemPackage
import Testing

@testable import ProbeCore

/// The kernel's own log (issue 16, part 4): /dev/kmsg's records, the messages that explain a
/// VFIO or IOMMU outcome (each kind cited to the kernel function that prints it), and the checks
/// that report them without changing any verdict.
@Suite struct KernelLogTests {
    /// One message per kind, as the 6.12 kernel prints it (pr_fmt / dev_fmt prefixes included).
    static let samples: [(kind: String, message: String)] = [
        // dmar_fault_do_one (drivers/iommu/intel/dmar.c), and the pre-5.x form.
        (
            "dmar-fault",
            "DMAR: [DMA Read NO_PASID] Request device [3b:00.0] fault addr 0xffd0e000 [fault reason 0x06] PTE Read access is not set"
        ),
        (
            "dmar-fault",
            "DMAR: [DMA Read] Request device [3b:00.0] PASID ffffffff fault addr 3ff0000 [fault reason 06] PTE Read access is not set"
        ),
        (
            "dmar-fault",
            "DMAR: [DMA Write PASID 0x1] Request device [3b:00.0] fault addr 0x1000 [fault reason 0x05] PTE Write access is not set"
        ),
        // dmar_fault_do_one, INTR_REMAP.
        (
            "dmar-ir-fault",
            "DMAR: [INTR-REMAP] Request device [3b:00.0] fault index 0x2a [fault reason 0x25] Blocked a compatibility format interrupt request"
        ),
        // amd_iommu_report_page_fault (drivers/iommu/amd/iommu.c): with and without the pci_dev.
        ("amd-io-page-fault", "vfio-pci 0000:3b:00.0: AMD-Vi: Event logged [IO_PAGE_FAULT domain=0x0012 address=0xfffff000 flags=0x0000]"),
        ("amd-io-page-fault", "AMD-Vi: Event logged [IO_PAGE_FAULT device=0000:3b:00.0 domain=0x0012 address=0xfffff000 flags=0x0000]"),
        // intel_iommu_attach_device (intel-iommu.c, before 6.x).
        (
            "rmrr-ineligible",
            "vfio-pci 0000:00:1a.0: Device is ineligible for IOMMU domain attach due to platform RMRR requirement.  Contact your platform vendor."
        ),
        // __iommu_device_set_domain (drivers/iommu/iommu.c).
        (
            "require-direct",
            "pci 0000:3b:00.0: Firmware has requested this device have a 1:1 IOMMU mapping, rejecting configuring the device without a 1:1 mapping. Contact your platform vendor."
        ),
        // vfio_iommu_type1_attach_group (drivers/vfio/vfio_iommu_type1.c).
        (
            "type1-no-ir",
            "vfio_iommu_type1_attach_group: No interrupt remapping support.  Use the module param \"allow_unsafe_interrupts\" to enable VFIO IOMMU support on this platform"
        ),
        // iommufd_device_bind (drivers/iommu/iommufd/device.c).
        (
            "iommufd-unsafe-msi",
            "vfio-pci 0000:3b:00.0: MSI interrupts are not secure, they cannot be isolated by the platform. Check that platform features like interrupt remapping are enabled. Use the \"allow_unsafe_interrupts\" module parameter to override"
        ),
        // intel_cleanup_irq_remapping, intel_prepare_irq_remapping (drivers/iommu/intel/irq_remapping.c).
        ("ir-failed", "DMAR-IR: Failed to enable irq remapping. You are vulnerable to irq-injection attacks."),
        ("ir-not-enabled", "DMAR-IR: Not enabling interrupt remapping"),
        ("ir-erratum", "DMAR-IR: This system BIOS has enabled interrupt remapping"),
        ("ir-x2apic-optout", "DMAR-IR: x2apic is disabled because BIOS sets x2apic opt out bit."),
        // intel_enable_irq_remapping; print_iommu_info (drivers/iommu/amd/init.c).
        ("ir-enabled", "DMAR-IR: Enabled IRQ remapping in x2apic mode"),
        ("amd-ir-enabled", "AMD-Vi: Interrupt remapping enabled"),
        // call_driver_probe (drivers/base/dd.c).
        ("vfio-probe-failed", "vfio-pci 0000:3b:00.0: probe with driver vfio-pci failed with error -22"),
        // iommufd_fops_open (drivers/iommu/iommufd/main.c).
        ("iommufd-compat", "iommufd: IOMMUFD is providing /dev/vfio/vfio, not VFIO."),
        // iommu_group_alloc_device, iommu_subsys_init (drivers/iommu/iommu.c).
        ("iommu-group", "pci 0000:3b:00.0: Adding to iommu group 27"),
        ("default-domain", "iommu: Default domain type: Passthrough (set via kernel command line)"),
        ("mem-encrypt-no-pt", "iommu: Memory encryption detected - Disabling default IOMMU Passthrough"),
        // pci_dev_wait, pcie_flr (drivers/pci/pci.c).
        ("reset-timeout", "vfio-pci 0000:3b:00.0: not ready 65535ms after FLR; giving up"),
        ("flr-pending", "vfio-pci 0000:3b:00.0: timed out waiting for pending transaction; performing function level reset anyway"),
        // vfio_bar_restore, vfio_ecap_init (drivers/vfio/pci/vfio_pci_config.c).
        ("bar-restore", "vfio-pci 0000:3b:00.0: vfio_bar_restore: reset recovery - restoring BARs"),
        ("ecap-hidden", "vfio-pci 0000:3b:00.0: vfio_ecap_init: hiding ecap 0x19@0x100"),
        // pci_rom_header_valid (drivers/pci/rom.c).
        ("invalid-rom", "vfio-pci 0000:3b:00.0: Invalid PCI ROM header signature: expecting 0xaa55, got 0xffff"),
        // iommu_snp_enable (drivers/iommu/amd/init.c).
        ("snp-iommu", "AMD-Vi: SNP: IOMMU disabled or configured in passthrough mode, SNP cannot be supported."),
        ("snp-enabled", "AMD-Vi: IOMMU SNP support enabled."),
    ]

    @Test(arguments: samples.indices)
    func eachKindMatchesTheKernelsText(_ i: Int) throws {
        let (kind, message) = Self.samples[i]
        let k = try #require(KernelLogMatcher.kind(of: message), "\(message)")
        #expect(k.id == kind)
        #expect(!k.source.isEmpty && !k.meaning.isEmpty)
        #expect(k.severity == .info || k.remedy != nil, "a warning says what to do")
    }

    @Test func everyKindHasASample() {
        #expect(Set(KernelLogMatcher.kinds.map(\.id)) == Set(Self.samples.map(\.kind)))
    }

    @Test func ordinaryLinesDoNotMatch() {
        for m in [
            "e1000e 0000:00:19.0 eth0: NIC Link is Up 1000 Mbps Full Duplex", "DMAR: IOMMU enabled",
            "pci 0000:00:1f.2: probe with driver ahci failed with error -12", "Linux version 6.12.95",
        ] {
            #expect(KernelLogMatcher.kind(of: m) == nil, "\(m)")
        }
    }

    /// The function a message is about: dev_printk's prefix, DEVICE=+pci:, or the driver's own text.
    @Test func deviceOfAMessage() {
        let a = PCIAddress("0000:3b:00.0")
        #expect(KernelLog.device(in: "vfio-pci 0000:3b:00.0: AMD-Vi: Event logged [IO_PAGE_FAULT domain=0x0012]") == a)
        #expect(KernelLog.device(in: "DMAR: [DMA Read NO_PASID] Request device [3b:00.0] fault addr 0x0") == a)
        #expect(KernelLog.device(in: "AMD-Vi: Event logged [IO_PAGE_FAULT device=0000:3b:00.0 domain=0x0012") == a)
        #expect(KernelLog.device(in: "AMD-Vi: Event logged [IO_PAGE_FAULT device=3b:00.0 domain=0x0012") == a)
        #expect(KernelLog.device(in: "vfio_iommu_type1_attach_group: No interrupt remapping support.") == nil)
    }

    /// dmar_fault_do_one prints no segment: "[01:00.0]" is segment 0's only on a one-segment host.
    @Test func segmentlessAddressOnAMultiSegmentHost() throws {
        let r = try probe(.kernelLog, only: ["device.kernel-log"])
        let log = try #require(r.host.kernelLog.value)
        #expect(KernelLog.mention(in: "DMAR: [DMA Read NO_PASID] Request device [01:00.0] fault addr 0x0")?.segmentKnown == false)
        #expect(KernelLog.mention(in: "vfio-pci 0000:01:00.0: not ready")?.segmentKnown == true)
        let one = KernelLogMatcher.entries(log, host: r.host).first { $0.kind.id == "dmar-fault" }
        #expect(one?.device == PCIAddress("0000:01:00.0"))
        let other = try #require(r.host.devices.values.first)
        var far = other
        far.address = PCIAddress(domain: 1, bus: 1, device: 0, function: 0)
        let two = r.host.with { $0.devices[far.address] = far }
        let e = KernelLogMatcher.entries(log, host: two).first { $0.kind.id == "dmar-fault" }
        #expect(e != nil && e?.device == nil, "two segments: the fault names no function for sure")
    }

    /// Documentation/ABI/testing/dev-kmsg: "PRI,SEQ,USEC,FLAGS;message", continuation lines
    /// " KEY=value"; the level is PRI's low three bits (facility << 3 | level).
    @Test func recordFormat() throws {
        let r = try #require(
            KernelLog.record("12,841,96500001,-,caller=T1;pcieport 0000:00:01.0: AER: found\n SUBSYSTEM=pci\n DEVICE=+pci:0000:01:00.0"))
        #expect(r.seq == 841 && r.level == 4 && r.time == 96.500001)
        #expect(r.device == PCIAddress("0000:01:00.0"), "DEVICE=+pci: names the function, over the text's prefix")
        #expect(r.message == "pcieport 0000:00:01.0: AER: found")
        #expect(r.stamp == "[   96.500001]" && r.seconds == "96.500001")
        #expect(KernelLog.record("garbage without a header") == nil)
    }

    /// A tree's dev/kmsg: continuation lines stay with their record; the record bound holds.
    @Test func treeFileSplitsIntoRecords() {
        let text = "6,0,1,-;a\n SUBSYSTEM=pci\n DEVICE=+pci:0000:01:00.0\n6,1,2,-;b\n6,2,3,-;c\n"
        let all = KernelLogRecords.split(text, maxRecords: 10)
        #expect(all.records == ["6,0,1,-;a\n SUBSYSTEM=pci\n DEVICE=+pci:0000:01:00.0", "6,1,2,-;b", "6,2,3,-;c"] && !all.capped)
        let two = KernelLogRecords.split(text, maxRecords: 2)
        #expect(two.records.count == 2 && two.capped)
    }

    /// devkmsg_read: one record per read; EAGAIN ends the read (O_NONBLOCK: it never waits);
    /// EPIPE says records were overwritten, and the next read goes on from the oldest left.
    @Test func readerSkipsOverwrittenRecordsAndStopsAtEAGAIN() throws {
        var script: [Result<[UInt8], Errno>] = [
            .success(Array("6,0,1,-;a\n".utf8)), .failure(.brokenPipe), .success(Array("6,9,2,-;b\n".utf8)),
            .failure(.resourceTemporarilyUnavailable), .success(Array("6,10,3,-;never\n".utf8)),
        ]
        let r = try Syscalls.readRecords(maxRecords: 100, maxBytes: 1 << 20) { () throws(Errno) -> [UInt8] in
            try script.removeFirst().get()
        }
        #expect(r.records.map { String(decoding: $0, as: UTF8.self) } == ["6,0,1,-;a\n", "6,9,2,-;b\n"])
        #expect(r.overwritten == 1 && !r.capped)
        #expect(script.count == 1, "nothing is read after EAGAIN")
    }

    @Test func readerIsBounded() throws {
        var n = 0
        let byRecords = try Syscalls.readRecords(maxRecords: 3, maxBytes: 1 << 20) { () throws(Errno) -> [UInt8] in
            n += 1
            return Array("6,\(n),1,-;x\n".utf8)
        }
        #expect(byRecords.records.count == 3 && byRecords.capped)
        let byBytes = try Syscalls.readRecords(maxRecords: 100, maxBytes: 19) { () throws(Errno) -> [UInt8] in
            Array("6,0,1,-;0123456789\n".utf8)
        }
        #expect(byBytes.records.count == 1 && byBytes.capped)
        // A ring that keeps overwriting ends too.
        let churn = try Syscalls.readRecords(maxRecords: 4, maxBytes: 1 << 20) { () throws(Errno) -> [UInt8] in throw .brokenPipe }
        #expect(churn.records.isEmpty && churn.capped)
    }

    @Test func repeatsAreCountedWithFirstAndLastTime() throws {
        let r = try probe(.kernelLog, only: ["device.kernel-log"])
        let log = try #require(r.host.kernelLog.value)
        let fault = try #require(KernelLogMatcher.entries(log).first { $0.kind.id == "dmar-fault" })
        #expect(fault.count == 3 && fault.first.seconds == "96.500001" && fault.last.seconds == "96.512999")
        #expect(fault.device == PCIAddress("0000:01:00.0"))
        #expect(fault.line.hasSuffix("(×3, last [   96.512999])"))
    }

    /// History, not the present: the device's messages warn, and its readiness is what it is
    /// without them.
    @Test func deviceMessagesWarnWithoutChangingReadiness() throws {
        let r = try probe(.kernelLog, devices: ["0000:01:00.0"])
        let f = try #require(r.findings.first { $0.checkID == "device.kernel-log" })
        #expect(f.status == .warn && f.impacts.isEmpty)
        #expect(f.summary.contains("VT-d DMA fault ×3") && f.summary.contains("device not ready after reset"))
        #expect(f.detail?.contains("dmar_fault_do_one") == true)
        let without = try Pipeline.run(
            {
                var o = Pipeline.Options()
                o.root = HostFixture.kernelLog.path
                o.devices = [PCIAddress("0000:01:00.0")!]
                o.skip = ["device.kernel-log", "kernel.log"]
                return o
            }())
        #expect(r.verdict.devices.map(\.readiness) == without.verdict.devices.map(\.readiness))
        #expect(r.verdict.mode == without.verdict.mode)
    }

    /// Host-level: type1's refusal first; a message about a function not on the bus is the host's.
    @Test func hostMessages() throws {
        let r = try probe(.kernelLog, only: ["kernel.log"])
        let warns = r.findings.filter { $0.status == .warn }
        #expect(warns.first?.summary.hasPrefix("type1: no interrupt remapping") == true)
        #expect(warns.contains { $0.summary.hasPrefix("AMD-Vi I/O page fault") }, "0000:3b:00.0 is not on this host")
        #expect(r.findings.allSatisfy { $0.impacts.isEmpty })
        let note = try #require(r.findings.first { $0.status == .info })
        #expect(note.summary.contains("interrupt remapping enabled") && note.summary.contains("iommufd emulates the VFIO container"))
    }

    /// devkmsg_open refuses a reader without CAP_SYSLOG under dmesg_restrict=1: skipped, with who may read it.
    @Test func unreadableLogIsSkippedWithWhoMayReadIt() throws {
        let h = try probe(.kernelLog, only: ["kernel.log"]).host.with {
            $0.kernelLog = .unreadable(.permissionDenied("/dev/kmsg"))
            $0.dmesgRestrict = .value(1)
        }
        let f = try #require(KernelLogCheck.evaluate(CheckContext(host: h)).first)
        #expect(f.status == .skip && f.summary.contains("CAP_SYSLOG") && f.summary.contains("dmesg_restrict is 1"))
        #expect(DeviceKernelLogCheck.evaluate(CheckContext(host: h)).isEmpty)
    }

    @Test func nothingMatchedPasses() throws {
        let h = try probe(.kernelLog, only: ["kernel.log"]).host.with {
            $0.kernelLog = .value(KernelLog(records: [.init(seq: 0, time: 1, level: 6, message: "Linux version 6.12")], capped: true))
        }
        let fs = KernelLogCheck.evaluate(CheckContext(host: h))
        #expect(fs.map(\.status) == [.pass])
        #expect(fs.first?.summary.contains("stopped at its bound") == true, "a capped read says so")
    }

    /// The snapshot keeps only the matched lines as dev/kmsg, and --root SNAPSHOT reports them alike.
    @Test func snapshotKeepsOnlyTheMatchedLines() throws {
        let out = try scratchDirectory() + "/snap"
        defer { try? FileManager.default.removeItem(atPath: out) }
        _ = try Snapshot.capture(root: HostFixture.kernelLog.path, scope: .all, output: out)
        let kept = try String(contentsOfFile: out + "/dev/kmsg", encoding: .utf8)
        #expect(!kept.contains("NIC Link is Up") && !kept.contains("Linux version") && !kept.contains("DMAR: IOMMU enabled"))
        #expect(kept.contains("No interrupt remapping support") && kept.contains(" DEVICE=+pci:0000:01:00.0"))
        let a = JSONReporter.document(try probe(.kernelLog))
        let b = JSONReporter.document(try probe(root: out))
        func klog(_ d: JSONValue) -> String {
            guard case .object(let m) = d, let host = m.first(where: { $0.0 == "host" })?.1, case .object(let hm) = host,
                let devices = m.first(where: { $0.0 == "devices" })?.1
            else { return "" }
            let deviceLogs: [JSONValue] =
                if case .array(let ds) = devices {
                    ds.compactMap { if case .object(let dm) = $0 { dm.first { $0.0 == "kernel_log" }?.1 } else { nil } }
                } else { [] }
            return (hm.first { $0.0 == "kernel_log" }?.1.render() ?? "") + JSONValue.array(deviceLogs).render()
        }
        #expect(klog(a) == klog(b) && klog(a).contains("type1-no-ir") && klog(a).contains("dmar-fault"))
    }
}
