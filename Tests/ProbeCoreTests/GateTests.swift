import Foundation
@testable import Live
import Testing
@testable import ProbeCore

/// Every path to exit 0 and to `ready` is true: readiness is part of the gate, interrupt isolation
/// is part of "safe", unknown and partial never grant, a root must look like one, a report that
/// was not written is a failure, the live walk proves only what it opened, and several devices
/// explain themselves.
struct GateTests {
    func status(_ fixture: HostFixture, _ args: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        try runBinary(["--root", fixture.path] + args)
    }

    // MARK: readiness is part of the gate

    @Test(
        arguments: [
            // A NIC on its kernel driver with VFIO not loaded: usable after modprobe and a bind.
            (HostFixture.amdHost, ["--device", "0000:03:00.0", "--require", "vfio"], Verdict.afterActions),
            // The group is shared with a function on ixgbe: not viable until it is rebound.
            (HostFixture.sharedGroup, ["--device", "01:00.0", "--require", "vfio"], Verdict.afterActions),
            (HostFixture.intelVFIOReady, ["--device", "01:00.0", "--require", "vfio"], 0),
            (HostFixture.intelVFIOReady, ["--require", "vfio"], 0),
            (HostFixture.amdHost, ["--require", "vfio"], Verdict.afterActions),
            (HostFixture.noiommuEnabled, ["--device", "00:03.0", "--require", "noiommu"], 0),
            (HostFixture.noiommuEnabled, ["--device", "00:03.0", "--require", "vfio"], 2),
            (HostFixture.intelIOMMUOff, ["--require", "noiommu"], Verdict.afterActions),
            (HostFixture.rmrrDirect, ["--device", "0000:01:00.0", "--require", "noiommu"], 3),
            // Without --require the status is the mode the platform offers.
            (HostFixture.amdHost, ["--device", "0000:03:00.0"], 0),
        ] as [(HostFixture, [String], Int32)])
    func readinessGates(fixture: HostFixture, args: [String], expected: Int32) throws {
        let r = try status(fixture, args + ["--quiet"])
        #expect(r.status == expected, "\(fixture) \(args): \(r.stderr)")
    }

    /// The snapshot of the VM's unprivileged run: uid 1000 cannot open /dev/vfio/2.
    @Test func serviceUserWithoutTheNodeIsNotReady() throws {
        let root = Repo.root + "/Tests/Fixtures/snapshots/unprivileged/tree"
        let r = try runBinary(["--root", root, "--device", "00:02.0", "--require", "vfio", "--format", "json"])
        #expect(r.status == Verdict.afterActions)
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let d = try #require((doc["devices"] as? [[String: Any]])?.first)
        #expect(d["readiness"] as? String == "bindable")
        #expect((d["reasons"] as? [String])?.contains("this user cannot open /dev/vfio/2") == true)
        #expect((doc["verdict"] as? [String: Any])?["holds_now"] as? Bool == false)
    }

    // MARK: interrupt isolation is part of "safe"

