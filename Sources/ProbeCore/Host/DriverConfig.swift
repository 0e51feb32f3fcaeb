/// A variant driver's `vfio_pci:` alias, from modules.alias (a module) or modules.builtin.alias
/// (built in). file2alias's do_pci_entry writes one for each PCI_DRIVER_OVERRIDE_DEVICE_VFIO entry
/// of a driver's id table ("vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i*"): an entry that
/// pci_match_device matches only when driver_override names the driver (override_only).
public struct VariantAlias: Sendable, Equatable {
    /// The fnmatch pattern, "vfio_pci:v…d…sv…sd…bc…sc…i…".
    public var pattern: String
    /// The module, as modules.alias names it ("mlx5_vfio_pci"): also the driver's name, since
    /// the variants name their pci_driver KBUILD_MODNAME (qat_vfio_pci spells it out).
    public var module: String
    public var builtIn: Bool

    public init(pattern: String, module: String, builtIn: Bool) {
        self.pattern = pattern
        self.module = module
        self.builtIn = builtIn
    }

    /// The device's modalias with the override prefix, as pci_uevent's MODALIAS writes it after
    /// "pci:" ("vfio_pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X").
    public static func modalias(_ d: PCIDevice) -> String {
        func h(_ v: UInt32, _ n: Int) -> String {
            let s = String(v, radix: 16, uppercase: true)
            return String(repeating: "0", count: max(0, n - s.count)) + s
        }
        return "vfio_pci:v\(h(UInt32(d.vendorID), 8))d\(h(UInt32(d.deviceID), 8))sv\(h(UInt32(d.subsystemVendorID ?? 0), 8))"
            + "sd\(h(UInt32(d.subsystemDeviceID ?? 0), 8))bc\(h(d.classCode >> 16, 2))sc\(h((d.classCode >> 8) & 0xff, 2))i\(h(d.classCode & 0xff, 2))"
    }

    /// fnmatch(pattern, modalias, 0), as kmod matches aliases: `*`, `?` and `[…]` classes.
    public func matches(_ modalias: String) -> Bool { Self.fnmatch(Array(pattern.utf8), Array(modalias.utf8)) }

    static func fnmatch(_ p: [UInt8], _ s: [UInt8]) -> Bool {
        var pi = 0, si = 0
        var star: (p: Int, s: Int)?
        while si < s.count {
            if pi < p.count {
                switch p[pi] {
                case UInt8(ascii: "*"):
                    star = (pi, si)
                    pi += 1
                    continue
                case UInt8(ascii: "?"):
                    pi += 1
                    si += 1
                    continue
                case UInt8(ascii: "["):
                    if let (matched, next) = bracket(p, pi, s[si]) {
                        if matched {
                            pi = next
                            si += 1
                            continue
                        }
                    } else if s[si] == p[pi] {  // an unclosed '[' is itself
                        pi += 1
                        si += 1
                        continue
                    }
                default:
                    if p[pi] == s[si] {
                        pi += 1
                        si += 1
                        continue
                    }
                }
            }
            guard let st = star else { return false }
            star = (st.p, st.s + 1)
            pi = st.p + 1
            si = st.s + 1
        }
        while pi < p.count, p[pi] == UInt8(ascii: "*") { pi += 1 }
        return pi == p.count
    }

    /// A bracket expression at p[i]: whether `c` matches and where the pattern goes on; nil when
    /// it is not closed.
    static func bracket(_ p: [UInt8], _ i: Int, _ c: UInt8) -> (Bool, Int)? {
        var j = i + 1
        var negate = false
        if j < p.count, p[j] == UInt8(ascii: "!") || p[j] == UInt8(ascii: "^") {
            negate = true
            j += 1
        }
        var matched = false
        var first = true
        while j < p.count, first || p[j] != UInt8(ascii: "]") {
            first = false
            let lo = p[j]
            if j + 2 < p.count, p[j + 1] == UInt8(ascii: "-"), p[j + 2] != UInt8(ascii: "]") {
                if lo <= c && c <= p[j + 2] { matched = true }
                j += 3
            } else {
                if lo == c { matched = true }
                j += 1
            }
        }
        guard j < p.count else { return nil }
        return (matched != negate, j + 1)
    }

