/// Which driver takes the device at the next boot, and whether that is the one bound now.
public struct BootBindingCheck: Check {
    public static let descriptor = CheckDescriptor(
        id: "device.boot-binding",
        title: "The binding survives a reboot",
        category: .device,
        rationale:
            "driver_override lives until the device goes away: a reboot drops it. What binds at boot is configuration: a driverctl override (its udev rule writes driver_override again), pci-stub.ids= and vfio-pci.ids= (dynamic ids, which pci_match_device tries before a driver's own table), options vfio-pci ids= in modprobe.d (only when vfio-pci is a module, and only if it loads before the device's own driver: no pci: alias loads it for the device), and otherwise the device's own driver through its modalias. Built-in drivers bind at their initcalls, before any module; pci-stub (drivers/pci) before vfio-pci (drivers/vfio). A driver the initramfs loads binds before anything the root file system loads: the next initramfs needs vfio-pci too (initramfs-tools' modules file; dracut's force_drivers, which it modprobes before udev's coldplug), read here from the generator's configuration.",
        remedy: "Make the binding persistent: driverctl set-override BDF vfio-pci.",
        looksAt: [
            "/proc/cmdline (vfio-pci.ids=, pci-stub.ids=)",
            "/etc/modprobe.d, /run/modprobe.d, /usr/local/lib/modprobe.d, /usr/lib/modprobe.d, /lib/modprobe.d (options, softdep)",
            "/etc/driverctl.d/pci-BDF", "/sys/bus/pci/devices/BDF/driver_override", "modules.builtin, CONFIG_VFIO_PCI, CONFIG_PCI_STUB",
            "/etc/initramfs-tools/modules, /etc/dracut.conf, /etc/dracut.conf.d/*.conf (add_drivers, force_drivers)",
        ],
        examples: [
            .pass("connectx-vf", device: "0000:02:00.4"),
            .info("intel-vfio-ready", device: "0000:01:00.0"),
            .warn(
                "boot-binding", device: "0000:01:00.0",
                remedy: "driverctl set-override 0000:01:00.0 vfio-pci  # or add 8086:1572 to vfio-pci's ids= in modprobe.d"),
            .warn(
                "boot-binding", device: "0000:65:00.0",
                remedy: Actions.kernelParameter(remove: "pci-stub.ids=10de:1eb8")
                    + "; then options vfio-pci ids=10de:1eb8,10de:2236,8086:1573 in /etc/modprobe.d/vfio.conf takes it only if vfio-pci loads before the device's own driver: driverctl set-override 0000:65:00.0 vfio-pci"
            ),
            .warn(
                "boot-binding", device: "0000:66:00.0",
                remedy:
                    "echo \"softdep nouveau pre: vfio-pci\" >> /etc/modprobe.d/vfio.conf, and rebuild the initramfs (update-initramfs -u) if nouveau loads from it"
            ),
        ], decides: false)

    /// Who takes the device at boot, and on what authority.
    enum Claim: Equatable {
        /// A driver that certainly binds it, and why.
        case binds(String, because: String)
        /// driverctl's saved override: its udev rule rebinds the device when it appears.
        case saved(String, because: String)
        /// vfio-pci or pci-stub as a module with ids naming it: it binds only if it loads before
        /// the device's own driver.
        case races(String, because: String)
        /// Nothing configured: the device's own driver, by its modalias.
        case ownDriver
    }

    /// Where a module's ids= at boot come from.
    struct IDs {
        var value: String
        var source: String
        var onCommandLine: Bool
        /// The modprobe.d file, and the module as written there.
        var file: String? = nil
        var module: String = ""
    }

    struct Sources {
        var vfio: (entry: PCIIDMatch, ids: IDs)?
        var stub: (entry: PCIIDMatch, ids: IDs)?
        /// vfio-pci's ids= when they do not name the device.
        var vfioMiss: IDs?
    }

    /// The ids= a module is given at boot, and where from. A built-in driver sees only the command
    /// line; for a module, kmod passes the modprobe.d options and then the command line's
    /// (kmod_config_new reads /proc/cmdline last), and the last ids= wins (param_set_copystring).
    static func ids(_ module: String, _ dashed: String, host: Host) -> IDs? {
        if let c = host.kernel.cmdline.value?.value("\(module).ids") {
            return IDs(value: c, source: "\(dashed).ids=\(c) on the command line", onCommandLine: true)
        }
        guard host.modules.state(module) != .builtIn, let m = host.modules.drivers.modprobe.ids(module) else { return nil }
        return IDs(
            value: m.value, source: "options \(dashed) ids=\(m.value) in \(m.file)", onCommandLine: false, file: m.file, module: dashed)
    }