    @Test func unsafeInterruptsAreTheirOwnAnswer() throws {
        #expect(try status(.intelNoIR, ["--quiet"]).status == 5)
        #expect(try status(.intelNoIR, ["--quiet", "--device", "00:02.0", "--require", "vfio"]).status == 5)
        #expect(
            try status(.intelNoIR, ["--quiet", "--device", "00:02.0", "--require", "unsafe-interrupts"]).status == Verdict.afterActions)
        // The operator set allow_unsafe_interrupts: accepted only by those who ask for it.
        #expect(try status(.intelNoIRAllowed, ["--quiet", "--device", "00:02.0", "--require", "unsafe-interrupts"]).status == 0)
        #expect(try status(.intelNoIRAllowed, ["--quiet", "--device", "00:02.0", "--require", "vfio"]).status == 5)
        #expect(try status(.intelNoIRAllowed, ["--quiet", "--device", "00:02.0", "--require", "noiommu"]).status == 0)
        let text = try status(.intelNoIR, ["--color", "never"]).stdout
        #expect(text.contains("Verdict: UNSAFE INTERRUPTS ONLY"))
        #expect(text.contains("a device can forge MSIs"))
        // The parameter is an action of the unsafe answer, never of the upgrade to safe VFIO.
        let upgrade = text.components(separatedBy: "For safe VFIO (IOMMU-backed):").last ?? ""
        #expect(!upgrade.contains("allow_unsafe_interrupts"))
    }

    /// A successful type1 walk proves the IOMMU path, not interrupt isolation
    /// (vfio_iommu_type1_attach_group lets it through once allow_unsafe_interrupts is set).
    @Test func liveProofDoesNotMakeUnsafeInterruptsSafe() throws {
        let k = ScriptedKernel()
        k.config = [0x86, 0x80, 0xd3, 0x10]
        let r = try liveProbe(.intelNoIRAllowed, devices: ["0000:00:02.0"], kernel: k)
        #expect(r.verdict.mode == .unsafeInterrupts && r.device.readiness == .ready)
        #expect(r.verdict.exitStatus(requiring: .vfio) == 5)
        #expect(r.verdict.exitStatus(requiring: .unsafeInterrupts) == 0)
    }

    // MARK: unknown never grants

    @Test func unreadableIOMMUFactsGrantNothing() throws {
        let r = try probe(.unreadableIOMMU)
        #expect(r.verdict.answer == .unknown && r.verdict.statedMode == nil)
        #expect(r.verdict.exitCode == 1)
        #expect(r.verdict.undecided.contains { $0.contains("cannot tell whether an IOMMU is active") })
        #expect(r.verdict.actions.contains { $0.contains("run vfio-probe as root") })
        // Unknown, except what is denied on facts that were read: a chipset function (its class)
        // is blocked whatever the IOMMU does.
        let chipset = r.verdict.devices.filter { r.host.device($0.address).flatMap { ChipsetCheck.role($0, r.host) } != nil }
        #expect(!chipset.isEmpty && chipset.allSatisfy { $0.readiness == .blocked })
        #expect(r.verdict.devices.filter { !chipset.contains($0) }.allSatisfy { $0.readiness == .unknown })
        #expect(r.verdict.exitStatus(requiring: .noiommu) == 1)
        let nfd = NFDReporter.render(r)
        #expect(nfd.contains("vfio.mode=unknown") && nfd.contains("vfio.iommu=unknown"))
        #expect(PrometheusReporter.render(r, now: 0).contains("vfio_probe_mode -1"))
        let text = try status(.unreadableIOMMU, ["--color", "never"])
        #expect(text.status == 1)
        #expect(text.stdout.contains("Verdict: UNKNOWN"))
    }

    @Test func unreadableSysGrantsNothing() throws {
        let r = try probe(.unreadableSys)
        #expect(r.verdict.answer == .unknown && r.verdict.exitCode == 1)
        #expect(r.host.deviceListProblem != nil)
        #expect(r.verdict.undecided.contains { $0.hasPrefix("the PCI functions cannot be listed") })
        // With --device, a function that cannot be looked up is not called missing.
        let d = try probe(.unreadableSys, devices: ["0000:01:00.0"])
        #expect(d.verdict.answer == .unknown && d.verdict.exitCode == 1)
        #expect(d.verdict.undecided.contains { $0.contains("0000:01:00.0: cannot tell whether it exists") })
        #expect(d.verdict.exitStatus(requiring: .vfio) != 0)
    }

    /// Behind a vIOMMU, a virtio device on vfio-pci hides VIRTIO_F_ACCESS_PLATFORM: it may bypass
    /// the IOMMU, and a walk that goes through cannot show otherwise.
    @Test func virtioOnVFIOIsUnproven() throws {
        let k = ScriptedKernel()
        k.config = [0xf4, 0x1a, 0x41, 0x10]
        let r = try liveProbe(.virtioNoAccessPlatform, devices: ["0000:00:05.0"], kernel: k)
        #expect(r.live?.walk(.type1, for: PCIAddress("0000:00:05.0")!)?.succeeded == true)
        #expect(r.device.readiness == .unknown)
        #expect(r.device.reasons.contains { $0.contains("VIRTIO_F_ACCESS_PLATFORM cannot be read") })
        #expect(r.verdict.exitStatus(requiring: .unsafeInterrupts) == 1)
    }

    // MARK: partial never grants

    @Test(arguments: [
        (HostFixture.noiommuNotCompiled, ["--only", "kernel.cmdline"]),
        (HostFixture.container, ["--skip", "vfio.dev-nodes"]),
        (HostFixture.intelVFIOReady, ["--only", "iommu.groups", "--skip", "iommu.groups"]),
    ])
    func partialGrantsNothing(fixture: HostFixture, args: [String]) throws {
        let r = try status(fixture, args + ["--format", "json"])
        #expect(r.status == 1, "\(fixture) \(args)")
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let v = try #require(doc["verdict"] as? [String: Any])
        #expect(v["answer"] as? String == "partial")
        #expect(v["mode"] as? String == "unknown")
        #expect(try status(fixture, args + ["--quiet", "--require", "noiommu"]).status == 1)
    }

    /// A check that only informs may be left out: the answer stays whole.
    @Test func skippingAnInformationalCheckKeepsTheAnswer() throws {
        #expect(CheckRegistry.descriptor(for: "kernel.taint")?.decides == false)
        let r = try status(.intelVFIOReady, ["--skip", "kernel.taint", "--quiet", "--require", "vfio"])
        #expect(r.status == 0)
    }

    /// A check marked as only informing never emits an impact, on any fixture.
    @Test(arguments: HostFixture.allCases)
    func informationalChecksDecideNothing(fixture: HostFixture) throws {
        let r = try probe(fixture)
        let informational = Set(CheckRegistry.all.filter { !$0.descriptor.decides }.map { $0.descriptor.id })
        for f in r.findings where informational.contains(f.checkID) {
            #expect(f.impacts.isEmpty, "\(f.checkID) on \(fixture) decides: \(f.impacts.map(\.reason))")
        }
    }

    /// A denial stays a denial: what the checks that ran rule out is ruled out.
    @Test func partialDenialIsStillADenial() throws {
        let r = try status(.rmrrDirect, ["--device", "0000:01:00.0", "--skip", "kernel.", "--quiet"])
        #expect(r.status == 3)
    }

    // MARK: a root must look like a root

    @Test func aRootMustLookLikeOne() throws {
        let empty = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: empty) }
        for args in [["--root", empty], ["groups", "--root", empty], ["snapshot", "--root", empty, "--output", empty + "/out"]] {
            let r = try runBinary(args)
            #expect(r.status == 1, "\(args)")
            #expect(r.stderr.contains("does not look like a host's root: it has no sys"), "\(args): \(r.stderr)")
        }
        let proc = try runBinary(["--root", "/proc", "--quiet"])
        #expect(proc.status == 1 && proc.stderr.contains("not /proc"))
        let parent = Repo.root + "/Tests/Fixtures/snapshots/amd-vfio"
        let snap = try runBinary(["--root", parent, "--quiet"])
        #expect(snap.status == 1 && snap.stderr.contains("\(parent)/tree looks like the snapshot"))
    }

    // MARK: write errors are failures

    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/dev/full")))
    func fullDeviceIsAFailure() throws {
        let r = try runBinary(
            ["-c", "exec \"$0\" --root \"$1\" --format prometheus > /dev/full", Repo.binary, HostFixture.intelVFIOReady.path],
            executable: "/bin/sh")
        #expect(r.status == 1)
        #expect(r.stderr.contains("vfio-probe: cannot write the report: standard output: No space left on device"))
    }

    @Test func closedOutputIsAFailure() throws {
        let closed = try runBinary(
            ["-c", "exec \"$0\" --root \"$1\" >&-", Repo.binary, HostFixture.intelVFIOReady.path], executable: "/bin/sh")
        #expect(closed.status == 1 && closed.stderr.contains("standard output is closed"))
        // EPIPE with SIGPIPE ignored, as systemd runs services.
        let pipe = try runBinary(
            [
                "-c", "trap '' PIPE; (sleep 0.3; \"$0\" --root \"$1\" --format json; echo \"status $?\" >&2) | true",
                Repo.binary, HostFixture.intelVFIOReady.path,
            ], executable: "/bin/sh")
        #expect(pipe.stderr.contains("cannot write the report: standard output: Broken pipe"))
        #expect(pipe.stderr.contains("status 1"))
    }

    /// --output renames a complete file into place, also when the host is degraded (exit 2),
    /// and leaves no temporary file behind.
    @Test func outputIsAtomic() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "stale".write(toFile: dir + "/.vfio.prom.tmp", atomically: false, encoding: .utf8)
        let r = try status(.intelIOMMUOff, ["--format", "prometheus", "--output", dir + "/vfio.prom"])
        #expect(r.status == 2 && r.stdout.isEmpty)
        let text = try String(contentsOfFile: dir + "/vfio.prom", encoding: .utf8)
        #expect(text.hasPrefix("# HELP vfio_probe_mode") && text.contains("vfio_probe_last_run_timestamp_seconds"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["vfio.prom"])
        let bad = try status(.intelIOMMUOff, ["--output", dir + "/missing/vfio.prom"])
        #expect(bad.status == 1 && bad.stderr.contains("cannot write the report"))
    }

    // MARK: the live walk proves what it opened

    /// A PCIe-to-PCI bridge puts both conventional NICs in group 3; 01:01.0 is on vfio-pci,
    /// 01:02.0 has no driver. The group opens for either, but only a VFIO device has a device fd.
    @Test func unboundCompanionIsBindable() throws {
        let k = ScriptedKernel()
        k.vfioDevices = ["0000:01:01.0"]
        k.config = [0x86, 0x80, 0x0e, 0x10]
        let r = try liveProbe(.bridgeGroup, devices: ["0000:01:02.0"], kernel: k)
        #expect(k.leftNothingBehind)
        let f = try #require(r.finding("live.type1"))
        #expect(f.summary.hasPrefix("VFIO_GROUP_GET_DEVICE_FD failed with ENODEV: 0000:01:02.0 is not bound to vfio-pci"))
        #expect(r.device.readiness == .bindable)
        #expect(r.device.actions == Actions.bindToVFIO(PCIAddress("0000:01:02.0")!, currentDriver: nil))
        #expect(r.verdict.exitStatus(requiring: .vfio) == Verdict.afterActions)
    }

    @Test func walkWithoutTheDeviceProvesNoDevice() throws {
        let k = ScriptedKernel()
        k.vfioDevices = ["0000:01:01.0"]
        k.config = [0x86, 0x80, 0x0e, 0x10]
        let r = try liveProbe(.bridgeGroup, devices: ["0000:01:02.0"], kernel: k, deviceOpen: false)
        #expect(r.live?.walk(.type1, for: PCIAddress("0000:01:02.0")!)?.succeeded == true, "the group and container path went through")
        #expect(r.device.readiness == .bindable, "a walk that opened no device proves none")
        let e1000 = ScriptedKernel()
        e1000.config = [0x86, 0x80, 0x0e, 0x10]
        let bound = try liveProbe(.bridgeGroup, devices: ["0000:01:01.0"], kernel: e1000, deviceOpen: true)
        #expect(bound.device.readiness == .ready)
    }

    /// A walk that went through proves nothing about a bridge or an unbound function, even when
    /// the kernel were to answer (VerdictBuilder.provenModes).
    @Test func onlyVFIOBoundFunctionsAreProven() throws {
        let fs = try HostFS(root: HostFixture.bridgeGroup.path)
        let host = HostReader(fs: fs, lookUpNames: false).read(scope: .all)
        var walk = LiveWalk(kind: .type1, steps: [LiveStep(.groupGetDeviceFD, .ok)])
        walk.facts.deviceFlags = 3
        let live = LiveReport(devices: [
            PCIAddress("0000:00:01.0")!: [walk], PCIAddress("0000:01:02.0")!: [walk], PCIAddress("0000:01:01.0")!: [walk],
        ])
        let proven = VerdictBuilder.provenModes(host, live)
        #expect(Set(proven.keys) == [PCIAddress("0000:01:01.0")!])
    }

    // MARK: several devices explain themselves

    @Test func aMissingDeviceIsNamedNotTheOneThatIsFine() throws {
        let r = try probe(.intelVFIOReady, devices: ["0000:01:00.0", "0000:09:00.0"])
        #expect(r.verdict.mode == .unusable)
        #expect(r.verdict.reasons.first == "0000:09:00.0: no such PCI device")
        let fine = try #require(r.verdict.devices.first)
        #expect(fine.reasons == ["it is named together with 0000:09:00.0, which does not exist"])
        #expect(fine.deviceReasons == ["it is named together with 0000:09:00.0, which does not exist"])
    }

    @Test func theAddressMeantOnAnotherDomainIsSuggested() throws {
        let r = try probe(.hyperVGuest, devices: ["00:02.0"])
        #expect(r.verdict.reasons == ["0000:00:02.0: no such PCI device (did you mean 7870:00:02.0?)"])
    }

    @Test func devicesNeedingDifferentModesSaySo() throws {
        let r = try probe(.virtioNoAccessPlatform, devices: ["0000:00:04.0", "0000:00:06.0"])
        #expect(r.verdict.mode == .unusable)
        let blk = try #require(r.verdict.devices.first { $0.address == PCIAddress("0000:00:04.0") })
        #expect(
            blk.reasons == [
                "it needs VFIO without interrupt isolation, 0000:00:06.0 needs no-IOMMU: one process cannot use type1 and no-IOMMU together"
            ])
        let host = try #require(r.verdict.devices.first { $0.address == PCIAddress("0000:00:06.0") })
        #expect(host.reasons.first?.contains("0000:00:04.0 needs VFIO without interrupt isolation") == true)
    }
}

