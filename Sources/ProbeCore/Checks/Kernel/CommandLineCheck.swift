/// The kernel command line, read the way the kernel reads it.
public struct CommandLineCheck: Check {
    public static let descriptor = CheckDescriptor(
        id: "kernel.cmdline",
        title: "Kernel command line leaves the IOMMU on",
        category: .kernel,
        rationale:
            "intel_iommu=off, amd_iommu=off and iommu=off turn the IOMMU off whatever the firmware says; many Intel kernels also leave VT-d off unless intel_iommu=on is given. intremap=off, allow_unsafe_interrupts, no-IOMMU mode and vfio-pci.ids change what VFIO can do.",
        remedy: "Fix the kernel command line (GRUB_CMDLINE_LINUX in /etc/default/grub), run update-grub and reboot.",
        looksAt: ["/proc/cmdline", "CONFIG_INTEL_IOMMU_DEFAULT_ON"],
        examples: [
            .pass("intel-vfio-ready"),
            .fail("intel-iommu-off", remedy: Actions.kernelParameter(replace: "intel_iommu=off", with: "intel_iommu=on")),
            .info("noiommu-enabled"),
            .warn("intel-no-ir", remedy: "Enable interrupt remapping and drop iommufd.allow_unsafe_interrupts."),
        ])

    public static func evaluate(_ context: CheckContext) -> [Finding] {
        let host = context.host
        guard let c = host.cmdline else {
            if case .unreadable(let why) = host.kernel.cmdline { return [skipped(why.description)] }
            return [skipped("/proc/cmdline does not exist")]
        }
        var out: [Finding] = []
        func ev(_ text: String) -> [Evidence] { [Evidence("/proc/cmdline", text)] }

        // The command line explains an IOMMU observed off; it never overrules one sysfs shows on.
        if let off = host.iommuDisablingParameter, host.iommuActive == true {
            out.append(
                finding(
                    .info,
                    "\(off) is on the command line, yet the IOMMU is active (tboot forces VT-d on, or a later option turns it back on)",
                    evidence: ev(off)))
        } else if let off = host.iommuDisablingParameter {
            let fix = host.iommuEnableAction
            out.append(
                finding(
                    .fail, "\(off) turns the IOMMU off", remedy: fix, evidence: ev(off),
                    impacts: Impact.blocks(Mode.iommuBacked, "\(off) on the kernel command line turns the IOMMU off", fix: [fix])))
        } else if host.iommuVendor == .intel, c.lastOption("intel_iommu", among: ["on", "off"]) != "on",
            host.iommuActive == false, (host.firmware.present.value ?? []).contains("DMAR"), host.vtdOnByDefault == false,
            host.missingIOMMUDriver == nil
        {
            let fix = Actions.kernelParameter(add: "intel_iommu=on", boot: host.boot)
            out.append(
                finding(
                    .fail,
                    "VT-d is off: this kernel does not enable it by default (no CONFIG_INTEL_IOMMU_DEFAULT_ON) and intel_iommu=on is not given",
                    remedy: fix, evidence: ev("no intel_iommu=on"),
                    impacts: Impact.blocks(
                        Mode.iommuBacked, "VT-d is off by default in this kernel and intel_iommu=on is missing", fix: [fix])))
        }
        if c.options("amd_iommu").contains("on") {
            out.append(
                finding(
                    .info, "amd_iommu=on is not an amd_iommu option; AMD-Vi is on by default (the word is ignored)",
                    evidence: ev("amd_iommu=on")))
        }
        if c.options("iommu").contains("pt") || KernelCommandLine.bool(c.value("iommu.passthrough")) == true {
            out.append(
                finding(
                    .info, "passthrough default domains (iommu=pt / iommu.passthrough=1): VFIO still attaches its own domains",
                    evidence: ev(c.options("iommu").contains("pt") ? "iommu=pt" : "iommu.passthrough=1")))
        }
        if let off = host.remappingOffOnCommandLine {
            out.append(
                finding(
                    .warn,
                    "\(off) disables interrupt remapping: safe VFIO is not available, and type1 refuses to attach without allow_unsafe_interrupts",
                    remedy: Actions.kernelParameter(remove: off, boot: host.boot), evidence: ev(off)))
        }
        for p in ["vfio_iommu_type1.allow_unsafe_interrupts", "iommufd.allow_unsafe_interrupts"]
        where KernelCommandLine.bool(c.value(p)) == true {
            out.append(
                finding(
                    .warn, "\(p)=1: VFIO accepts IOMMUs without interrupt remapping; a device can forge MSIs",
                    remedy: "Enable interrupt remapping and drop \(p).", evidence: ev("\(p)=1")))
        }
        if KernelCommandLine.bool(c.value("vfio.enable_unsafe_noiommu_mode")) == true {
            out.append(
                finding(
                    .info, "vfio.enable_unsafe_noiommu_mode=1: no-IOMMU mode is on from boot",
                    evidence: ev("vfio.enable_unsafe_noiommu_mode=1")))
        }
        for p in ["vfio_pci.ids", "vfio-pci.ids"] where c.value(p) != nil {
            // vfio_pci_fill_ids adds them when vfio-pci registers; a driver that binds first keeps
            // the device (device.boot-binding says which, device by device).
            out.append(
                finding(
                    .info, "vfio-pci takes \(c.value(p)!) when it registers, unless a driver bound first (see device.boot-binding)",
                    evidence: ev("\(p)=\(c.value(p)!)")))
            break
        }
        if !out.contains(where: { $0.status == .fail || $0.status == .warn }) {
            out.insert(finding(.pass, "no parameter turns the IOMMU or interrupt remapping off"), at: 0)
        }
        return out
    }
}