    /// The host's ids= configurations, parsed once for all its functions.
    struct Configured {
        var vfio: (ids: IDs, list: [PCIIDMatch])?
        var stub: (ids: IDs, list: [PCIIDMatch])?
        init(_ host: Host) {
            vfio = ids("vfio_pci", "vfio-pci", host: host).map { ($0, PCIIDMatch.list($0.value)) }
            stub = ids("pci_stub", "pci-stub", host: host).map { ($0, PCIIDMatch.list($0.value)) }
        }
    }

    static func sources(_ d: PCIDevice, _ host: Host, _ configured: Configured? = nil) -> Sources {
        let c = configured ?? Configured(host)
        var s = Sources()
        if let v = c.vfio {
            if let e = v.list.first(where: { $0.matches(d) }) { s.vfio = (e, v.ids) } else { s.vfioMiss = v.ids }
        }
        if let p = c.stub, let e = p.list.first(where: { $0.matches(d) }) { s.stub = (e, p.ids) }
        return s
    }

    /// The next boot's claim, by precedence: a saved driverctl override; built-in pci-stub's
    /// ids (pci_stub_init, at its initcall); built-in vfio-pci's (vfio_pci_fill_ids); vfio-pci or
    /// pci-stub as modules, whose ids work only if they load first (a softdep on the device's driver).
    static func claim(_ d: PCIDevice, _ s: Sources, _ host: Host) -> Claim {
        if let saved = host.modules.drivers.savedOverrides[d.address] {
            return .saved(saved, because: "driverctl's saved override (\(DriverConfig.driverctlDirectory)/pci-\(d.bdf))")
        }
        let own = d.driver.flatMap { DriverClass($0) == .kernel ? ModprobeConfig.moduleName($0) : nil }
        for (driver, module, entry) in [("pci-stub", "pci_stub", s.stub), ("vfio-pci", "vfio_pci", s.vfio)] {
            guard let found = entry?.ids else { continue }
            let state = host.modules.state(module)
            // Built-in drivers register at their initcalls in link order: drivers/pci (pci-stub)
            // before every device driver, drivers/vfio after most (gpu, net, nvme, ata).
            if state == .builtIn, module == "vfio_pci", let own, host.modules.isBuiltIn(own) == true {
                return .races(driver, because: found.source)  // evaluate says why
            }
            if state == .builtIn { return .binds(driver, because: "\(found.source), \(driver) built in") }
            // dracut loads rd.driver.pre= modules before udev starts.
            if let c = host.kernel.cmdline.value, c.options("rd.driver.pre").contains(where: { ModprobeConfig.moduleName($0) == module }) {
                return .binds(driver, because: "\(found.source), and rd.driver.pre=\(driver) loads it first")
            }
            // dracut's force_drivers are modprobed before udev's coldplug reaches the devices.
            if let e = host.modules.drivers.initramfs.entry(module), e.loadedEarly, host.modules.drivers.initramfs.generator == .dracut {
                return .binds(driver, because: "\(found.source), and force_drivers in \(e.file) loads it in the initramfs first")
            }
            if let own, let dep = host.modules.drivers.modprobe.loadsBefore(module, own) {
                return .binds(driver, because: "\(found.source), and softdep \(own) pre: \(module) in \(dep.file)")
            }
            return .races(driver, because: found.source)
        }
        return .ownDriver
    }

    /// Whether the next initramfs holds the stub driver: a device driver that loads from the
    /// initramfs binds before anything loaded later from the root file system.
    static func initramfsNote(_ driver: String, _ host: Host) -> String? {
        let c = host.modules.drivers.initramfs
        guard let gen = c.generator else { return nil }
        let module = ModprobeConfig.moduleName(driver)
        if let e = c.entry(module) {
            return
                "\(driver) is in the next initramfs (\(e.file)\(e.loadedEarly ? ", loaded by its init" : ", loaded by alias")); after a change run \(gen.rebuild)."
        }
        let file =
            gen == .dracut ? "force_drivers+=\" \(driver) \" in /etc/dracut.conf.d/vfio.conf" : "\(driver) in /etc/initramfs-tools/modules"
        return
            "\(driver) is not in the next initramfs's configuration (\(gen.rawValue)): a device driver loaded from the initramfs binds first; add \(file) and run \(gen.rebuild)."
    }

