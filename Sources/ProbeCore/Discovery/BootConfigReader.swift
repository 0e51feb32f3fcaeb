extension HostReader {
    /// The configured command lines (`BootConfig`): GRUB's defaults as grub-mkconfig sources them
    /// (/etc/default/grub, then /etc/default/grub.d/*.cfg in name order), /etc/kernel/cmdline,
    /// and the BLS entries of the running kernel (all of them when none names it).
    func readBootConfig(release: String?) -> BootConfig {
        var boot = BootConfig()
        boot.family = (fs.read("/etc/os-release").text.value ?? fs.read("/usr/lib/os-release").text.value).flatMap(BootConfig.family)
        func note(_ r: Reading<String>) -> String? {
            if case .unreadable(let why) = r { boot.problems.append(why.description) }
            return r.value
        }
        if let text = note(fs.read("/etc/default/grub").text) {
            var sh = ShellAssignments(text)
            for f in (fs.list("/etc/default/grub.d").value ?? []).filter({ $0.hasSuffix(".cfg") }) {
                if let t = note(fs.read("/etc/default/grub.d/\(f)").text) { sh = ShellAssignments(t, inheriting: sh.values) }
            }
            let line = [sh["GRUB_CMDLINE_LINUX"], sh["GRUB_CMDLINE_LINUX_DEFAULT"]].compactMap { $0 }.joined(separator: " ")
            boot.sources.append(.init(kind: .grubDefault, path: "/etc/default/grub", commandLine: KernelCommandLine(line)))
        }
        if let text = note(fs.read("/etc/kernel/cmdline").text) {
            boot.sources.append(.init(kind: .kernelCmdline, path: "/etc/kernel/cmdline", commandLine: KernelCommandLine(text)))
        }
        let dir = "/boot/loader/entries"
        let entries = (fs.list(dir).value ?? []).filter { $0.hasSuffix(".conf") }.compactMap { name in
            note(fs.read("\(dir)/\(name)").text).map { (name, BootConfig.blsEntry($0)) }
        }
        let running = release.map { r in entries.filter { $0.0.contains(r) || ($0.1.linux?.contains(r) ?? false) } } ?? []
        for (name, e) in running.isEmpty ? entries : running {
            boot.sources.append(.init(kind: .blsEntry, path: "\(dir)/\(name)", commandLine: KernelCommandLine(e.options)))
        }
        return boot
    }
}