/// An attacker's and a sceptic's trees: a fact the probe cannot read, or a node a container was not
/// given, never turns into a yes.
struct UnreadFactsTests {
    func gate(_ root: String, _ args: [String]) throws -> Int32 {
        try runBinary(["--root", root, "--quiet"] + args).status
    }
    func cleanUp(_ root: String) { try? FileManager.default.removeItem(atPath: (root as NSString).deletingLastPathComponent) }

    @Test func unreadableGroupListing() throws {
        let t = try scratchFixture(.sharedGroup) {
            try ($0 + "/vfio-probe-snapshot/unreadable").appendLine("/sys/kernel/iommu_groups/10/devices")
        }
        defer { cleanUp(t) }
        #expect(try gate(t, ["--device", "0000:01:00.0", "--require", "vfio"]) == 1)
    }

    @Test func unreadableCompanionDriver() throws {
        let t = try scratchFixture(.sharedGroup) {
            try ($0 + "/vfio-probe-snapshot/unreadable").appendLine("/sys/bus/pci/devices/0000:01:00.1/uevent")
            try ($0 + "/vfio-probe-snapshot/unreadable").appendLine("/sys/bus/pci/devices/0000:01:00.1/driver")
        }
        defer { cleanUp(t) }
        #expect(try gate(t, ["--device", "0000:01:00.0", "--require", "vfio"]) == 1)
    }