    /// How specific the pattern is: its characters that are not wildcards.
    var specificity: Int { pattern.utf8.filter { $0 != UInt8(ascii: "*") && $0 != UInt8(ascii: "?") }.count }
}

/// One entry of a vfio-pci or pci-stub `ids=` list, "vendor:device[:subvendor[:subdevice[:class[:class_mask]]]]",
/// parsed as vfio_pci_fill_ids and pci_stub_init parse it (sscanf "%x:%x:%x:%x:%x:%x", at least
/// two fields, the rest PCI_ANY_ID and class 0/0), and matched as pci_match_one_id matches a dynid.
public struct PCIIDMatch: Sendable, Equatable, CustomStringConvertible {
    public static let any: UInt32 = 0xffff_ffff
    public var vendor: UInt32
    public var device: UInt32
    public var subvendor: UInt32 = PCIIDMatch.any
    public var subdevice: UInt32 = PCIIDMatch.any
    public var classCode: UInt32 = 0
    public var classMask: UInt32 = 0
    /// The entry as written.
    public var text: String

    public var description: String { text }

    /// The entries of an ids= value; those the kernel skips ("invalid id string") are left out.
    public static func list(_ value: String) -> [PCIIDMatch] {
        value.split(separator: ",", omittingEmptySubsequences: true).compactMap { PCIIDMatch(String($0)) }
    }

    /// sscanf("%x:%x:%x:%x:%x:%x"): each field optional white space, an optional 0x and hex
    /// digits; scanning stops at the first field that does not parse.
    public init?(_ text: String) {
        var fields: [UInt32] = []
        var b = Array(text.utf8)[...]
        while fields.count < 6 {
            while let c = b.first, c == 0x20 || c == 0x09 || c == 0x0a { b = b.dropFirst() }
            if b.count >= 2, b.first == UInt8(ascii: "0"), b.dropFirst().first.map({ $0 | 0x20 }) == UInt8(ascii: "x"),
                b.dropFirst(2).first.map(\.isHexDigit) == true
            {
                b = b.dropFirst(2)
            }
            var v: UInt32 = 0
            var n = 0
            while let c = b.first, let x = c.hexValue {
                v = v &<< 4 | UInt32(x)
                n += 1
                b = b.dropFirst()
            }
            guard n > 0 else { break }
            fields.append(v)
            guard b.first == UInt8(ascii: ":") else { break }
            b = b.dropFirst()
        }
        guard fields.count >= 2 else { return nil }
        vendor = fields[0]
        device = fields[1]
        if fields.count > 2 { subvendor = fields[2] }
        if fields.count > 3 { subdevice = fields[3] }
        if fields.count > 4 { classCode = fields[4] }
        if fields.count > 5 { classMask = fields[5] }
        self.text = text
    }

    /// pci_match_one_id.
    public func matches(_ d: PCIDevice) -> Bool {
        (vendor == Self.any || vendor == UInt32(d.vendorID)) && (device == Self.any || device == UInt32(d.deviceID))
            && (subvendor == Self.any || d.subsystemVendorID.map { subvendor == UInt32($0) } == true)
            && (subdevice == Self.any || d.subsystemDeviceID.map { subdevice == UInt32($0) } == true)
            && (classCode ^ d.classCode) & classMask == 0
    }
}

extension UInt8 {
    fileprivate var hexValue: UInt8? {
        switch self {
        case 0x30...0x39: self - 0x30
        case 0x41...0x46: self - 0x41 + 10
        case 0x61...0x66: self - 0x61 + 10
        default: nil
        }
    }
    fileprivate var isHexDigit: Bool { hexValue != nil }
}

