/// Whether the IOMMU and VFIO parameters the boot configuration holds are the ones in effect.
public struct NextBootCheck: Check {
    public static let descriptor = CheckDescriptor(
        id: "kernel.next-boot",
        title: "The next boot keeps the IOMMU parameters in effect",
        category: .kernel,
        rationale:
            "A parameter added to /etc/default/grub does nothing until grub.cfg is regenerated and the host reboots; one typed at the boot prompt, or left in a BLS entry another kernel's install rewrote, is gone at the next boot. Both are how a host that was \"VFIO-ready\" stops being so after a reboot, or a fix that was made is not yet in effect.",
        remedy:
            "Make the boot configuration and the running command line agree (the finding names the command for this host's boot loader), then reboot.",
        looksAt: [
            "/proc/cmdline", "/etc/default/grub, /etc/default/grub.d/*.cfg (GRUB_CMDLINE_LINUX, GRUB_CMDLINE_LINUX_DEFAULT)",
            "/etc/kernel/cmdline", "/boot/loader/entries/*.conf (options)", "/etc/os-release (ID, ID_LIKE)",
        ],
        examples: [
            .pass("intel-vfio-ready"), .warn("next-boot-debian", remedy: "update-grub && reboot"),
            .warn("next-boot-fedora", remedy: "grubby --update-kernel=ALL --args=\"iommu=pt\""),
        ],
        decides: false)

    /// The parameters that decide IOMMU and VFIO behaviour (kernel-parameters.txt), '-' and '_'
    /// alike.
    static let watched: Set<String> = [
        "intel_iommu", "amd_iommu", "iommu", "iommu.passthrough", "iommu.strict", "intremap", "vfio_pci.ids", "pci_stub.ids",
        "pcie_acs_override", "vfio_iommu_type1.allow_unsafe_interrupts", "vfio.enable_unsafe_noiommu_mode",
        "iommufd.allow_unsafe_interrupts", "vfio_pci.disable_denylist",
    ]

    /// The watched words of a command line, as written ("intel_iommu=on").
    static func words(_ c: KernelCommandLine) -> [String] {
        c.parameters.filter { watched.contains(KernelCommandLine.normalize($0.name)) }
            .map { KernelCommandLine.normalize($0.name) + ($0.value.map { "=" + $0 } ?? "") }
    }

    public static func evaluate(_ context: CheckContext) -> [Finding] {
        let host = context.host
        let boot = host.boot
        guard let running = host.kernel.cmdline.value else { return [skipped("/proc/cmdline is unreadable")] }
        guard !boot.sources.isEmpty else {
            let why = boot.problems.isEmpty ? "" : " (\(boot.problems.joined(separator: "; ")))"
            return [finding(.info, "no boot configuration found: GRUB's defaults, /etc/kernel/cmdline and BLS entries are absent\(why)")]
        }
        let now = words(running)
        let release = host.kernel.release.value ?? "$(uname -r)"
        var out: [Finding] = []
        var ev = [Evidence("/proc/cmdline", now.isEmpty ? "(no IOMMU or VFIO parameter)" : now.joined(separator: " "))]
        ev += boot.sources.map { Evidence($0.path, words($0.commandLine).joined(separator: " ").ifEmpty("(no IOMMU or VFIO parameter)")) }
        // Configured but not in effect, source by source.
        for s in boot.sources {
            let missing = words(s.commandLine).filter { !now.contains($0) }
            guard !missing.isEmpty else { continue }
            out.append(
                finding(
                    .warn,
                    "\(missing.joined(separator: " ")) \(missing.count == 1 ? "is" : "are") in \(s.path) but not in effect: \(pending(s.kind))",
                    remedy: apply(s, missing, boot.family, release: release, persist: false), evidence: ev))
        }
        // In effect but in no configuration: the next boot drops it.
        let configured = Set(boot.sources.flatMap { words($0.commandLine) })
        let dropped = now.filter { !configured.contains($0) }
        if !dropped.isEmpty, let primary = boot.sources.first {
            out.append(
                finding(
                    .warn,
                    "\(dropped.joined(separator: " ")) \(dropped.count == 1 ? "is" : "are") in effect but in no boot configuration read: the next boot drops \(dropped.count == 1 ? "it" : "them")",
                    remedy: apply(primary, dropped, boot.family, release: release, persist: true), evidence: ev))
        }
        if out.isEmpty {
            out.append(
                finding(.pass, "the boot configuration and the running command line agree on the IOMMU and VFIO parameters", evidence: ev))
        }
        return out
    }

    static func pending(_ kind: BootConfig.Source.Kind) -> String {
        switch kind {
        case .grubDefault: "grub.cfg was not regenerated since, or the host has not rebooted"
        case .kernelCmdline: "the boot entry was not rebuilt since, or the host has not rebooted"
        case .blsEntry: "the host has not rebooted since, or it booted another entry"
        }
    }

    /// The command for this host's boot loader: with `persist`, the words are in effect and the
    /// configuration must gain them (no reboot); without, the configuration has them and must
    /// be applied, then the host rebooted.
    static func apply(_ s: BootConfig.Source, _ words: [String], _ family: BootConfig.Family?, release: String, persist: Bool) -> String {
        let list = words.joined(separator: " ")
        let reboot = persist ? "" : " && reboot"
        switch s.kind {
        case .grubDefault:
            if family == .fedora { return "grubby --update-kernel=ALL --args=\"\(list)\"\(reboot)" }
            return (persist ? "add \(list) to GRUB_CMDLINE_LINUX in /etc/default/grub, then " : "") + Actions.grubRegenerate(family)
                + reboot
        case .kernelCmdline:
            let image = family == .debian ? "/boot/vmlinuz-\(release)" : "/lib/modules/\(release)/vmlinuz"
            return (persist ? "add \(list) to /etc/kernel/cmdline, then " : "") + "kernel-install add \(release) \(image)" + reboot
        case .blsEntry:
            if family == .fedora { return "grubby --update-kernel=ALL --args=\"\(list)\"\(reboot)" }
            return persist ? "add \(list) to the options line of \(s.path)" : "reboot into the entry \(s.path)"
        }
    }
}