    @Test func unreadableGroupLinkIsNotNoGroup() throws {
        let t = try scratchFixture(.intelVFIOReady) {
            try ($0 + "/vfio-probe-snapshot/unreadable").appendLine("/sys/bus/pci/devices/0000:01:00.0/iommu_group")
            try "Y\n".write(toFile: $0 + "/sys/module/vfio/parameters/enable_unsafe_noiommu_mode", atomically: true, encoding: .utf8)
        }
        defer { cleanUp(t) }
        #expect(try gate(t, ["--device", "0000:01:00.0", "--require", "noiommu"]) == 1)
        var o = Pipeline.Options()
        o.root = t
        let r = try Pipeline.run(o)
        #expect(r.verdict.devices.first { $0.address == PCIAddress("0000:01:00.0") }?.readiness == .unknown)
    }

    /// setup_nointremap: "nointremap" turns remapping off as intremap=off does.
    @Test func nointremapIsNoRemapping() throws {
        let t = try scratchFixture(.intelVFIOReady) { root in
            let c = try String(contentsOfFile: root + "/proc/cmdline", encoding: .utf8).trimmingCharacters(in: .newlines)
            try (c + " nointremap\n").write(toFile: root + "/proc/cmdline", atomically: true, encoding: .utf8)
        }
        defer { cleanUp(t) }
        #expect(try gate(t, ["--device", "0000:01:00.0", "--require", "vfio"]) == 5)
        #expect(try probeRoot(t).host.remappingOffOnCommandLine == "nointremap")
    }

