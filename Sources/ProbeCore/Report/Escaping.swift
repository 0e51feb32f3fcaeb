/// What comes from a host or a tree (a uevent, a driver name, a process's comm, a plugin's line)
/// is text nobody checked: before it reaches a terminal, a Prometheus file or an NFD file, every
/// control character is made visible, so that no escape sequence or line break in the input can
/// rewrite the screen or add a line. Over Unicode scalars: Swift treats "\r\n" as one Character.
public enum Escaping {
    /// C0 controls, DEL and C1 controls as `\xNN` (a C1 as its UTF-8 bytes): for the text report.
    public static func terminal(_ s: String) -> String {
        guard s.unicodeScalars.contains(where: isControl) else { return s }
        var out = ""
        for u in s.unicodeScalars {
            if isControl(u) {
                for b in String(u).utf8 { out += "\\x" + hex(b, 2) }
            } else {
                out.unicodeScalars.append(u)
            }
        }
        return out
    }

    /// C0, DEL and C1 controls, and the invisible ones that reorder or break what a terminal
    /// shows: bidirectional marks, embeddings, overrides and isolates, line and paragraph separators.
    static func isControl(_ u: Unicode.Scalar) -> Bool {
        switch u.value {
        case 0..<0x20, 0x7f, 0x80...0x9f, 0x200e, 0x200f, 0x2028...0x202e, 0x2066...0x2069: true
        default: false
        }
    }

    /// A Prometheus label value: `\` `"` and line feed as the format escapes them, every other
    /// control as the text `\xNN` (its backslash escaped).
    public static func prometheusLabel(_ s: String) -> String {
        var out = ""
        for u in s.unicodeScalars {
            switch u {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default:
                if isControl(u) {
                    for b in String(u).utf8 { out += "\\\\x" + hex(b, 2) }
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out
    }

    /// One line of a comment or value in a line-oriented file (NFD, a Prometheus HELP): no
    /// control character at all survives, so the line stays one line.
    public static func oneLine(_ s: String) -> String {
        var out = ""
        for u in s.unicodeScalars { out.unicodeScalars.append(isControl(u) ? "?" : u) }
        return out
    }
}
