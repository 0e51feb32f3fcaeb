import Foundation
import Testing

@testable import ProbeCore

/// The text report at a width: wrapping, commands kept whole, and what a real terminal shows.
@Suite("Text layout")
struct TextLayoutTests {
    @Test("words wrap under a hanging indent; a word longer than the room stands alone")
    func wrap() {
        let lines = TextLayout.wrap("one two three four five", width: 14, first: "  - ", rest: "    ")
        #expect(lines == ["  - one two", "    three four", "    five"])
        let long = TextLayout.wrap("see /sys/bus/pci/devices/0000:01:00.0/driver_override now", width: 20, first: "", rest: "  ")
        #expect(long == ["see", "  /sys/bus/pci/devices/0000:01:00.0/driver_override", "  now"])
        #expect(TextLayout.wrap("a  b", width: nil, first: "", rest: "") == ["a  b"])
        // A run of spaces inside a line is kept; at a break it is dropped.
        #expect(TextLayout.wrap("abc  def", width: 5, first: "", rest: " ") == ["abc", " def"])
    }

    @Test("a command that does not fit beside its number goes, unbroken, on the next line")
    func command() {
        let c = "echo vfio-pci > /sys/bus/pci/devices/0000:01:00.1/driver_override"
        #expect(TextLayout.command(c, width: 80, prefix: "  1. ", indent: "     ") == ["  1. " + c])
        #expect(TextLayout.command(c, width: 40, prefix: "  1. ", indent: "     ") == ["  1.", "     " + c])
        #expect(TextLayout.isCommand(c))
        #expect(!TextLayout.isCommand("add \"intel_iommu=on\" to GRUB_CMDLINE_LINUX in /etc/default/grub"))
    }

