#if canImport(Glibc)
import Glibc
#endif

/// Lines for a terminal of a given width: words wrapped under a hanging indent, commands never
/// broken. Widths count characters (the report's text is escaped to printable characters first).
public enum TextLayout {
    /// The width the report is wrapped to: `COLUMNS` when it is a number of at least 40, else the
    /// terminal's when standard output is one (`ttyColumns`), else 80.
    public static func width(columns: String?, ttyColumns: Int?) -> Int {
        if let c = columns.flatMap({ Int($0) }), c >= 40 { return c }
        if let t = ttyColumns, t >= 40 { return t }
        return 80
    }

    /// `width(columns:ttyColumns:)` of this process: its `COLUMNS`, and its standard output's
    /// terminal.
    public static func currentWidth() -> Int {
        width(columns: getenv("COLUMNS").map { String(cString: $0) }, ttyColumns: Syscalls.terminalColumns(1))
    }

    /// `text` wrapped to `width` (nil: not wrapped), its first line after `first`, the others
    /// after `rest`. Words are never split: one longer than the room stands alone on its line.
    public static func wrap(_ text: String, width: Int?, first: String, rest: String) -> [String] {
        guard let width, first.count + text.count > width else { return [first + text] }
        var lines: [String] = []
        var line = first
        var empty = true
        // Runs of spaces are kept inside a line ("name  [driver]") and dropped at a break.
        for word in text.split(separator: " ", omittingEmptySubsequences: false) {
            let room = width - line.count - (empty ? 0 : 1)
            // A word too long for the room beside the first line's prefix ("FAIL  id") starts
            // the next line, alone when it is longer than any line.
            let besidePrefix = empty && lines.isEmpty && line.contains { $0 != " " }
            if (!empty || besidePrefix) && word.count > room {
                while line.last == " " { line.removeLast() }
                lines.append(line)
                line = rest
                empty = true
            }
            if empty && word.isEmpty && line.count == rest.count && !lines.isEmpty { continue }
            if !empty { line += " " }
            line += word
            empty = false
        }
        lines.append(line)
        return lines
    }

    /// A command under `prefix` ("  1. "): on the prefix's line when it fits, else alone on the
    /// next line, after `indent`, unbroken, so that it can be copied as it is.
    public static func command(_ command: String, width: Int?, prefix: String, indent: String) -> [String] {
        guard let width, prefix.count + command.count > width else { return [prefix + command] }
        let bare = prefix.reversed().drop { $0 == " " }
        return [String(bare.reversed()), indent + command]
    }

    /// Whether an action is a shell command (run as written) rather than an instruction in words:
    /// its first word is a program the remedies use, or it sets a sysfs or module file with echo.
    public static func isCommand(_ action: String) -> Bool {
        guard let word = action.split(separator: " ", maxSplits: 1).first else { return false }
        return commands.contains(String(word)) || action.hasPrefix("#")
    }

    /// A command a remedy quotes after a colon ("Raise it: echo 1048576 > /sys/…/dma_entry_limit
    /// (or …)."): the prose before it (with the colon), the command, and the prose after it
    /// (from " (", a "; " before prose, or a closing period on). nil when the text quotes none. A program name
    /// followed by a word of prose ("driverctl rebinds it") is not a command: after any program
    /// but echo and printf, the next word must look like an argument (a path, a module name, an
    /// option, a value).
    public static func quotedCommand(in text: String) -> (before: String, command: String, after: String)? {
        var searchFrom = text.startIndex
        while let colon = text[searchFrom...].firstRange(of: ": ") {
            searchFrom = colon.upperBound
            let rest = text[colon.upperBound...]
            let words = rest.split(separator: " ", maxSplits: 2)
            guard let program = words.first.map(String.init), commands.contains(program) || program == "driverctl" else { continue }
            if !["echo", "printf"].contains(program) {
                guard words.count > 1, words[1].allSatisfy({ $0.isLetter || $0.isNumber || "-_./$'=>".contains($0) }),
                    words[1].contains(where: { $0.isNumber || "-_./$'=>".contains($0) })
                else { continue }
            }
            // It ends at " (", or at "; " that prose follows ("; echo …" goes on with another command).
            var end = rest.firstRange(of: " (")?.lowerBound ?? rest.endIndex
            var from = rest.startIndex
            while let r = rest[from..<end].firstRange(of: "; ") {
                let next = rest[r.upperBound...].split(separator: " ", maxSplits: 1).first.map(String.init) ?? ""
                if !commands.contains(next) {
                    end = r.lowerBound
                    break
                }
                from = r.upperBound
            }
            var command = rest[..<end]
            if command.hasSuffix(".") { command = command.dropLast() }
            let after = text[command.endIndex...].trimmingPrefix(" ")
            return (String(text[..<colon.lowerBound]) + ":", String(command), String(after))
        }
        return nil
    }

    static let commands: Set<String> = [
        "echo", "printf", "modprobe", "udevadm", "systemctl", "sysctl", "update-grub", "grub2-mkconfig", "grubby",
        "kernel-install", "update-initramfs", "dracut", "mkinitcpio", "setpci", "mount", "chmod", "chown", "chgrp", "ln",
        "mkdir", "install", "tee", "cat", "sed", "prlimit", "rmmod", "sh", "bash", "setcap", "usermod",
    ]
}
