import Foundation
import Testing
@testable import ProbeCore

/// The right driver: a device's vfio-pci variant (modules.alias's vfio_pci: aliases) and what
/// binds it at the next boot. Each test names the kernel (or kmod) function it follows.
struct DriverTests {
    func host(_ fixture: HostFixture) throws -> ProbeCore.Host {
        HostReader(fs: try HostFS(root: fixture.path), lookUpNames: false).read(scope: .all)
    }

    func findings(_ check: any Check.Type, _ h: ProbeCore.Host, _ bdf: String) -> [Finding] {
        check.evaluate(CheckContext(host: h)).filter { $0.subject == .device(PCIAddress(bdf)!) }
    }

    func verdict(_ h: ProbeCore.Host, _ bdf: String) throws -> DeviceVerdict {
        let findings = CheckRegistry.run(CheckRegistry.all, CheckContext(host: h))
        let v = VerdictBuilder.build(host: h, findings: findings, deviceScoped: false)
        return try #require(v.devices.first { $0.address.description == bdf })
    }

    // MARK: reading

    /// file2alias's do_pci_entry writes "vfio_pci:" for override_only entries
    /// (PCI_DRIVER_OVERRIDE_DEVICE_VFIO); only those lines are kept, without vfio_pci's own
    /// match-all entry.
    @Test func onlyVariantAliasesAreKept() throws {
        let aliases = try #require(try host(.connectXVF).modules.drivers.variantAliases.value)
        #expect(aliases.map(\.module) == ["mlx5_vfio_pci", "hisi_acc_vfio_pci", "pds_vfio_pci", "virtio_vfio_pci"])
        #expect(aliases.allSatisfy { $0.pattern.hasPrefix("vfio_pci:") && !$0.builtIn })
        #expect(try host(.connectXVF).modules.drivers.loadedVariants == ["mlx5_vfio_pci"])
        // A kernel without modules (CONFIG_MODULES=n) has no modules.alias: nothing to say.
        #expect(try host(.intelVFIOReady).modules.drivers.variantAliases.value == nil)
    }