    @Test func remappingIsNotInferredWithoutInterrupts() throws {
        let t = try scratchFixture(.intelVFIOReady) { try FileManager.default.removeItem(atPath: $0 + "/proc/interrupts") }
        defer { cleanUp(t) }
        #expect(try gate(t, ["--device", "0000:01:00.0", "--require", "vfio"]) == 1)
    }

    /// dmar_ir_support: without INTR_REMAP in the DMAR's flags, VT-d does not remap.
    @Test func dmarWithoutIntrRemapIsNoRemapping() throws {
        let t = try scratchFixture(.intelVFIOReady) { root in
            let path = root + "/sys/firmware/acpi/tables/DMAR"
            var b = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            b[37] &= ~1
            b[9] = 0
            b[9] = UInt8(truncatingIfNeeded: 256 - Int(b.reduce(0) { ($0 + Int($1)) & 0xff }))
            try Data(b).write(to: URL(fileURLWithPath: path))
        }
        defer { cleanUp(t) }
        #expect(try gate(t, ["--device", "0000:01:00.0", "--require", "vfio"]) == 5)
    }

    /// A container given /dev/vfio/vfio but not the group's node: the open fails with ENOENT.
    @Test func missingGroupNodeBlocks() throws {
        let t = try scratchFixture(.intelVFIOReady) { root in
            let m = root + "/vfio-probe-snapshot/dev-nodes"
            let kept = try String(contentsOfFile: m, encoding: .utf8).split(separator: "\n").filter {
                !$0.contains("/dev/vfio/10") && !$0.contains("/dev/vfio/devices/")
            }
            try (kept.joined(separator: "\n") + "\n").write(toFile: m, atomically: true, encoding: .utf8)
        }
        defer { cleanUp(t) }
        #expect(try gate(t, ["--device", "0000:01:00.0", "--require", "vfio"]) == 3)
    }

