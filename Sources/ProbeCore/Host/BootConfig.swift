/// What the next boot's kernel command line is configured to be, where the host keeps it: GRUB's
/// `/etc/default/grub` (and Ubuntu's `/etc/default/grub.d/*.cfg`), `/etc/kernel/cmdline`
/// (systemd-boot, kernel-install) and the Boot Loader Specification entries in
/// `/boot/loader/entries` (Fedora and RHEL's grubby, systemd-boot); and which distribution family
/// the host is, so that the remedy is its own tool.
public struct BootConfig: Sendable, Equatable {
    /// The distribution family, from /etc/os-release's ID and ID_LIKE.
    public enum Family: String, Sendable, Equatable {
        case debian, fedora, suse, arch
    }

    /// One place a command line is configured.
    public struct Source: Sendable, Equatable {
        public enum Kind: Sendable, Equatable {
            /// GRUB_CMDLINE_LINUX and GRUB_CMDLINE_LINUX_DEFAULT (update-grub or grub2-mkconfig
            /// writes them into grub.cfg).
            case grubDefault
            /// /etc/kernel/cmdline (kernel-install writes it into the entry or the UKI).
            case kernelCmdline
            /// A BLS entry's `options` line (grubby edits it).
            case blsEntry
        }
        public var kind: Kind
        public var path: String
        public var commandLine: KernelCommandLine
    }

    public var family: Family?
    public var sources: [Source] = []
    /// What could not be read or made sense of.
    public var problems: [String] = []

    public init(family: Family? = nil, sources: [Source] = [], problems: [String] = []) {
        self.family = family
        self.sources = sources
        self.problems = problems
    }

    /// The family os-release names: ID first, then ID_LIKE in order ("ID=rocky ID_LIKE="rhel
    /// centos fedora"" is fedora's).
    public static func family(osRelease text: String) -> Family? {
        let fields = ShellAssignments(text)
        let ids = [fields["ID"]].compactMap { $0 } + (fields["ID_LIKE"]?.split(separator: " ").map(String.init) ?? [])
        for id in ids {
            switch id {
            case "debian", "ubuntu": return .debian
            case "fedora", "rhel", "centos": return .fedora
            case "suse", "opensuse", "sles", "opensuse-leap", "opensuse-tumbleweed": return .suse
            case "arch": return .arch
            default: continue
            }
        }
        return nil
    }

    /// A BLS entry's kernel options (its `options` lines, joined) and the kernel it boots
    /// (`linux`).
    public static func blsEntry(_ text: String) -> (options: String, linux: String?) {
        var options: [String] = []
        var linux: String?
        for line in text.split(separator: "\n") {
            let t = line.drop { $0 == " " || $0 == "\t" }
            guard let key = t.split(separator: " ", maxSplits: 1).first else { continue }
            let value = t.dropFirst(key.count).drop { $0 == " " || $0 == "\t" }
            if key == "options" { options.append(String(value)) }
            if key == "linux" { linux = String(value) }
        }
        return (options.joined(separator: " "), linux)
    }
}

/// `NAME=value` lines of a shell-sourced file (/etc/default/grub, os-release), with single and
/// double quotes removed and `$NAME` / `${NAME}` expanded from the names assigned before (GRUB's
/// files append with GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX …"). Comments and other shell are
/// ignored: what is not an assignment is not run.
struct ShellAssignments {
    private(set) var values: [String: String] = [:]

    init(_ text: String, inheriting: [String: String] = [:]) {
        values = inheriting
        for line in text.split(separator: "\n") {
            var t = Substring(line.drop { $0 == " " || $0 == "\t" })
            if t.hasPrefix("export ") { t = t.dropFirst(7) }
            guard !t.hasPrefix("#"), let eq = t.firstIndex(of: "="), !t[..<eq].isEmpty,
                t[..<eq].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" })
            else { continue }
            values[String(t[..<eq])] = unquote(t[t.index(after: eq)...])
        }
    }

    subscript(_ name: String) -> String? { values[name] }

    private func unquote(_ s: Substring) -> String {
        var out = ""
        var quote: Character?
        var i = s.startIndex
        while i < s.endIndex {
            let c = s[i]
            if let q = quote {
                if c == q {
                    quote = nil
                } else if c == "$" && q == "\"" {
                    i = expand(s, at: i, into: &out)
                    continue
                } else {
                    out.append(c)
                }
            } else if c == "\"" || c == "'" {
                quote = c
            } else if c == "#" && (out.isEmpty || out.last == " ") {
                break  // a comment after the value
            } else if c == " " || c == "\t" {
                break  // the value ends at unquoted whitespace
            } else if c == "$" {
                i = expand(s, at: i, into: &out)
                continue
            } else {
                out.append(c)
            }
            i = s.index(after: i)
        }
        return out
    }

    /// `$NAME` or `${NAME}` at `i`, appended expanded; returns the index after it.
    private func expand(_ s: Substring, at i: Substring.Index, into out: inout String) -> Substring.Index {
        var j = s.index(after: i)
        let braced = j < s.endIndex && s[j] == "{"
        if braced { j = s.index(after: j) }
        let start = j
        while j < s.endIndex, s[j].isLetter || s[j].isNumber || s[j] == "_" { j = s.index(after: j) }
        let name = String(s[start..<j])
        if braced, j < s.endIndex, s[j] == "}" { j = s.index(after: j) }
        if name.isEmpty { out.append("$") } else { out += values[name] ?? "" }
        return j
    }
}
