import ArgumentParser
import VFIOProbe
import SystemPackage

/// The command line before swift-argument-parser sees it, and the help it prints at the top: what
/// a default subcommand leaves out. `vfio-probe --root X groups` runs `groups --root X`; a word that
/// is no subcommand (`chek`) is a usage error with a suggestion, not an argument of `check`; `-V`
/// is `--version`; the top-level help lists `check`'s options, the ones it runs with.
enum Arguments {
    enum Resolution: Equatable {
        case run([String])
        case unknownSubcommand(String, suggestions: [String])
    }

    static var subcommandNames: [String] {
        VFIOProbeCommand.configuration.subcommands.compactMap { $0.configuration.commandName } + ["help"]
    }

    /// Whether swift-argument-parser parses `args` (a help or version request counts: it parsed).
    static func parses(_ args: [String]) -> Bool {
        do {
            _ = try VFIOProbeCommand.parseAsRoot(args)
            return true
        } catch {
            return VFIOProbeCommand.exitCode(for: error) == .success
        }
    }

    static func resolve(_ arguments: [String]) -> Resolution {
        // Only what precedes "--" is options.
        let end = arguments.firstIndex(of: "--") ?? arguments.endIndex
        var args = arguments
        for i in args.indices where i < end && args[i] == "-V" { args[i] = "--version" }
        let names = subcommandNames
        // A first word that is no subcommand: `check` takes no arguments, so it is a mistyped one.
        if let first = args.first, first != "--", !first.hasPrefix("-"), !names.contains(first) {
            return .unknownSubcommand(first, suggestions: suggestions(for: first, among: names))
        }
        if parses(args) { return .run(args) }
        // Options before the subcommand: they are the subcommand's.
        if let i = args[..<end].firstIndex(where: names.contains) {
            return .run(i > 0 ? [args[i]] + args[..<i] + args[(i + 1)...] : args)
        }
        // A stray word among check's options (`--root X grups`): the parse without it succeeds.
        // From the last: an earlier word may be an option's value (X).
        for i in args[..<end].indices.reversed() where !args[i].hasPrefix("-") {
            var without = args
            without.remove(at: i)
            if parses(without) { return .unknownSubcommand(args[i], suggestions: suggestions(for: args[i], among: names)) }
        }
        return .run(args)
    }

    /// The subcommands within two edits (a transposition counts as one), or that start with `word`.
    static func suggestions(for word: String, among names: [String]) -> [String] {
        let w = Array(word.lowercased())
        guard !w.isEmpty else { return [] }
        let scored = names.filter { $0 != "help" }.map { ($0, distance(w, Array($0))) }
        let best = scored.map(\.1).min() ?? .max
        let close = best <= min(2, max(1, w.count / 2)) ? scored.filter { $0.1 == best }.map(\.0) : []
        if !close.isEmpty { return close }
        return names.filter { $0 != "help" && w.count >= 2 && $0.hasPrefix(String(w)) }
    }

    /// Optimal string alignment distance (Damerau-Levenshtein without repeated edits of a substring).
    static func distance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var d = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { d[i][0] = i }
        for j in 0...b.count { d[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1) }
            }
        }
        return d[a.count][b.count]
    }

    static func unknownSubcommandMessage(_ word: String, suggestions: [String]) -> String {
        let known = subcommandNames.filter { $0 != "help" }.joined(separator: ", ")
        if PCIAddress(word) != nil { return "unknown subcommand '\(word)'; did you mean --device \(word)?" }
        if suggestions.isEmpty { return "unknown subcommand '\(word)' (the subcommands: \(known))" }
        return "unknown subcommand '\(word)'; did you mean \(suggestions.map { "'\($0)'" }.joined(separator: " or "))?"
    }

    /// Runs the command line as swift-argument-parser's `main` does, with the rewriting above and
    /// the help texts below.
    static func main(_ arguments: [String]) -> Never {
        let args: [String]
        switch resolve(arguments) {
        case .run(let a): args = a
        case .unknownSubcommand(let word, let suggestions):
            VFIOProbeCommand.exit(withError: ValidationError(unknownSubcommandMessage(word, suggestions: suggestions)))
        }
        do {
            var command = try VFIOProbeCommand.parseAsRoot(args)
            try command.run()
        } catch {
            if VFIOProbeCommand.exitCode(for: error) == .success, let help = help(for: error) {
                var s = help
                s.withUTF8 { _ = try? FileDescriptor.standardOutput.writeAll($0) }
                VFIOProbeCommand.exit()
            }
            VFIOProbeCommand.exit(withError: error)
        }
        VFIOProbeCommand.exit()
    }

    /// The help a help request prints, with `-V` named; at the top, `check`'s options as well.
    static func help(for error: any Error) -> String? {
        let text = VFIOProbeCommand.fullMessage(for: error)
        guard text.contains("USAGE:") else { return nil }
        let named = withShortVersion(text)
        guard text == VFIOProbeCommand.fullMessage(for: CleanExit.helpRequest(VFIOProbeCommand.self)) else { return named + "\n" }
        return topLevelHelp() + "\n"
    }

    static let versionLine = "  --version               Show the version."

    static func withShortVersion(_ text: String) -> String {
        text.replacing(versionLine, with: "  -V, --version           Show the version.")
    }

    /// The root's overview and discussion, a usage that says `check` is the default, check's
    /// options, and the subcommands.
    static func topLevelHelp() -> String {
        let root = VFIOProbeCommand.helpMessage()
        let check = VFIOProbeCommand.helpMessage(for: CheckCommand.self)
        func section(_ text: String, _ name: String) -> String? {
            guard let r = text.firstRange(of: "\n\(name):\n") else { return nil }
            let rest = text[r.upperBound...]
            let end = rest.firstRange(of: "\n\n")?.lowerBound ?? rest.endIndex
            var s = rest[..<end]
            while s.last == "\n" { s = s.dropLast() }
            return String(s)
        }
        guard let usage = root.firstRange(of: "USAGE: "), let options = section(check, "OPTIONS"),
            let subcommands = root.firstRange(of: "\nSUBCOMMANDS:\n")
        else { return root }
        var out = String(root[..<usage.lowerBound])
        out += "USAGE: vfio-probe [check] [<options>]\n       vfio-probe <subcommand> [<options>]\n\n"
        out += "OPTIONS (of check, the default subcommand; options may come before a subcommand):\n"
        out += withShortVersion(options) + "\n"
        out += String(root[subcommands.lowerBound...])
        return out
    }
}