/// The modprobe configuration (modprobe.d(5)) lines that decide binding at boot.
public struct ModprobeConfig: Sendable, Equatable {
    /// An `options MODULE …` line; the module as kmod names it (dashes are underscores).
    public struct Options: Sendable, Equatable {
        public var module: String
        public var options: String
        public var file: String
    }
    /// A `softdep MODULE pre: … post: …` line.
    public struct SoftDep: Sendable, Equatable {
        public var module: String
        public var pre: [String]
        public var post: [String]
        public var file: String
    }

    public var options: [Options] = []
    public var softdeps: [SoftDep] = []
    /// `install MODULE COMMAND` lines: modprobe runs the command instead of loading the module
    /// (the command is kept in `options`).
    public var installs: [Options] = []
    /// The .conf files read, in the order kmod reads them.
    public var files: [String] = []

    public init(options: [Options] = [], softdeps: [SoftDep] = [], installs: [Options] = [], files: [String] = []) {
        self.options = options
        self.softdeps = softdeps
        self.installs = installs
        self.files = files
    }

    /// modprobe.d(5)'s directories, most important first: a file in /etc/modprobe.d hides one of
    /// the same name further down; kmod reads the files in the order of their names.
    public static let directories = [
        "/etc/modprobe.d", "/run/modprobe.d", "/usr/local/lib/modprobe.d", "/usr/lib/modprobe.d", "/lib/modprobe.d",
    ]

    /// The last `ids=` given to `module` in the files (module parameters are applied in order:
    /// the last wins), and the file that gives it.
    public func ids(_ module: String) -> (value: String, file: String)? {
        var found: (String, String)?
        for o in options where o.module == module {
            for word in o.options.split(whereSeparator: { $0 == " " || $0 == "\t" }) where word.hasPrefix("ids=") {
                found = (String(word.dropFirst(4)).filter { $0 != "\"" }, o.file)
            }
        }
        return found
    }

    /// Whether a softdep loads `module` before `driver` (`softdep DRIVER pre: MODULE`).
    public func loadsBefore(_ module: String, _ driver: String) -> SoftDep? {
        softdeps.last { $0.module == driver && $0.pre.contains(module) }
    }

    /// kmod's underscores(): a module name with its dashes as underscores.
    public static func moduleName(_ s: some StringProtocol) -> String { String(s.map { $0 == "-" ? "_" : $0 }) }

    /// Parses one file's text as kmod_config_parse does (comments, `\` continuations).
    public mutating func parse(_ text: String, file: String) {
        files.append(file)
        var logical: [String] = []
        var pending = ""
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = Substring(raw)
            if line.hasSuffix("\\") {  // freadline_wrapped: the backslash and newline go
                pending += line.dropLast()
                continue
            }
            line = Substring(pending + line)
            pending = ""
            logical.append(String(line))
        }
        for line in logical {
            // kmod_config_parse: a line that starts with '#' is a comment (a '#' further on is not).
            guard !line.hasPrefix("#") else { continue }
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard words.count >= 2 else { continue }
            let module = Self.moduleName(words[1])
            switch words[0] {
            case "options":
                options.append(Options(module: module, options: words.dropFirst(2).joined(separator: " "), file: file))
            case "install":
                installs.append(Options(module: module, options: words.dropFirst(2).joined(separator: " "), file: file))
            case "softdep":
                var pre: [String] = [], post: [String] = []
                var into = 0  // 1 pre, 2 post
                for w in words.dropFirst(2) {
                    if w == "pre:" {
                        into = 1
                    } else if w == "post:" {
                        into = 2
                    } else if into == 1 {
                        pre.append(Self.moduleName(w))
                    } else if into == 2 {
                        post.append(Self.moduleName(w))
                    }
                }
                softdeps.append(SoftDep(module: module, pre: pre, post: post, file: file))
            default: continue
            }
        }
    }
}