    public static func evaluate(_ context: CheckContext) -> [Finding] {
        let host = context.host
        let configured = Configured(host)
        return host.selectedDevices.compactMap { d -> Finding? in
            guard d.headerType ?? 0 == 0 else { return nil }
            let s = sources(d, host, configured)
            let claim = claim(d, s, host)
            let subject = Subject.device(d.address)
            let id = "\(hex(d.vendorID, 4)):\(hex(d.deviceID, 4))"
            let now = d.driver ?? "no driver"
            let wanted = Actions.vfioDriver(for: d, on: host)
            let override = d.driverOverride
            var ev = [Evidence("/sys/bus/pci/devices/\(d.bdf)/driver", now)]
            if let o = override { ev.append(Evidence("/sys/bus/pci/devices/\(d.bdf)/driver_override", o)) }
            if let c = host.kernel.cmdline.value,
                s.vfio?.ids.onCommandLine == true || s.stub?.ids.onCommandLine == true
                    || s.vfioMiss?.onCommandLine == true
            {
                ev.append(Evidence("/proc/cmdline", c.raw))
            }
            // The modprobe.d lines that decide (the command line is in the evidence already).
            for ids in [s.vfio?.ids, s.stub?.ids, s.vfioMiss].compactMap({ $0 }) {
                if let file = ids.file { ev.append(Evidence(file, "options \(ids.module) ids=\(ids.value)")) }
            }
            let persist = "driverctl set-override \(d.bdf) \(wanted)"
            let misses = s.vfioMiss.map { " (\($0.source) does not name \(id))" } ?? ""
            let others = sharers(d, s, host)

            switch (DriverClass(d.driver), claim) {
            case (.vfio, .binds(let driver, let because)), (.vfio, .saved(let driver, let because)):
                // Built-in vfio-pci's ids at boot, but an override holds it now: its own driver
                // may have won at this boot (built in, linked before drivers/vfio).
                if case .binds = claim, driver == "vfio-pci", d.driver == "vfio-pci", override.map({ DriverClass($0) == .vfio }) == true,
                    host.modules.state("vfio_pci") == .builtIn
                {
                    return finding(
                        .info, subject,
                        "at the next boot vfio-pci takes it (\(because)), unless its own driver is built in and links before drivers/vfio (most of gpu, net, nvme and ata do): driver_override holds it now",
                        detail: others, remedy: persist, evidence: ev)
                }
                if driver == d.driver || DriverClass(driver) == .vfio && driver == wanted {
                    return finding(.pass, subject, "at the next boot \(driver) takes it again: \(because)", detail: others, evidence: ev)
                }
                return finding(
                    .warn, subject, "bound to \(now), but at the next boot \(driver) takes it: \(because)", detail: others,
                    remedy: persist, evidence: ev)
            case (.vfio, .races(let driver, let because)):
                // Unknown, not wrong: an initramfs or modules-load.d may load it first.
                return finding(
                    .info, subject,
                    "at the next boot \(driver) takes it only if it loads before the device's own driver: \(because), and \(driver) is a module that no alias loads for it",
                    detail: [others, initramfsNote(driver, host)].compactMap { $0 }.joined(separator: " ").nilIfEmpty, remedy: persist,
                    evidence: ev)
            case (.vfio, .ownDriver):
                // A configuration that names other devices but not this one is a mistake to
                // point out; an override alone is how libvirt and dpdk-devbind work (info).
                let status: Status = s.vfioMiss == nil ? .info : .warn
                guard override.map({ DriverClass($0) == .vfio }) == true else {
                    // Bound without an override and with no ids: by new_id, or bind by hand.
                    return finding(
                        status, subject,
                        "bound to \(now) by a bind or new_id that a reboot drops (no driver_override, no ids= name it): at the next boot it goes back to its own driver\(misses)",
                        remedy: persist, evidence: ev)
                }
                // An install command for vfio-pci (the Arch wiki's vfio-pci-override.sh) may
                // write driver_override at boot: the probe does not run it.
                if let install = host.modules.drivers.modprobe.installs.last(where: { $0.module == "vfio_pci" }) {
                    return finding(
                        .info, subject,
                        "bound to \(now) by driver_override, which a reboot drops unless \"install vfio-pci \(install.options)\" (\(install.file)) writes it again at boot",
                        evidence: ev + [Evidence(install.file, "install vfio-pci \(install.options)")])
                }
                return finding(
                    status, subject,
                    "bound to \(now) by driver_override only, which a reboot drops: at the next boot it goes back to its own driver\(misses)",
                    remedy: s.vfioMiss.map {
                        "\(persist)  # or add \(id) to \($0.onCommandLine ? "vfio-pci.ids= on the command line" : "vfio-pci's ids= in modprobe.d")"
                    }
                        ?? persist,
                    evidence: ev)
            case (.stub, .binds("pci-stub", let because)):
                let loser = s.vfio.map { "; \($0.ids.source) never gets it" } ?? ""
                guard let stub = s.stub?.ids else {
                    return finding(
                        .warn, subject, "on pci-stub, and pci-stub takes it again at the next boot (\(because))", remedy: persist,
                        evidence: ev)
                }
                let fix =
                    stub.onCommandLine
                    ? Actions.kernelParameter(remove: "pci-stub.ids=\(stub.value)", boot: host.boot) : "delete \(stub.source)"
                // What takes it once pci-stub does not.
                var without = s
                without.stub = nil
                let then: String
                switch Self.claim(d, without, host) {
                case .binds(let driver, let why), .saved(let driver, let why): then = "; then \(driver) takes it at boot (\(why))"
                case .races(_, let why): then = "; then \(why) takes it only if vfio-pci loads before the device's own driver: \(persist)"
                case .ownDriver: then = "; then: \(persist)"
                }
                return finding(
                    .warn, subject, "on pci-stub, and pci-stub takes it again at the next boot (\(because))\(loser)",
                    detail: "pci-stub only holds the device: VFIO needs it rebound to \(wanted) after every boot."
                        + (others.map { "\n" + $0 } ?? ""),
                    remedy: fix + then, evidence: ev)
            case (.kernel, .binds(let driver, let because)):
                // The same configuration ran at this boot, and the device's driver has it.
                return finding(
                    .warn, subject,
                    "\(because), yet it is on \(now): \(now) binds first (built in and linked before \(driver), or loaded from the initramfs), or it was rebound since boot",
                    detail: others, remedy: persist, evidence: ev)
            case (_, .binds(let driver, let because)) where driver != d.driver,
                (_, .saved(let driver, let because)) where driver != d.driver:
                return finding(
                    .info, subject, "on \(now) now; at the next boot \(driver) takes it: \(because)", detail: others, evidence: ev)
            case (.kernel, .races(let driver, let because)):
                // The ids named it this boot too, yet its own driver has it: it loaded first.
                let own = ModprobeConfig.moduleName(d.driver!)
                if host.modules.isBuiltIn(own) == true {
                    // No softdep orders a built-in driver: driverctl rebinds it after boot.
                    return finding(
                        .warn, subject,
                        "\(because) names it, yet it is on \(now): \(own) is built in and binds first (built-in drivers register in link order; \(driver) loads or registers after it), and will again at the next boot",
                        detail: others, remedy: persist, evidence: ev)
                }
                let rebuild = host.modules.drivers.initramfs.generator.map { $0.rebuild } ?? "update-initramfs -u, or dracut -f"
                return finding(
                    .warn, subject,
                    "\(because) names it, yet it is on \(now): \(own) loads before \(driver), and will again at the next boot",
                    detail: "A softdep names modules; \(now) is the driver's name, usually its module's too (lspci -k lists the module)."
                        + (initramfsNote(driver, host).map { " " + $0 } ?? "") + (others.map { "\n" + $0 } ?? ""),
                    remedy:
                        "echo \"softdep \(own) pre: \(driver)\" >> /etc/modprobe.d/vfio.conf, and rebuild the initramfs (\(rebuild)) if \(own) loads from it",
                    evidence: ev)
            case (_, .races(let driver, let because)):
                return finding(
                    .info, subject,
                    "on \(now) now; at the next boot \(driver) takes it if it loads before the device's own driver: \(because)",
                    detail: others, evidence: ev)
            default:
                return nil
            }
        }
    }

    /// ids= match by vendor and device, not by slot: the other functions the same entry takes.
    static func sharers(_ d: PCIDevice, _ s: Sources, _ host: Host) -> String? {
        guard let e = s.vfio?.entry ?? s.stub?.entry else { return nil }
        let others = host.devices.values.filter { $0.address != d.address && e.matches($0) }.map(\.address).sorted()
        guard !others.isEmpty else { return nil }
        return "\(e) also takes \(others.map(\.description).joined(separator: " ")) at boot: ids= match by vendor and device, not by slot."
    }
}
