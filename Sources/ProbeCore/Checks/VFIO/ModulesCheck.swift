/// vfio, vfio-pci, vfio_iommu_type1 and iommufd: built in, loaded, loadable, or missing.
public struct ModulesCheck: Check {
    public static let descriptor = CheckDescriptor(
        id: "vfio.modules",
        title: "VFIO modules are present",
        category: .vfio,
        rationale:
            "VFIO needs vfio (the core and no-IOMMU mode), vfio-pci (binds PCI functions) and an IOMMU backend: vfio_iommu_type1 for the legacy container, or iommufd for the device cdev.",
        remedy: "modprobe vfio-pci (it loads vfio and vfio_iommu_type1); a kernel without CONFIG_VFIO cannot be fixed at run time.",
        looksAt: [
            "/sys/module/{vfio,vfio_pci,vfio_iommu_type1,iommufd}", "/lib/modules/RELEASE/modules.builtin",
            "/proc/config.gz or /boot/config-RELEASE",
        ],
        examples: [.pass("intel-vfio-ready"), .warn("amd-host", remedy: Actions.loadVFIO), .pass("noiommu-enabled")])

    static let needed: [(module: String, role: String, modes: [Mode])] = [
        ("vfio", "the VFIO core", [.vfio, .noiommu]),
        ("vfio_pci", "the driver that gives PCI functions to VFIO", [.vfio, .noiommu]),
        ("vfio_iommu_type1", "the type1 IOMMU backend of the legacy container", Mode.iommuBacked),
        ("iommufd", "the iommufd backend of the device cdev", []),
    ]

    public static func evaluate(_ context: CheckContext) -> [Finding] {
        let m = context.host.modules
        let emulated = context.host.containerBackend == .iommufd
        var out: [Finding] = []
        var present: [String] = []
        var loadable: [(name: String, role: String, modes: [Mode], evidence: [Evidence])] = []
        for (name, role, usual) in needed {
            // Where iommufd emulates the container, it is the IOMMU backend.
            let modes = name == "iommufd" && emulated ? Mode.iommuBacked : usual
            let state = m.state(name)
            let ev = [Evidence("/sys/module/\(name)", state.rawValue)]
            switch state {
            case .builtIn, .loaded:
                present.append("\(name) (\(state.rawValue))")
            case .available:
                loadable.append((name, role, modes, ev))
            case .absent:
                if name == "iommufd" {
                    out.append(
                        finding(.info, "iommufd is not built: only the legacy container (/dev/vfio/vfio) is available", evidence: ev))
                } else if name == "vfio_iommu_type1", emulated {
                    out.append(
                        finding(
                            .info,
                            "vfio_iommu_type1 is not built: iommufd provides /dev/vfio/vfio (CONFIG_IOMMUFD_VFIO_CONTAINER) and checks each device when it is opened",
                            evidence: ev + [
                                Evidence(
                                    "CONFIG_IOMMUFD_VFIO_CONTAINER",
                                    context.host.kernel.config.value?["CONFIG_IOMMUFD_VFIO_CONTAINER"] ?? "(not in the configuration read)")
                            ]))
                } else {
                    let fix = "a kernel built with \(m[name]?.configSymbol ?? name)"
                    out.append(
                        finding(
                            .fail, "\(name), \(role), is not built into this kernel", remedy: "Use \(fix).", evidence: ev,
                            impacts: modes.map { .blocks($0, "the kernel has no \(name)", fix: ["use \(fix)"]) }))
                }
            case .unknown:
                var f = skipped("\(name): not loaded, and no kernel configuration or modules.builtin says whether it exists")
                f.impacts = Impact.undecided(
                    modes, "cannot tell whether the kernel has \(name)",
                    ["make the kernel configuration readable (/proc/config.gz or /boot/config-RELEASE), or load the module"])
                out.append(f)
            }
        }
        // The modules that can be loaded: one finding and one modprobe for the set. vfio-pci
        // pulls in vfio, and vfio its IOMMU backends (MODULE_SOFTDEP "post: vfio_iommu_type1" in
        // vfio_main.c); iommufd is named as well when it is missing too.
        if !loadable.isEmpty {
            let vfio = loadable.contains { $0.name != "iommufd" }
            let names = (vfio ? ["vfio-pci"] : []) + (loadable.contains { $0.name == "iommufd" } ? ["iommufd"] : [])
            let action = names.count == 1 ? "modprobe \(names[0])" : "modprobe -a \(names.joined(separator: " "))"
            let list = loadable.map { "\($0.name) (\($0.role))" }.joined(separator: ", ")
            let needed = loadable.contains { !$0.modes.isEmpty }
            out.append(
                finding(
                    needed ? .warn : .info, "not loaded, but loadable: \(list)", remedy: action,
                    evidence: loadable.flatMap(\.evidence),
                    impacts: loadable.flatMap { l in l.modes.map { .requires($0, "\(l.name) is not loaded", [action]) } }))
        }
        if !present.isEmpty {
            out.insert(finding(.pass, present.joined(separator: ", ")), at: 0)
        }
        return out
    }
}
