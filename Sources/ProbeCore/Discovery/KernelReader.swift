extension HostReader {
    func readKernel() -> Kernel {
        let release = fs.read("/proc/sys/kernel/osrelease").text
        let (config, configSource) = readKernelConfig(release: release.value)
        return Kernel(
            release: release,
            cmdline: fs.read("/proc/cmdline").text.map(KernelCommandLine.init),
            config: config,
            configSource: configSource,
            taint: fs.read("/proc/sys/kernel/tainted").text.map { UInt64($0) ?? 0 },
            interruptChips: fs.read("/proc/interrupts").text.map(HostReader.interruptChips))
    }

    /// The kernel's configuration: /proc/config.gz, else /boot/config-RELEASE; and where it was found.
    func readKernelConfig(release: String?) -> (Reading<KernelConfig>, String?) {
        let boot = release.map { "/boot/config-\($0)" }
        switch fs.read("/proc/config.gz") {
        case .value(let gz):
            if let text = Gzip.decompress(gz) { return (.value(KernelConfig(String(decoding: text, as: UTF8.self))), "/proc/config.gz") }
            return (.unreadable(.malformed("/proc/config.gz", "not a valid gzip stream")), "/proc/config.gz")
        case .unreadable(let why):
            if let boot, let c = fs.read(boot).text.value { return (.value(KernelConfig(c)), boot) }
            return (.unreadable(why), nil)
        case .absent:
            guard let boot else { return (.absent, nil) }
            return (fs.read(boot).text.map(KernelConfig.init), boot)
        }
    }

    /// The interrupt chips of /proc/interrupts: "  24:   0   0  IR-PCI-MSIX-0000:00:02.0   0-edge   eth0"
    /// has its chip as the first word after the per-CPU counts.
    static func interruptChips(_ text: String) -> Set<String> {
        var chips: Set<String> = []
        for line in text.split(separator: "\n").dropFirst() {
            let words = line.split(separator: " ", omittingEmptySubsequences: true)
            guard words.count > 2 else { continue }
            if let chip = words.dropFirst().first(where: { UInt64($0) == nil }) { chips.insert(String(chip)) }
        }
        return chips
    }

    /// The modules VFIO needs: loaded, built in, available or absent, with their parameters.
    func readModules(release: String?, config: KernelConfig?) -> Modules {
        let builtin: Set<String> = {
            guard let r = release, let text = fs.read("/lib/modules/\(r)/modules.builtin", limit: 8 << 20).text.value else { return [] }
            return Set(
                text.split(separator: "\n").compactMap { line in
                    line.split(separator: "/").last.map { String($0.replacingOccurrences(".ko", "").map { $0 == "-" ? "_" : $0 }) }
                })
        }()
        var byName: [String: Module] = [:]
        for (name, symbol, params) in Modules.watched {
            let dir = "/sys/module/\(name)"
            let inSysfs = fs.presence(dir, directory: true) != .absent  // an unreadable folder is there
            let state: ModuleState
            if inSysfs && fs.presence("\(dir)/initstate") != .absent {
                state = .loaded
            } else if builtin.contains(name) || config?.isBuiltIn(symbol) == true {
                state = .builtIn
            } else if inSysfs {
                state = .builtIn
            }  // built-in code with parameters, no modules.builtin to say so
            else if config?.isModule(symbol) == true {
                state = .available
            } else if let c = config, c[symbol] == nil || c[symbol] == "n" {
                state = .absent
            } else {
                state = .unknown
            }
            var values: [String: Reading<String>] = [:]
            for p in params { values[p] = fs.read("\(dir)/parameters/\(p)").text }
            byName[name] = Module(name: name, state: state, parameters: values, configSymbol: symbol)
        }
        var modules = Modules(byName: byName)
        (modules.builtInNames, modules.noModules) = (builtin, config?["CONFIG_MODULES"] == "n")
        return modules
    }
}

extension StringProtocol {
    func replacingOccurrences(_ target: String, _ replacement: String) -> String {
        let t = Array(target)
        let chars = Array(self)
        var out = ""
        var i = 0
        while i < chars.count {
            if !t.isEmpty, i + t.count <= chars.count, Array(chars[i..<(i + t.count)]) == t {
                out += replacement
                i += t.count
            } else {
                out.append(chars[i])
                i += 1
            }
        }
        return out
    }
}
