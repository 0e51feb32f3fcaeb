/// Which driver owns the device, and what binding it to vfio-pci takes.
public struct DeviceDriverCheck: Check {
    public static let descriptor = CheckDescriptor(
        id: "device.driver",
        title: "Device driver",
        category: .device,
        rationale:
            "A userspace driver needs the function bound to vfio-pci (or a vfio variant driver). uio_pci_generic and igb_uio also give userspace the device, but with no IOMMU isolation and no interrupt safety, and the kernel is not even tainted. vfio-pci binds only normal (type 0) functions, never bridges.",
        remedy: Actions.Remedy.deviceDriver,
        looksAt: ["/sys/bus/pci/devices/BDF/uevent (DRIVER; the driver link where there is no uevent)", "config space header type"],
        examples: [
            .pass("intel-vfio-ready", device: "0000:01:00.0"), .info("amd-host", device: "0000:03:00.0"),
            .fail(
                "uio-bound", device: "0000:01:00.0",
                remedy: "Rebind it to vfio-pci: "
                    + Actions.bindToVFIO(PCIAddress("0000:01:00.0")!, currentDriver: "uio_pci_generic").joined(separator: "; ")),
            .fail("intel-vfio-ready", device: "0000:00:01.0", remedy: "Assign the devices behind the bridge, not the bridge."),
            // vfio_pci_probe: vfio_pci_is_denylisted -> -EINVAL.
            .fail("qat-denylisted", device: "0000:3d:00.0", remedy: disableDenylist(builtIn: false)),
        ])

    /// vfio_pci.disable_denylist is read-only at run time (0444): set at load, or on the command line.
    static func disableDenylist(builtIn: Bool, boot: BootConfig = BootConfig()) -> String {
        builtIn
            ? Actions.kernelParameter(add: "vfio_pci.disable_denylist=1", boot: boot)
            : "echo \"options vfio-pci disable_denylist=1\" > /etc/modprobe.d/vfio-denylist.conf && modprobe -r vfio_pci && modprobe vfio_pci  # reloading unbinds every device on vfio-pci"
    }

    public static func evaluate(_ context: CheckContext) -> [Finding] {
        context.host.selectedDevices.map { d in
            let s = Subject.device(d.address)
            var ev: [Evidence] { [Evidence("/sys/bus/pci/devices/\(d.bdf)/driver", d.driver ?? "(none)")] }
            if d.unreadable.contains("driver") {
                var f = skipped(s, "/sys/bus/pci/devices/\(d.bdf)/driver is unreadable")
                f.impacts = Impact.undecided(
                    Mode.usable, "cannot tell which driver \(d.bdf) is bound to (its uevent and driver link are unreadable)",
                    ["run vfio-probe as root on the host, with /sys mounted whole"])
                return f
            }
            if let h = d.headerType, h != 0 {
                return finding(
                    .fail, s, "a \(h == 1 ? "PCI bridge" : "CardBus bridge") (header type \(h)): vfio-pci does not bind bridges",
                    remedy: "Assign the devices behind the bridge, not the bridge.", evidence: ev,
                    impacts: Impact.blocks(Mode.usable, "\(d.bdf) is a bridge"))
            }
            // Built only for a device that needs binding: most of a large host's do not. A PF with
            // VFs enabled is refused by vfio_pci_core_register_device ("Cannot bind to PF with
            // SR-IOV enabled", -EBUSY): its VFs must go first, which destroys them.
            // (Since 5.7, with the VF token series.)
            let pfRefused = (context.host.kernel.version ?? KernelVersion(5, 7)) >= KernelVersion(5, 7)
            let vfs = pfRefused && (d.sriov?.numVFs ?? 0) > 0 ? Set((d.sriov?.vfs ?? []) + context.host.vfs(of: d.address)).sorted() : []
            let numVFs = pfRefused ? d.sriov?.numVFs ?? 0 : 0
            var bind: [String] {
                (numVFs > 0 ? [Actions.disableSRIOV(d.address, vfs: vfs, count: numVFs)] : [])
                    + Actions.bindToVFIO(d, on: context.host)  // to its variant driver when it has one
            }
            var needsBinding: [Impact] {
                Impact.requires(Mode.usable, "\(d.bdf) is not bound to \(Actions.vfioDriver(for: d, on: context.host))", bind)
            }
            // vfio_pci_probe refuses a denylisted device unless vfio_pci.disable_denylist is set
            // (a 0444 parameter: at load time, or on the command line when vfio-pci is built in).
            if Actions.denylisted(d, on: context.host.kernel.version), DriverClass(d.driver) != .vfio,
                KernelCommandLine.bool(context.host.modules.parameter("vfio_pci", "disable_denylist").value) != true
            {
                let builtIn = context.host.modules.state("vfio_pci") == .builtIn
                let fix = Self.disableDenylist(builtIn: builtIn, boot: context.host.boot)
                let why =
                    "\(d.bdf) (8086:\(hex(d.deviceID, 4))) is on vfio-pci's denylist (QAT, DSA and IAX have errata that may be exploitable by untrusted users): vfio_pci_probe refuses it with EINVAL"
                let impacts =
                    builtIn
                    ? Impact.blocks(Mode.usable, why, fix: [fix])
                    : Impact.requires(Mode.usable, why, [fix] + Actions.bindToVFIO(d, on: context.host))
                return finding(
                    .fail, s, "on vfio-pci's denylist: binding it fails with EINVAL unless vfio_pci.disable_denylist=1",
                    detail:
                        "disable_denylist \"allows binding to devices with known errata that may lead to exploitable stability or security issues when accessed by untrusted users\"; the device's own driver (qat_*, idxd) with its mdev or SVA support is the supported way to share it.",
                    remedy: fix,
                    evidence: ev + [
                        Evidence(
                            "/sys/module/vfio_pci/parameters/disable_denylist",
                            context.host.modules.parameter("vfio_pci", "disable_denylist").value ?? "(not read)")
                    ],
                    impacts: impacts)
            }
            switch DriverClass(d.driver) {
            case .vfio:
                return finding(.pass, s, "bound to \(d.driver!)", evidence: ev)
            case .unsafeUserspace:
                return finding(
                    .fail, s,
                    "bound to \(d.driver!): userspace has this device with NO IOMMU isolation and no interrupt safety, and the kernel is not tainted",
                    remedy: "Rebind it to \(Actions.vfioDriver(for: d, on: context.host)): \(bind.joined(separator: "; "))", evidence: ev,
                    impacts: needsBinding)
            case .unbound:
                return finding(.info, s, "no driver bound", evidence: ev, impacts: needsBinding)
            case .stub, .pcieport, .kernel:
                return finding(.info, s, "bound to the kernel driver \(d.driver!)", evidence: ev, impacts: needsBinding)
            }
        }
    }
}