/// What the initramfs generator is configured to put in the next initramfs and load early:
/// initramfs-tools' /etc/initramfs-tools/modules, dracut's add_drivers / force_drivers. Read as
/// configuration, not from the image (Debian compresses it with zstd, which the probe does not
/// decode): it is what the next `update-initramfs -u` / `dracut -f` builds.
public struct InitramfsConfig: Sendable, Equatable {
    public enum Generator: String, Sendable {
        case initramfsTools = "initramfs-tools"
        case dracut
        /// The command that rebuilds the running kernel's image.
        public var rebuild: String { self == .dracut ? "dracut -f" : "update-initramfs -u" }
    }
    public struct Entry: Sendable, Equatable {
        /// The module, underscored (vfio_pci).
        public var module: String
        /// initramfs-tools' modules file and dracut's force_drivers load it before udev's coldplug
        /// reaches the devices (dracut) or as the init's load_modules (initramfs-tools); add_drivers
        /// only includes it, to be loaded by alias.
        public var loadedEarly: Bool
        public var file: String
        public init(module: String, loadedEarly: Bool, file: String) {
            self.module = module
            self.loadedEarly = loadedEarly
            self.file = file
        }
    }
    public var generator: Generator?
    public var entries: [Entry] = []
    public init(generator: Generator? = nil, entries: [Entry] = []) {
        self.generator = generator
        self.entries = entries
    }
    public func entry(_ module: String) -> Entry? { entries.last { $0.module == module } }

    /// initramfs-tools' modules file: one module per line, with optional arguments, # comments.
    static func parseModulesFile(_ text: String, file: String) -> [Entry] {
        text.split(separator: "\n").compactMap { line in
            let l = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first?.trimmed ?? ""
            guard let name = l.split(separator: " ").first, !name.isEmpty else { return nil }
            return Entry(module: ModprobeConfig.moduleName(String(name)), loadedEarly: true, file: file)
        }
    }

    /// dracut.conf lines: `add_drivers+=" vfio-pci vfio "`, `force_drivers+="vfio_pci"` (shell
    /// assignments, `=` or `+=`).
    static func parseDracutConf(_ text: String, file: String) -> [Entry] {
        var out: [Entry] = []
        for line in text.split(separator: "\n") {
            let l = line.trimmed
            for (key, early) in [("force_drivers", true), ("add_drivers", false), ("drivers", false)] {
                guard l.hasPrefix(key + "+=") || l.hasPrefix(key + "=") else { continue }
                let value = l.drop { $0 != "=" }.dropFirst().filter { $0 != "\"" && $0 != "'" }
                for m in value.split(separator: " ") where !m.isEmpty {
                    out.append(Entry(module: ModprobeConfig.moduleName(String(m)), loadedEarly: early, file: file))
                }
                break
            }
        }
        return out
    }
}

/// What decides which driver takes a device: the variant drivers' aliases, the modprobe
/// configuration, and whether the variant modules are loaded.
public struct DriverConfig: Sendable {
    /// The `vfio_pci:` aliases of the running kernel's modules (the generic vfio_pci one left out).
    public var variantAliases: Reading<[VariantAlias]> = .absent
    public var modprobe: ModprobeConfig = ModprobeConfig()
    /// The variant modules of `variantAliases` that are loaded now (/sys/module/NAME).
    public var loadedVariants: Set<String> = []
    /// driverctl's saved overrides (/etc/driverctl.d/pci-BDF holds the driver's name), which its
    /// udev rule applies again when the device appears at boot.
    public var savedOverrides: [PCIAddress: String] = [:]
    /// What the next initramfs is configured to hold.
    public var initramfs = InitramfsConfig()

    public init(
        variantAliases: Reading<[VariantAlias]> = .absent, modprobe: ModprobeConfig = ModprobeConfig(), loadedVariants: Set<String> = [],
        savedOverrides: [PCIAddress: String] = [:]
    ) {
        self.variantAliases = variantAliases
        self.modprobe = modprobe
        self.loadedVariants = loadedVariants
        self.savedOverrides = savedOverrides
    }

    public static let driverctlDirectory = "/etc/driverctl.d"

    /// The variant to bind a device to: the matching one, unless it is known to add nothing to
    /// this function (a VF-only variant on a function that is not a VF).
    public func bindingVariant(for d: PCIDevice, on v: KernelVersion?) -> VariantAlias? {
        guard let variant = variant(for: d) else { return nil }
        if VariantCapability.of(variant.module, on: v)?.onlyVFs == true, !d.isVF { return nil }
        return variant
    }

