extension HostReader {
    /// The variant drivers' `vfio_pci:` aliases of the running kernel and the modprobe
    /// configuration: what decides which driver takes a device, now and at the next boot.
    func readDriverConfig(release: String?) -> DriverConfig {
        var config = DriverConfig()
        if let r = release {
            let module = readVariantAliases("/lib/modules/\(r)/modules.alias", builtIn: false)
            // depmod writes modules.builtin.alias from modules.builtin.modinfo (kmod 27+); before
            // that, the kernel's modules.builtin.modinfo ("mlx5_vfio_pci.alias=vfio_pci:…\0") is all.
            var builtIn = readVariantAliases("/lib/modules/\(r)/modules.builtin.alias", builtIn: true)
            if case .absent = builtIn { builtIn = readBuiltinModinfoAliases("/lib/modules/\(r)/modules.builtin.modinfo") }
            // What could be read is used (a variant missed only falls back to plain vfio-pci).
            switch (module, builtIn) {
            case (.absent, .absent): config.variantAliases = .absent
            case (.unreadable(let why), .absent), (.absent, .unreadable(let why)), (.unreadable(let why), .unreadable):
                config.variantAliases = .unreadable(why)
            default: config.variantAliases = .value((builtIn.value ?? []) + (module.value ?? []))
            }
        }
        for m in Set((config.variantAliases.value ?? []).filter { !$0.builtIn }.map(\.module)).sorted()
        where fs.presence("/sys/module/\(m)/initstate").value == true {
            config.loadedVariants.insert(m)
        }
        config.modprobe = readModprobeConfig()
        for name in fs.list(DriverConfig.driverctlDirectory).value ?? [] where name.hasPrefix("pci-") {
            guard let a = PCIAddress(String(name.dropFirst(4))),
                let driver = fs.read("\(DriverConfig.driverctlDirectory)/\(name)", limit: 4096).text.value, !driver.isEmpty
            else { continue }
            config.savedOverrides[a] = driver
        }
        config.initramfs = readInitramfsConfig()
        return config
    }

    /// The initramfs generator's configuration (initramfs-tools or dracut, whichever the tree has).
    func readInitramfsConfig() -> InitramfsConfig {
        var c = InitramfsConfig()
        if fs.presence("/etc/initramfs-tools", directory: true).value == true {
            c.generator = .initramfsTools
            let file = "/etc/initramfs-tools/modules"
            if let text = fs.read(file, limit: 64 << 10).text.value { c.entries += InitramfsConfig.parseModulesFile(text, file: file) }
        }
        let dracutFiles =
            ["/etc/dracut.conf"]
            + (fs.list("/etc/dracut.conf.d").value ?? []).filter { $0.hasSuffix(".conf") }.sorted().map { "/etc/dracut.conf.d/\($0)" }
        let dracut = dracutFiles.compactMap { f in fs.read(f, limit: 64 << 10).text.value.map { (f, $0) } }
        if !dracut.isEmpty || fs.presence("/usr/lib/dracut", directory: true).value == true {
            if c.generator == nil { c.generator = .dracut }
            for (f, text) in dracut { c.entries += InitramfsConfig.parseDracutConf(text, file: f) }
        }
        return c
    }

    /// Only the `alias vfio_pci:PATTERN MODULE` lines are kept (a distribution's modules.alias
    /// has some 30 000 lines; a handful are vfio_pci ones), without vfio_pci's own match-all one.
    func readVariantAliases(_ path: String, builtIn: Bool) -> Reading<[VariantAlias]> {
        fs.read(path, limit: 32 << 20).map { bytes in
            HostReader.variantAliasLines(bytes).split(separator: 0x0a).compactMap { line in
                // "alias PATTERN MODULE"
                let words = line.split(whereSeparator: { $0 == 0x20 || $0 == 0x09 })
                guard words.count == 3 else { return nil }
                let module = String(decoding: words[2], as: UTF8.self)
                guard module != "vfio_pci" else { return nil }
                return VariantAlias(pattern: String(decoding: words[1], as: UTF8.self), module: module, builtIn: builtIn)
            }
        }
    }

    /// modules.builtin.modinfo's NUL-separated "MODULE.alias=vfio_pci:PATTERN" entries.
    func readBuiltinModinfoAliases(_ path: String) -> Reading<[VariantAlias]> {
        fs.read(path, limit: 32 << 20).map { bytes in
            HostReader.variantModinfoEntries(bytes).split(separator: 0).compactMap { entry in
                guard let dot = entry.firstIndex(of: UInt8(ascii: ".")) else { return nil }
                let module = String(decoding: entry[..<dot], as: UTF8.self)
                let pattern = entry[(dot + 1)...].dropFirst("alias=".count)
                guard module != "vfio_pci" else { return nil }
                return VariantAlias(pattern: String(decoding: pattern, as: UTF8.self), module: module, builtIn: true)
            }
        }
    }

    /// The modinfo entries that are vfio_pci: aliases, each ended by a NUL.
    static func variantModinfoEntries(_ bytes: [UInt8]) -> [UInt8] {
        let key = Array(".alias=vfio_pci:".utf8)
        var out: [UInt8] = []
        var start = bytes.startIndex
        while start < bytes.endIndex {
            let end = bytes[start...].firstIndex(of: 0) ?? bytes.endIndex
            let entry = bytes[start..<end]
            if let dot = entry.firstIndex(of: UInt8(ascii: ".")), entry[dot...].starts(with: key) {
                out += entry
                out.append(0)
            }
            start = end + 1
        }
        return out
    }

    /// modules.alias, modules.builtin.alias and modules.builtin.modinfo of a release: a snapshot
    /// keeps only their vfio_pci: aliases, all the probe reads of them (some 30 000 lines otherwise).
    static func isModulesAlias(_ path: String) -> Bool {
        path.hasPrefix("/lib/modules/")
            && (path.hasSuffix("/modules.alias") || path.hasSuffix("/modules.builtin.alias") || path.hasSuffix("/modules.builtin.modinfo"))
    }

    /// What a snapshot keeps of such a file.
    static func variantAliasesOnly(_ path: String, _ bytes: [UInt8]) -> [UInt8] {
        path.hasSuffix(".modinfo") ? variantModinfoEntries(bytes) : variantAliasLines(bytes)
    }

    static func variantAliasLines(_ bytes: [UInt8]) -> [UInt8] {
        let prefix = Array("alias vfio_pci:".utf8)
        var out: [UInt8] = []
        var start = bytes.startIndex
        while start < bytes.endIndex {
            let end = bytes[start...].firstIndex(of: 0x0a) ?? bytes.endIndex
            if end - start > prefix.count, bytes[start..<(start + prefix.count)].elementsEqual(prefix) {
                out += bytes[start..<end]
                out.append(0x0a)
            }
            start = end + 1
        }
        return out
    }

    /// modprobe.d(5): the .conf files of its directories, a name in a more important directory
    /// hiding the same name further down, read in the order of their names.
    func readModprobeConfig() -> ModprobeConfig {
        var byName: [String: String] = [:]
        for dir in ModprobeConfig.directories.reversed() {
            for name in fs.list(dir).value ?? [] where name.hasSuffix(".conf") { byName[name] = "\(dir)/\(name)" }
        }
        var config = ModprobeConfig()
        for name in byName.keys.sorted() {
            let path = byName[name]!
            if let text = fs.read(path, limit: 1 << 20).text.value { config.parse(text, file: path) }
        }
        return config
    }
}
