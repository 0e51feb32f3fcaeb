/// The vendor variant of vfio-pci a device should have, from the kernel's `vfio_pci:` aliases.
public struct VariantDriverCheck: Check {
    public static let descriptor = CheckDescriptor(
        id: "device.variant-driver",
        title: "The device's vfio-pci variant driver",
        category: .device,
        rationale:
            "Some devices have a vendor variant of vfio-pci (mlx5_vfio_pci, hisi_acc_vfio_pci, pds_vfio_pci, qat_vfio_pci, virtio_vfio_pci, nvgrace_gpu_vfio_pci) built on vfio-pci-core: it adds live migration, or what the device needs to work in a guest. Its ids are override_only (PCI_DRIVER_OVERRIDE_DEVICE_VFIO): pci_match_device offers them only to a driver_override naming the driver, so nothing binds it unasked; modules.alias lists them as vfio_pci: aliases.",
        remedy: "Bind the device to its variant driver: modprobe it, write its name to driver_override, unbind, and reprobe.",
        looksAt: [
            "/lib/modules/RELEASE/modules.alias and modules.builtin.alias (the alias vfio_pci: lines)", "/sys/module/VARIANT",
            "/sys/bus/pci/devices/BDF/uevent (DRIVER, PCI_ID, PCI_SUBSYS_ID, PCI_CLASS)",
        ],
        examples: [
            .info("connectx-vf", device: "0000:02:00.2"),
            .warn(
                "connectx-vf", device: "0000:02:00.3",
                remedy: "Rebind it to mlx5_vfio_pci (live migration): "
                    + Actions.bindToVFIO(PCIAddress("0000:02:00.3")!, currentDriver: "vfio-pci", driver: "mlx5_vfio_pci")
                    .joined(separator: "; ")),
            .pass("connectx-vf", device: "0000:02:00.4"),
        ], decides: false)

    public static func evaluate(_ context: CheckContext) -> [Finding] {
        let host = context.host
        let drivers = host.modules.drivers
        guard drivers.variantAliases.value?.isEmpty == false else { return [] }
        return host.selectedDevices.compactMap { d -> Finding? in
            // vfio_pci_core_register_device refuses bridges; a variant never lists them.
            guard d.headerType ?? 0 == 0, let v = drivers.variant(for: d) else { return nil }
            let s = Subject.device(d.address)
            let cap = VariantCapability.of(v.module, on: host.kernel.version)
            let how = v.builtIn ? "built in" : drivers.loadedVariants.contains(v.module) ? "loaded" : "a module, not loaded"
            let migration = cap.map { c in
                c.migrationFlags.map { "live migration (\($0.joined(separator: ", ")))" } ?? "no live migration"
            }
            let what = "\(v.module) (\(how))" + (migration.map { ", \($0)" } ?? "")
            let ev = [
                Evidence(v.builtIn ? "modules.builtin.alias" : "modules.alias", "alias \(v.pattern) \(v.module)"),
                Evidence("/sys/bus/pci/devices/\(d.bdf)/driver", d.driver ?? "(none)"),
            ]
            if cap?.onlyVFs == true, !d.isVF, d.driver != v.module {
                // virtiovf_pci_probe, mlx5vf_cmd_set_migratable, …: only a VF gets the extras.
                return finding(
                    .info, s, "matches \(v.module)'s alias, but the variant adds nothing to a function that is not a VF: vfio-pci serves",
                    detail: cap?.note, evidence: ev)
            }
            if d.driver == v.module {
                return finding(.pass, s, "bound to its variant driver \(what)", detail: cap?.note, evidence: ev)
            }
            if DriverClass(d.driver) == .vfio {
                let gain = cap?.liveMigration == true ? " (live migration)" : ""
                return finding(
                    .warn, s, "bound to \(d.driver!), but its variant driver is \(what)", detail: cap?.note,
                    remedy: "Rebind it to \(v.module)\(gain): "
                        + Actions.bindToVFIO(
                            d.address, currentDriver: d.driver, driver: v.module,
                            modprobe: v.builtIn || drivers.loadedVariants.contains(v.module) ? nil : v.module
                        ).joined(separator: "; "),
                    evidence: ev)
            }
            return finding(.info, s, "its variant driver is \(what): the bind actions use it", detail: cap?.note, evidence: ev)
        }
    }
}