    /// The variant driver for a device: the most specific `vfio_pci:` alias matching its
    /// modalias (as libvirt picks one); nil when none does.
    public func variant(for d: PCIDevice) -> VariantAlias? {
        guard let aliases = variantAliases.value, !aliases.isEmpty else { return nil }
        let m = VariantAlias.modalias(d)
        return aliases.filter { $0.matches(m) }.max { ($0.specificity, $1.module) < ($1.specificity, $0.module) }
    }
}

/// What a variant driver adds to vfio-pci, by drivers/vfio/pci/*: whether it implements live
/// migration (its vfio_device_ops' init sets mig_ops and migration_flags) and what that needs.
public struct VariantCapability: Sendable, Equatable {
    /// VFIO_MIGRATION_* flags the variant sets; nil when it does not implement migration.
    public var migrationFlags: [String]?
    /// What the variant does, and what migration needs of the device.
    public var note: String
    /// The variant adds its features only to a VF (pdev->is_virtfn, and its PF's driver): on any
    /// other function (a VF passed into a guest included) it is vfio-pci.
    public var onlyVFs = true

    public var liveMigration: Bool { migrationFlags != nil }

    /// The variants of 6.12 (and virtio_vfio_pci's migration, which came in 6.13).
    public static func of(_ module: String, on v: KernelVersion?) -> VariantCapability? {
        switch module {
        case "mlx5_vfio_pci":
            // mlx5vf_cmd_set_migratable: only when the VF's firmware reports MLX5_CAP_GEN(migration).
            return .init(
                migrationFlags: ["STOP_COPY", "P2P", "PRE_COPY"],
                note:
                    "ConnectX VF live migration, with dirty-page tracking; needs firmware that reports the migration capability (mlx5vf_cmd_set_migratable)"
            )
        case "hisi_acc_vfio_pci":
            // hisi_acc_vfio_pci_probe: the migration ops only with a PF QM of version 3 or later.
            return .init(
                migrationFlags: ["STOP_COPY", "PRE_COPY"],
                note:
                    "HiSilicon SEC/HPRE/ZIP VF live migration; needs the PF on its hisi_sec2/hisi_hpre/hisi_zip driver with a v3 QM (hisi_acc_vfio_pci_probe)"
            )
        case "pds_vfio_pci":
            // pds_vfio_init_device.
            return .init(
                migrationFlags: ["STOP_COPY", "P2P"],
                note: "AMD/Pensando DSC VF live migration, with dirty-page tracking (pds_vfio_init_device)")
        case "qat_vfio_pci":
            // qat_vf_pci_init_dev: qat_vfmig_create on the PF.
            return .init(
                migrationFlags: ["STOP_COPY", "P2P", "PRE_COPY"],
                note: "Intel QAT 4xxx VF live migration; needs the PF on its qat_4xxx driver (qat_vf_pci_init_dev)")
        case "virtio_vfio_pci":
            // virtiovf_pci_probe (6.12): the transitional ops emulate the legacy I/O BAR.
            if let v, v >= KernelVersion(6, 13) {
                return .init(
                    migrationFlags: ["STOP_COPY", "P2P", "PRE_COPY"],
                    note:
                        "virtio-net VF live migration through the PF's admin virtqueue (6.13+), and a legacy I/O BAR for transitional guests"
                )
            }
            return .init(
                migrationFlags: nil,
                note:
                    "emulates a legacy (transitional) virtio-net I/O BAR through the PF's admin virtqueue (virtiovf_pci_probe); no live migration before 6.13"
            )
        case "nvgrace_gpu_vfio_pci":
            return .init(
                migrationFlags: nil,
                note: "exposes the Grace Hopper GPU's coherent device memory as a BAR (nvgrace_gpu_probe); no live migration",
                onlyVFs: false)
        default:
            return nil
        }
    }
}
