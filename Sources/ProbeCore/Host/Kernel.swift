/// The running kernel: release, command line, build configuration, taint.
public struct Kernel: Sendable {
    public var release: Reading<String> {
        didSet { version = release.value.flatMap(KernelVersion.init(release:)) }
    }
    /// The release's MAJOR.MINOR, parsed once: the rules that moved between releases ask for it
    /// for every device.
    public private(set) var version: KernelVersion?
    public var cmdline: Reading<KernelCommandLine>
    public var config: Reading<KernelConfig>
    /// Where the configuration came from (/proc/config.gz or /boot/config-RELEASE).
    public var configSource: String?
    public var taint: Reading<UInt64>
    /// Interrupt chips named in /proc/interrupts ("IR-PCI-MSIX-0000:00:02.0", "IR-IO-APIC", …).
    public var interruptChips: Reading<Set<String>>

    public init(
        release: Reading<String>, cmdline: Reading<KernelCommandLine>, config: Reading<KernelConfig>, configSource: String?,
        taint: Reading<UInt64>, interruptChips: Reading<Set<String>>
    ) {
        self.release = release
        version = release.value.flatMap(KernelVersion.init(release:))
        self.cmdline = cmdline
        self.config = config
        self.configSource = configSource
        self.taint = taint
        self.interruptChips = interruptChips
    }

    /// True when MSIs are delivered through a remapping chip: "IR-PCI-MSI…", named by the
    /// remapping MSI parents (dmar_msi_parent_ops, amdvi_msi_parent_ops). An "IR-IO-APIC" alone
    /// proves nothing about MSIs (Hyper-V's HYPERV-IR gives it too); see `interruptIsolation`.
    public var interruptRemappingActive: Bool? {
        interruptChips.value.map { $0.contains { $0.hasPrefix("IR-PCI-MSI") } }
    }

    /// Taint bit 0x... names, per Documentation/admin-guide/tainted-kernels.rst.
    public static let taintNames: [(bit: Int, letter: Character, meaning: String)] = [
        (0, "P", "proprietary module"), (1, "F", "module force-loaded"), (2, "S", "out-of-spec system"),
        (3, "R", "module force-unloaded"), (4, "M", "machine check"), (5, "B", "bad page"),
        (6, "U", "taint requested by userspace"), (7, "D", "kernel died recently"),
        (8, "A", "ACPI table overridden"), (9, "W", "kernel warning"), (10, "C", "staging driver"),
        (11, "I", "firmware bug workaround"), (12, "O", "out-of-tree module"), (13, "E", "unsigned module"),
        (14, "L", "soft lockup"), (15, "K", "live-patched"), (16, "X", "auxiliary"), (17, "T", "randstruct"),
        (18, "N", "test taint"), (19, "J", "fwctl used (6.15+)"),
    ]
}

/// A kernel release's version, for the rules that moved between releases ("6.12.95-vfiotest" is 6.12).
public struct KernelVersion: Sendable, Comparable, CustomStringConvertible {
    public var major: Int
    public var minor: Int
    public init(_ major: Int, _ minor: Int) {
        self.major = major
        self.minor = minor
    }
    /// The leading "MAJOR.MINOR" of a release string; nil when it has none.
    public init?(release: String) {
        let parts = release.split(whereSeparator: { !$0.isNumber }).prefix(2).compactMap { Int($0) }
        guard parts.count == 2, release.first?.isNumber == true else { return nil }
        self.init(parts[0], parts[1])
    }
    public static func < (a: Self, b: Self) -> Bool { (a.major, a.minor) < (b.major, b.minor) }
    public var description: String { "\(major).\(minor)" }
}

/// /proc/cmdline as the kernel's parameter parser sees it: name=value words, quotes honoured,
/// '-' and '_' equivalent in parameter names.
public struct KernelCommandLine: Sendable, Equatable {
    public var raw: String
    public var parameters: [(name: String, value: String?)]

    public static func == (a: Self, b: Self) -> Bool { a.raw == b.raw }

    public init(_ raw: String) {
        self.raw = raw
        var params: [(String, String?)] = []
        var word = ""
        var inQuotes = false
        var words: [String] = []
        for ch in raw {
            if ch == "\"" { inQuotes.toggle(); continue }
            if ch.isWhitespace && !inQuotes {
                if !word.isEmpty { words.append(word); word = "" }
            } else {
                word.append(ch)
            }
        }
        if !word.isEmpty { words.append(word) }
        for w in words {
            if w == "--" { break }  // the rest belongs to init
            if let eq = w.firstIndex(of: "=") {
                params.append((String(w[..<eq]), String(w[w.index(after: eq)...])))
            } else {
                params.append((w, nil))
            }
        }
        parameters = params
    }

    /// The last value given for a parameter (the kernel applies them in order); nil when absent,
    /// "" when given without a value.
    public func value(_ name: String) -> String? {
        let key = KernelCommandLine.normalize(name)
        for p in parameters.reversed() where KernelCommandLine.normalize(p.name) == key {
            return p.value ?? ""
        }
        return nil
    }

    /// Every comma-separated option of a parameter, over all its occurrences
    /// ("intel_iommu=on,igfx_off" → ["on", "igfx_off"]).
    public func options(_ name: String) -> [String] {
        let key = KernelCommandLine.normalize(name)
        return parameters.filter { KernelCommandLine.normalize($0.name) == key }
            .flatMap { ($0.value ?? "").split(separator: ",").map(String.init) }
    }

    public func contains(_ name: String) -> Bool { value(name) != nil }

    /// The last of `choices` among a parameter's comma-separated options, over all its
    /// occurrences in order: what a setup function that handles "on" and "off" as it meets them
    /// is left with ("intel_iommu=off intel_iommu=on" is on).
    public func lastOption(_ name: String, among choices: Set<String>) -> String? {
        options(name).last { choices.contains($0) }
    }

    static func normalize(_ name: String) -> String {
        // The kernel treats '-' and '_' alike in the parameter part (after the module's dot too).
        String(name.map { $0 == "-" ? "_" : $0 })
    }

    /// Kernel boolean parameter parsing: y/Y/1/on are true, n/N/0/off are false.
    public static func bool(_ value: String?) -> Bool? {
        guard let v = value?.lowercased() else { return nil }
        if v.isEmpty || ["y", "1", "on", "yes", "true"].contains(v) { return true }
        if ["n", "0", "off", "no", "false"].contains(v) { return false }
        return nil
    }
}

/// CONFIG_ symbols and their values ("y", "m", a number or a string).
public struct KernelConfig: Sendable, Equatable {
    public var symbols: [String: String]

    public init(_ text: String) {
        var s: [String: String] = [:]
        for line in text.split(separator: "\n") {
            if line.hasPrefix("CONFIG_"), let eq = line.firstIndex(of: "=") {
                s[String(line[..<eq])] = String(line[line.index(after: eq)...])
            } else if line.hasPrefix("# CONFIG_"), line.hasSuffix(" is not set") {
                let name = line.dropFirst(2).dropLast(" is not set".count)
                s[String(name)] = "n"
            }
        }
        symbols = s
    }

    public subscript(_ name: String) -> String? { symbols[name] }
    public func isBuiltIn(_ name: String) -> Bool { symbols[name] == "y" }
    public func isModule(_ name: String) -> Bool { symbols[name] == "m" }
    /// True for y or m, false when unset or "n", nil when the symbol is unknown to this config.
    public func isEnabled(_ name: String) -> Bool? {
        guard let v = symbols[name] else { return nil }
        return v == "y" || v == "m"
    }
}