    @Test func unreadableGroupNameIsNotAnIOMMU() throws {
        let t = try scratchFixture(.noiommuEnabled) {
            try ($0 + "/vfio-probe-snapshot/unreadable").appendLine("/sys/kernel/iommu_groups/0/name")
            try "Y\n".write(
                toFile: $0 + "/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts", atomically: true, encoding: .utf8)
        }
        defer { cleanUp(t) }
        #expect(try gate(t, ["--device", "0000:00:03.0", "--require", "noiommu"]) == 1)
        #expect(try gate(t, ["--device", "0000:00:03.0", "--require", "unsafe-interrupts"]) == 1)
    }

    /// The walk maps 16 KiB: it says nothing of the 64 MiB floor a dataplane pins.
    @Test func liveProofKeepsTheMemlockRequirement() throws {
        let t = try scratchFixture(.intelVFIOReady) { root in
            let st = try String(contentsOfFile: root + "/proc/self/status", encoding: .utf8)
                .replacingOccurrences(of: "000001ffffffffff", with: "000001ffffffbfff")
            try st.write(toFile: root + "/proc/self/status", atomically: true, encoding: .utf8)
        }
        defer { cleanUp(t) }
        let r = try liveProbe(root: t, devices: ["0000:01:00.0"], kernel: ScriptedKernel())
        #expect(r.live?.walk(.type1, for: PCIAddress("0000:01:00.0")!)?.succeeded == true)
        #expect(r.device.readiness == .bindable)
        #expect(r.device.actions == [MemlockCheck.descriptor.remedy])
        #expect(r.verdict.exitStatus(requiring: .vfio) == Verdict.afterActions)
    }

    /// vfio_pci_validate_vf_token: a VF whose PF is on vfio-pci needs the PF owner's token.
    @Test func vfOfAVFIOPFNeedsTheToken() throws {
        #expect(try gate(HostFixture.sriovPF.path, ["--device", "0000:01:02.0", "--require", "vfio"]) == Verdict.afterActions)
    }

    /// A site check that crashed may have vetoed: no answer.
    @Test func crashedSiteCheckGrantsNothing() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "#!/bin/sh\nkill -SEGV $$\n".write(toFile: dir + "/veto", atomically: true, encoding: .utf8)
        chmod(dir + "/veto", 0o755)
        let r = try runBinary([
            "--root", HostFixture.intelVFIOReady.path, "--checks-dir", dir, "--device", "0000:01:00.0", "--require", "vfio", "--quiet",
        ])
        #expect(r.status == 1)
    }

    /// A PF with VFs enabled: vfio_pci_core_register_device refuses it ("Cannot bind to PF with
    /// SR-IOV enabled"), so the binding starts by destroying the VFs, said so.
    @Test func pfWithVFsIsRebindOnlyAfterDestroyingThem() throws {
        let t = try scratchFixture(.sriovPF) { root in
            let ue = root + "/sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0/uevent"
            let text = try String(contentsOfFile: ue, encoding: .utf8).replacingOccurrences(of: "DRIVER=vfio-pci", with: "DRIVER=ice")
            try text.write(toFile: ue, atomically: true, encoding: .utf8)
        }
        defer { cleanUp(t) }
        let r = try probeRoot(t, devices: ["0000:01:00.0"])
        let d = try #require(r.verdict.devices.first)
        #expect(
            d.actions.first
                == Actions.disableSRIOV(
                    PCIAddress("0000:01:00.0")!, vfs: [PCIAddress("0000:01:02.0")!, PCIAddress("0000:01:02.1")!], count: 2))
        #expect(d.actions.first?.contains("DESTRUCTIVE: destroys 0000:01:02.0 0000:01:02.1") == true)
    }
}

func probeRoot(_ root: String, devices: [String] = []) throws -> Report {
    var o = Pipeline.Options()
    o.root = root
    o.devices = devices.compactMap(PCIAddress.init)
    return try Pipeline.run(o)
}