    /// A snapshot keeps only modules.alias's vfio_pci: lines, and reads back the same.
    @Test func snapshotKeepsOnlyVariantAliases() throws {
        let d = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: d) }
        _ = try Snapshot.capture(root: HostFixture.connectXVF.path, scope: .all, output: d + "/snap")
        let kept = try String(contentsOfFile: d + "/snap/lib/modules/6.12.95-vfiotest/modules.alias", encoding: .utf8)
        #expect(kept.split(separator: "\n").allSatisfy { $0.hasPrefix("alias vfio_pci:") })
        let again = HostReader(fs: try HostFS(root: d + "/snap"), lookUpNames: false).read(scope: .all)
        #expect(again.modules.drivers.variantAliases.value == (try host(.connectXVF)).modules.drivers.variantAliases.value)
        #expect(again.modules.drivers.savedOverrides == [PCIAddress("0000:02:00.4")!: "mlx5_vfio_pci"])
    }

    /// depmod's modules.builtin.alias lists the aliases of built-in drivers: no modprobe then.
    @Test func builtInVariantsAreRead() throws {
        let root = try scratchFixture(.connectXVF) { root in
            let dir = root + "/lib/modules/6.12.95-vfiotest"
            try "alias pci:v*d*sv*sd*bc*sc*i* vfio_pci\n".write(toFile: dir + "/modules.alias", atomically: true, encoding: .utf8)
            try "alias vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i* mlx5_vfio_pci\n".write(
                toFile: dir + "/modules.builtin.alias", atomically: true, encoding: .utf8)
        }
        defer { try? FileManager.default.removeItem(atPath: root) }
        let h = HostReader(fs: try HostFS(root: root), lookUpNames: false).read(scope: .all)
        #expect(
            h.modules.drivers.variantAliases.value == [
                VariantAlias(pattern: "vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i*", module: "mlx5_vfio_pci", builtIn: true)
            ])
        let vf = try #require(h.device(PCIAddress("0000:02:00.2")!))
        #expect(Actions.bindToVFIO(vf, on: h).first == "echo mlx5_vfio_pci > /sys/bus/pci/devices/0000:02:00.2/driver_override")
    }

    /// Without modules.builtin.alias (kmod before 27), the kernel's modules.builtin.modinfo:
    /// NUL-separated "MODULE.alias=…" entries (modpost's .modinfo of built-in code).
    @Test func builtInModinfoAliasesAreRead() throws {
        let root = try scratchFixture(.connectXVF) { root in
            let dir = root + "/lib/modules/6.12.95-vfiotest"
            try FileManager.default.removeItem(atPath: dir + "/modules.alias")
            let modinfo =
                "mlx5_vfio_pci.license=GPL\0mlx5_vfio_pci.alias=vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i*\0"
                + "vfio_pci.alias=vfio_pci:v*d*sv*sd*bc*sc*i*\0e1000e.alias=pci:v00008086d000010D3sv*sd*bc*sc*i*\0"
            try modinfo.write(toFile: dir + "/modules.builtin.modinfo", atomically: true, encoding: .utf8)
        }
        defer { try? FileManager.default.removeItem(atPath: root) }
        let h = HostReader(fs: try HostFS(root: root), lookUpNames: false).read(scope: .all)
        #expect(
            h.modules.drivers.variantAliases.value == [
                VariantAlias(pattern: "vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i*", module: "mlx5_vfio_pci", builtIn: true)
            ])
        let kept = HostReader.variantAliasesOnly(
            "/lib/modules/r/modules.builtin.modinfo", Array("a.license=GPL\0b.alias=vfio_pci:v1\0".utf8))
        #expect(kept == Array("b.alias=vfio_pci:v1\0".utf8))
    }

    /// pci_uevent's MODALIAS ("v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X", upper case), matched with
    /// fnmatch as kmod matches aliases.
    @Test func modaliasAndGlob() throws {
        let vf = try #require(try host(.connectXVF).device(PCIAddress("0000:02:00.2")!))
        #expect(VariantAlias.modalias(vf) == "vfio_pci:v000015B3d0000101Esv000015B3sd00000016bc02sc00i00")
        func m(_ p: String, _ s: String) -> Bool { VariantAlias.fnmatch(Array(p.utf8), Array(s.utf8)) }
        #expect(m("vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i*", VariantAlias.modalias(vf)))
        #expect(!m("vfio_pci:v000015B3d0000101Dsv*sd*bc*sc*i*", VariantAlias.modalias(vf)))
        #expect(m("a?c", "abc") && !m("a?c", "ac"))
        #expect(m("v[0-9]x", "v7x") && !m("v[!0-9]x", "v7x") && m("v[!0-9]x", "vAx"))
        #expect(m("*bc02*", "xbc02y") && m("**", "") && !m("a*b", "ac"))
    }

    /// vfio_pci_fill_ids / pci_stub_init: sscanf("%x:%x:%x:%x:%x:%x"), at least two fields, the rest
    /// PCI_ANY_ID and class 0/0; matched as pci_match_one_id matches a dynid.
    @Test func idsParseAsTheKernelParsesThem() throws {
        #expect(PCIIDMatch.list("10de:1eb8,,0x8086:0x1572,10de,zz:1").map(\.text) == ["10de:1eb8", "0x8086:0x1572"])
        let full = try #require(PCIIDMatch("8086:1572:ffffffff:ffffffff:020000:ff0000"))
        #expect((full.subvendor, full.classCode, full.classMask) == (PCIIDMatch.any, 0x020000, 0xff0000))
        let h = try host(.bootBinding)
        let nic = try #require(h.device(PCIAddress("0000:01:00.0")!))
        #expect(full.matches(nic))
        #expect(PCIIDMatch("8086:1572:8086:0")!.matches(nic))
        #expect(!PCIIDMatch("8086:1572:8086:1")!.matches(nic))
        #expect(!PCIIDMatch("8086:1572:ffffffff:ffffffff:030000:ff0000")!.matches(nic), "the class under the mask differs")
        #expect(PCIIDMatch("ffffffff:1572")!.matches(nic), "PCI_ANY_ID as the vendor")
    }

    /// modprobe.d(5), as kmod_config_parse reads it: underscores() on module names, '\'
    /// continuations, '#' comment lines, and a
    /// file in /etc/modprobe.d hiding one of the same name in /lib/modprobe.d.
    @Test func modprobeConfigurationIsReadAsKmodReadsIt() throws {
        var c = ModprobeConfig()
        c.parse(
            "# options vfio-pci ids=9:9\noptions vfio-pci ids=1:2\noptions vfio_pci \\\n disable_idle_d3=1 ids=\"10de:1eb8\"\nsoftdep nouveau pre: vfio-pci post: snd-hda-intel\n",
            file: "/etc/modprobe.d/a.conf")
        #expect(c.ids("vfio_pci")?.value == "10de:1eb8", "the last ids= wins (param_set_copystring)")
        #expect(c.softdeps == [.init(module: "nouveau", pre: ["vfio_pci"], post: ["snd_hda_intel"], file: "/etc/modprobe.d/a.conf")])
        #expect(c.loadsBefore("vfio_pci", "nouveau") != nil)

        let root = try scratchFixture(.bootBinding) { root in
            try FileManager.default.createDirectory(atPath: root + "/lib/modprobe.d", withIntermediateDirectories: true)
            try "options vfio-pci ids=1234:5678\n".write(toFile: root + "/lib/modprobe.d/vfio.conf", atomically: true, encoding: .utf8)
            try "options vfio-pci ids=ffff:0001\n".write(toFile: root + "/lib/modprobe.d/zz.conf", atomically: true, encoding: .utf8)
            try "options vfio-pci ids=ffff:0002\n".write(toFile: root + "/lib/modprobe.d/zz.txt", atomically: true, encoding: .utf8)
        }
        defer { try? FileManager.default.removeItem(atPath: root) }
        let read = HostReader(fs: try HostFS(root: root), lookUpNames: false).readModprobeConfig()
        #expect(read.files == ["/lib/modprobe.d/systemd.conf", "/etc/modprobe.d/vfio.conf", "/lib/modprobe.d/zz.conf"])
        #expect(read.ids("vfio_pci")?.value == "ffff:0001", "files are read in the order of their names")
    }

    // MARK: device.variant-driver

    /// mlx5vf_pci_table: PCI_DRIVER_OVERRIDE_DEVICE_VFIO(MELLANOX, 0x101e); pci_match_device
    /// offers it only to driver_override, so the bind actions write mlx5_vfio_pci there.
    @Test func connectXVFBindsToMlx5VFIOPCI() throws {
        let h = try host(.connectXVF)
        let vf = try verdict(h, "0000:02:00.2")
        #expect(vf.readiness == .bindable)
        #expect(
            vf.actions == Actions.bindToVFIO(PCIAddress("0000:02:00.2")!, currentDriver: "mlx5_core", driver: "mlx5_vfio_pci"))
        // The PF (101d) has no variant: plain vfio-pci (after its VFs go).
        #expect(h.modules.drivers.variant(for: h.device(PCIAddress("0000:02:00.0")!)!) == nil)
        // Not loaded yet: modprobe first.
        let unloaded = h.with { $0.modules.drivers.loadedVariants = [] }
        #expect(try verdict(unloaded, "0000:02:00.2").actions.first == "modprobe mlx5_vfio_pci")
        #expect(findings(VariantDriverCheck.self, h, "0000:02:00.2").map(\.status) == [.info])
    }

    /// virtiovf_pci_probe gives the legacy I/O BAR only to a VF (pdev->is_virtfn), and
    /// mlx5vf_cmd_set_migratable returns early for a function that is not one: such a function
    /// (a virtio-net PF, a VF passed into a guest) is bound to plain vfio-pci.
    @Test func vfOnlyVariantsAreNotForOtherFunctions() throws {
        let h = try host(.connectXVF).with { $0.devices[PCIAddress("0000:02:00.2")!]!.physfn = nil }
        let guestVF = try #require(h.device(PCIAddress("0000:02:00.2")!))
        #expect(h.modules.drivers.variant(for: guestVF)?.module == "mlx5_vfio_pci")
        #expect(Actions.bindToVFIO(guestVF, on: h) == Actions.bindToVFIO(guestVF.address, currentDriver: "mlx5_core"))
        let f = try #require(findings(VariantDriverCheck.self, h, "0000:02:00.2").first)
        #expect(f.status == .info && f.summary.contains("not a VF"))
    }

    /// mlx5vf_cmd_set_migratable sets VFIO_MIGRATION_STOP_COPY | P2P | PRE_COPY; a VF on plain
    /// vfio-pci has none of it (warn, readiness unchanged).
    @Test func plainVFIOPCIWhereAVariantExistsIsAWarning() throws {
        let h = try host(.connectXVF)
        let f = try #require(findings(VariantDriverCheck.self, h, "0000:02:00.3").first)
        #expect(f.status == .warn && f.impacts.isEmpty)
        #expect(f.summary.contains("mlx5_vfio_pci") && f.summary.contains("live migration (STOP_COPY, P2P, PRE_COPY)"))
        #expect(try verdict(h, "0000:02:00.3").readiness == .ready)
        #expect(findings(VariantDriverCheck.self, h, "0000:02:00.4").map(\.status) == [.pass])
    }

    /// The variants of drivers/vfio/pci in 6.12: migration where vfio_device_ops' init sets
    /// mig_ops (mlx5, hisi_acc, pds, qat); virtio_vfio_pci's only in 6.13 (virtiovf_pci_probe in
    /// 6.12 emulates the legacy I/O BAR); nvgrace_gpu_vfio_pci none.
    @Test func liveMigrationByVariant() {
        let v612 = KernelVersion(6, 12)
        #expect(
            ["mlx5_vfio_pci", "hisi_acc_vfio_pci", "pds_vfio_pci", "qat_vfio_pci"].allSatisfy {
                VariantCapability.of($0, on: v612)?.liveMigration == true
            })
        #expect(VariantCapability.of("virtio_vfio_pci", on: v612)?.liveMigration == false)
        #expect(VariantCapability.of("virtio_vfio_pci", on: KernelVersion(6, 13))?.liveMigration == true)
        #expect(VariantCapability.of("nvgrace_gpu_vfio_pci", on: v612)?.liveMigration == false)
        #expect(VariantCapability.of("some_vfio_pci", on: v612) == nil)
    }

    @Test func jsonCarriesTheVariant() throws {
        let parsed = try JSONParser.parse(JSONReporter.render(try probe(.connectXVF)))
        guard case .array(let devices)? = parsed["devices"] else {
            Issue.record("no devices array")
            return
        }
        func device(_ bdf: String) -> JSONValue? { devices.first { $0["bdf"]?.stringValue == bdf } }
        let bound = try #require(device("0000:02:00.4")?["variant_driver"])
        #expect(bound["name"]?.stringValue == "mlx5_vfio_pci")
        #expect(bound["bound"] == .bool(true) && bound["live_migration"] == .bool(true) && bound["built_in"] == .bool(false))
        #expect(bound["migration_flags"] == .array([.string("STOP_COPY"), .string("P2P"), .string("PRE_COPY")]))
        #expect(device("0000:02:00.2")?["variant_driver"]?["bound"] == .bool(false))
        #expect(device("0000:02:00.0")?["variant_driver"] == .null, "the PF has no variant")
    }

    // MARK: device.boot-binding

    func boot(_ h: ProbeCore.Host, _ bdf: String) throws -> Finding {
        try #require(findings(BootBindingCheck.self, h, bdf).first)
    }

    /// driver_override is dropped with the device; options vfio-pci ids= that do not name it
    /// (vfio_pci_fill_ids adds only the listed dynids) do not bring it back.
    @Test func overrideOnlyIsLostAtReboot() throws {
        let h = try host(.bootBinding)
        let f = try boot(h, "0000:01:00.0")
        #expect(f.status == .warn && f.impacts.isEmpty)
        #expect(f.summary.contains("driver_override only") && f.summary.contains("does not name 8086:1572"))
        // Without any ids= configured it is how libvirt and dpdk-devbind work: info.
        #expect(try boot(try host(.intelVFIOReady), "0000:01:00.0").status == .info)
        #expect(findings(BootBindingCheck.self, h, "0000:01:00.1").isEmpty, "nothing configured for the port on i40e")
    }

    /// modprobe runs an install command instead of loading vfio-pci; such a script may write
    /// driver_override at boot (the probe does not run it): info, not "lost".
    @Test func installCommandMayRestoreTheOverride() throws {
        let h = try host(.bootBinding).with {
            $0.modules.drivers.modprobe.parse(
                "install vfio-pci /usr/local/bin/vfio-pci-override.sh; /sbin/modprobe --ignore-install vfio-pci\n",
                file: "/etc/modprobe.d/override.conf")
        }
        let f = try boot(h, "0000:01:00.0")
        #expect(f.status == .info && f.summary.contains("unless \"install vfio-pci /usr/local/bin/vfio-pci-override.sh"))
        #expect(f.evidence.contains { $0.path == "/etc/modprobe.d/override.conf" })
    }

    /// vfio-pci.ids= on the command line that do not name the device (vfio_pci_fill_ids adds
    /// only what is listed): the override alone holds it, and the remedy says where to fix the ids.
    @Test func commandLineIDsThatMissAreAWarning() throws {
        let h = try host(.bootBinding).with { $0.kernel.cmdline = .value(KernelCommandLine("intel_iommu=on vfio-pci.ids=8086:1573")) }
        let f = try boot(h, "0000:01:00.0")
        #expect(f.status == .warn && f.summary.contains("vfio-pci.ids=8086:1573 on the command line does not name 8086:1572"))
        #expect(f.remedy == "driverctl set-override 0000:01:00.0 vfio-pci  # or add 8086:1572 to vfio-pci.ids= on the command line")
    }

    /// pci_stub_init adds pci-stub.ids= as dynids at its initcall: built in, before any module
    /// (and drivers/pci links before drivers/vfio), so vfio-pci's modprobe.d ids never get it.
    @Test func builtInPCIStubWins() throws {
        let h = try host(.bootBinding)
        #expect(h.modules.state("pci_stub") == .builtIn)
        let f = try boot(h, "0000:65:00.0")
        #expect(f.status == .warn)
        #expect(f.summary.contains("pci-stub takes it again") && f.summary.contains("never gets it"))
        // As a module nothing loads (no id_table, so no alias), pci-stub races and vfio-pci's ids
        // remain a race too.
        let module = h.with { $0.modules.byName["pci_stub"]?.state = .available }
        #expect(try boot(module, "0000:65:00.0").summary.contains("takes it if it loads before"))
    }

    /// vfio-pci as a module has no pci: alias for the device: without a softdep on the device's
    /// driver it loads too late, and the driver keeps it.
    @Test func moduleIDsNeedASoftdep() throws {
        let h = try host(.bootBinding)
        let f = try boot(h, "0000:66:00.0")
        #expect(f.status == .warn)
        #expect(f.remedy?.hasPrefix("echo \"softdep nouveau pre: vfio-pci\"") == true)
        let softdep = h.with {
            $0.modules.drivers.modprobe.softdeps = [
                .init(module: "nouveau", pre: ["vfio_pci"], post: [], file: "/etc/modprobe.d/vfio.conf")
            ]
        }
        // With the softdep, a device still on nouveau means nouveau came first all the same
        // (from an initramfs made before the softdep).
        let after = try boot(softdep, "0000:66:00.0")
        #expect(
            after.status == .warn && after.summary.contains("softdep nouveau pre: vfio_pci")
                && after.summary.contains("yet it is on nouveau"))
    }

    /// kmod_config_new reads /proc/cmdline's module options after the files, so the command
    /// line's ids= reaches vfio-pci last and wins; a built-in vfio-pci sees only the command line.
    @Test func commandLineIDsWinAndBuiltInIgnoresModprobeD() throws {
        let h = try host(.bootBinding)
        let cmdline = h.with { $0.kernel.cmdline = .value(KernelCommandLine("intel_iommu=on vfio-pci.ids=8086:1572")) }
        #expect(try boot(cmdline, "0000:01:00.0").status == .info, "vfio-pci.ids= names it; a race for a module")
        #expect(findings(BootBindingCheck.self, cmdline, "0000:66:00.0").isEmpty, "modprobe.d's 10de:2236 is overridden")
        // Bound without an override: the built-in vfio-pci's ids took it at this boot, and will again.
        let builtIn = cmdline.with {
            $0.modules.byName["vfio_pci"]?.state = .builtIn
            $0.devices[PCIAddress("0000:01:00.0")!]!.driverOverride = nil
        }
        let f = try boot(builtIn, "0000:01:00.0")
        #expect(f.status == .pass && f.summary.contains("vfio-pci built in"))
        #expect(f.detail?.contains("also takes 0000:01:00.1") == true, "ids= match by id, not by slot")
        // dracut's rd.driver.pre= loads vfio-pci before udev: its ids win over the device's driver.
        let dracut = h.with { $0.kernel.cmdline = .value(KernelCommandLine("intel_iommu=on rd.driver.pre=vfio-pci")) }
        #expect(try boot(dracut, "0000:66:00.0").summary.contains("rd.driver.pre=vfio-pci loads it first"))
        let noCmdline = h.with { $0.modules.byName["vfio_pci"]?.state = .builtIn }
        #expect(findings(BootBindingCheck.self, noCmdline, "0000:66:00.0").isEmpty, "built in: modprobe.d options are never read")
    }

    /// Built-in drivers register in link order (do_initcalls): a built-in device driver linked
    /// before drivers/vfio binds first, and no softdep orders a built-in driver.
    @Test func aBuiltInOwnDriverBindsFirst() throws {
        let h = try host(.bootBinding).with {
            $0.kernel.cmdline = .value(KernelCommandLine("intel_iommu=on vfio-pci.ids=10de:2236"))
            $0.modules.byName["vfio_pci"]?.state = .builtIn
            $0.modules.builtInNames.insert("nouveau")
        }
        let f = try boot(h, "0000:66:00.0")
        #expect(f.status == .warn && f.summary.contains("nouveau is built in and binds first"))
        #expect(f.remedy == "driverctl set-override 0000:66:00.0 vfio-pci", "a softdep cannot order a built-in driver")
        // On vfio-pci by an override, with built-in ids: its own driver may have won at boot.
        let nic = h.with { $0.kernel.cmdline = .value(KernelCommandLine("intel_iommu=on vfio-pci.ids=8086:1572")) }
        let g = try boot(nic, "0000:01:00.0")
        #expect(g.status == .info && g.summary.contains("unless its own driver is built in"))
    }

    /// driverctl's udev rule applies /etc/driverctl.d/pci-BDF again when the device appears.
    @Test func driverctlOverrideSurvives() throws {
        let h = try host(.connectXVF)
        let f = try boot(h, "0000:02:00.4")
        #expect(f.status == .pass && f.summary.contains("driverctl"))
        let saved = h.with { $0.modules.drivers.savedOverrides[PCIAddress("0000:02:00.2")!] = "mlx5_vfio_pci" }
        #expect(try boot(saved, "0000:02:00.2").status == .info, "on mlx5_core now, on mlx5_vfio_pci after the next boot")
    }

    /// A built-in vfio-pci with vfio-pci.ids= naming the device binds it at its initcall; a
    /// device on its own driver all the same means that driver bound first (or a rebind since).
    @Test func builtInIDsThatLostAreAWarning() throws {
        let h = try host(.bootBinding).with {
            $0.kernel.cmdline = .value(KernelCommandLine("intel_iommu=on vfio-pci.ids=10de:2236"))
            $0.modules.byName["vfio_pci"]?.state = .builtIn
        }
        let f = try boot(h, "0000:66:00.0")
        #expect(f.status == .warn && f.summary.contains("yet it is on nouveau"))
        #expect(f.remedy == "driverctl set-override 0000:66:00.0 vfio-pci")
    }
}