    @Test("a command a remedy quotes after a colon is found, and prose after a program name is not")
    func quotedCommand() throws {
        let q = try #require(
            TextLayout.quotedCommand(
                in: "Use hugepages, or raise it: echo 1048576 > /sys/module/vfio_iommu_type1/parameters/dma_entry_limit (or at boot)."))
        #expect(q.before == "Use hugepages, or raise it:")
        #expect(q.command == "echo 1048576 > /sys/module/vfio_iommu_type1/parameters/dma_entry_limit")
        #expect(q.after == "(or at boot).")
        #expect(TextLayout.quotedCommand(in: "Bind it at boot: driverctl rebinds it after boot.") == nil)
        #expect(TextLayout.quotedCommand(in: "Load it: modprobe it, then reprobe.") == nil)
        #expect(TextLayout.quotedCommand(in: "Load it: modprobe vendor_reset")?.command == "modprobe vendor_reset")
        #expect(
            TextLayout.quotedCommand(in: "Grow the pool: echo 2048 > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages.")?.after == "."
        )
    }

    @Test("the width: COLUMNS, else the terminal's, else 80")
    func width() {
        #expect(TextLayout.width(columns: "120", ttyColumns: 100) == 120)
        #expect(TextLayout.width(columns: nil, ttyColumns: 100) == 100)
        #expect(TextLayout.width(columns: "abc", ttyColumns: nil) == 80)
        #expect(TextLayout.width(columns: "10", ttyColumns: nil) == 80)
    }

    /// A line wider than the width is allowed only when it cannot be broken: a single command
    /// (after its step number) or a single word.
    static func unbreakable(_ line: Substring) -> Bool {
        var s = line.drop { $0 == " " }
        if let dot = s.firstIndex(of: "."), s[..<dot].allSatisfy(\.isNumber), s.index(after: dot) < s.endIndex,
            s[s.index(after: dot)] == " "
        {
            s = s[s.index(dot, offsetBy: 2)...]
        }
        return TextLayout.isCommand(String(s)) || !s.contains(" ")
    }

    @Test("no line of any fixture's report is wider than 80 columns unless it is one command", arguments: Scenario.all)
    func eightyColumns(_ scenario: Scenario) throws {
        let root = try scenario.root()
        defer { scenario.release(root) }
        for extra in [[], ["-v", "--all"]] {
            let r = try runBinary(["--root", root, "--no-live", "--color", "never"] + extra)
            #expect(!r.stdout.isEmpty)
            for line in r.stdout.split(separator: "\n") where line.count > 80 {
                #expect(Self.unbreakable(line), "\(scenario) \(extra): \(line.count) columns: \(line)")
            }
        }
        let wide = try runBinary(["--root", root, "--no-live", "--color", "never", "--wide"]).stdout
        let wrapped = try runBinary(["--root", root, "--no-live", "--color", "never"]).stdout
        // The same report, only laid out differently: every word in the same order (a sentence's
        // period after a command set on its own line is left out).
        func words(_ s: String) -> [Substring] {
            s.split(whereSeparator: \.isWhitespace).map { $0.hasSuffix(".") ? $0.dropLast() : $0 }.filter { !$0.isEmpty }
        }
        #expect(words(wide) == words(wrapped))
    }

    @Test("every command the reports give parses as shell (sh -n), per family")
    func commandsParse() throws {
        var commands: Set<String> = []
        for fixture in HostFixture.allCases {
            let r = try runBinary(["--root", fixture.path, "--no-live", "--format", "json"])
            let doc = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
            var actions = (doc["devices"] as? [[String: Any]] ?? []).flatMap { $0["actions"] as? [String] ?? [] }
            let verdict = doc["verdict"] as? [String: Any] ?? [:]
            actions += verdict["actions"] as? [String] ?? []
            actions += (verdict["upgrade"] as? [String: Any])?["actions"] as? [String] ?? []
            commands.formUnion(actions.filter(TextLayout.isCommand))
            // And the commands the remedies and prose actions quote after a colon.
            let remedies = (doc["checks"] as? [[String: Any]] ?? []).compactMap { $0["remedy"] as? String }
            commands.formUnion((remedies + actions).compactMap { TextLayout.quotedCommand(in: $0)?.command })
        }
        let families = Set(commands.compactMap { $0.split(separator: " ").first.map(String.init) })
        // Binding (echo to sysfs) and module loading at least; each family is checked whole.
        #expect(families.isSuperset(of: ["echo", "modprobe"]), "\(families.sorted())")
        for c in commands.sorted() {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/sh")
            p.arguments = ["-n", "-c", c]
            let err = Pipe()
            p.standardError = err
            try p.run()
            p.waitUntilExit()
            #expect(
                p.terminationStatus == 0, "sh -n: \(c): \(String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))")
        }
    }

    static let tmux = ["/usr/bin/tmux", "/bin/tmux"].first { FileManager.default.isExecutableFile(atPath: $0) }

    @Test(
        "in a real terminal of 80 columns (tmux) the report is the piped one, colour aside",
        .enabled(if: tmux != nil, "tmux is not installed (scripts/test-all.sh installs it)"))
    func realTerminal() throws {
        let tmux = try #require(Self.tmux)
        let socket = "vfio-probe-test-\(UUID().uuidString.prefix(8))"
        let root = HostFixture.intelVFIOReady.path
        let piped = try runBinary(["--root", root, "--no-live", "--color", "never"]).stdout
        // Each tmux command through python3, which closes every descriptor above 2 first: the
        // server new-session starts would keep one of Foundation's, and Process would wait for it.
        // A stuck tmux is ended by timeout(1), not by the test's time limit.
        func run(_ args: [String]) throws -> String {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments =
                ["timeout", "20", "python3", "-c", "import os, sys; os.closerange(3, 65536); os.execv(sys.argv[1], sys.argv[1:])", tmux]
                + ["-L", socket, "-f", "/dev/null"] + args
            p.environment = ProcessInfo.processInfo.environment.filter { $0.key != "COLUMNS" && $0.key != "TMUX" }
            let out = Pipe()
            p.standardOutput = out
            p.standardError = FileHandle.nullDevice
            try p.run()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            return String(decoding: data, as: UTF8.self)
        }
        defer { _ = try? run(["kill-server"]) }
        // Colour is on (auto: a terminal); capture-pane without -e leaves it out. The pane stays
        // (read) until kill-server, so that it can be captured.
        let command = "env -u COLUMNS \(Repo.binary) --root \(root) --no-live; tmux -L \(socket) wait-for -S done; read hold"
        _ = try run(["new-session", "-d", "-x", "80", "-y", "200", command])
        _ = try run(["wait-for", "done"])
        let pane = try run(["capture-pane", "-p", "-S", "-", "-E", "-"])
        let trimmed = pane.split(separator: "\n", omittingEmptySubsequences: false).map { $0.reversed().drop { $0 == " " }.reversed() }
            .map { String($0) }.joined(separator: "\n").trimmingCharacters(in: .newlines)
        #expect(trimmed == piped.trimmingCharacters(in: .newlines))
    }
}
