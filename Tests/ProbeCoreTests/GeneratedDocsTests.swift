import Foundation
import Testing
@testable import ProbeCore

/// The documentation that is generated or derived stays what its source says: the check docs
/// (CheckDocs, from the descriptors), the option list (from the command's own help) and the
/// `--format` values (from Reporters.all).
struct GeneratedDocsTests {
    @Test(arguments: [CheckDocs.man, CheckDocs.readme])
    func checkDocsAreCurrent(region: CheckDocs.Region) throws {
        let text = try String(contentsOfFile: Repo.root + "/" + region.file, encoding: .utf8)
        let committed = try #require(CheckDocs.extract(text, region), "\(region.file) has no \(region.begin) … \(region.end) region")
        let generated = region.file == CheckDocs.man.file ? CheckDocs.manSection() : CheckDocs.readmeTable()
        guard committed != generated else { return }
        let (c, g) = (
            committed.split(separator: "\n", omittingEmptySubsequences: false),
            generated.split(separator: "\n", omittingEmptySubsequences: false)
        )
        let at = (0..<min(c.count, g.count)).first { c[$0] != g[$0] } ?? min(c.count, g.count)
        Issue.record(
            """
            \(region.file) \(region.what) is out of date: run scripts/generate-docs.sh
              first difference at line \(at + 1) of the region: committed \(at < c.count ? "\"\(c[at])\"" : "nothing"), generated \(at < g.count ? "\"\(g[at])\"" : "nothing")
            """)
    }

    @Test func spliceReplacesOnlyTheRegion() throws {
        let r = CheckDocs.Region(file: "x", begin: "<!-- b -->", end: "<!-- e -->", what: "x")
        let text = "a\n<!-- b -->\nold\n<!-- e -->\nz\n"
        #expect(CheckDocs.splice(text, r, "new\n") == "a\n<!-- b -->\nnew\n<!-- e -->\nz\n")
        #expect(CheckDocs.extract("a\n<!-- e -->\n<!-- b -->\n", r) == nil)
    }

    /// The options of every command, as the command itself describes them (the ToolInfo that
    /// argument-parser's generate-manual renders): `--name` and `-n`, shown ones only.
    static func commandOptions() throws -> Set<String> {
        let dump = try runBinary(["--experimental-dump-help"]).stdout
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(dump.utf8)) as? [String: Any])
        var out: Set<String> = []
        func walk(_ command: [String: Any]) {
            for a in command["arguments"] as? [[String: Any]] ?? [] where a["shouldDisplay"] as? Bool != false {
                for n in a["names"] as? [[String: Any]] ?? [] {
                    guard let name = n["name"] as? String, let kind = n["kind"] as? String else { continue }
                    out.insert(kind == "long" ? "--" + name : "-" + name)
                }
            }
            for s in command["subcommands"] as? [[String: Any]] ?? [] { walk(s) }
        }
        walk(try #require(doc["command"] as? [String: Any]))
        // What the command line rewrites before argument-parser sees it (vfio-probe's Arguments):
        // -V is --version. CommandLineTests.shortOptions runs it.
        out.insert("-V")
        return out
    }

    /// Every option the man page's OPTIONS list names exists (the other way round,
    /// DocumentationTests.everyOptionIsDocumented).
    @Test func manOptionsExist() throws {
        let man = try String(contentsOfFile: Repo.root + "/man/vfio-probe.1", encoding: .utf8)
        let lines = man.split(separator: "\n", omittingEmptySubsequences: false)
        let start = try #require(lines.firstIndex(of: ".Sh OPTIONS"))
        let end = lines[(start + 1)...].firstIndex { $0.hasPrefix(".Sh ") } ?? lines.endIndex
        var documented: Set<String> = []
        for line in lines[start..<end] where line.hasPrefix(".It ") {
            let words = line.split(separator: " ")
            for (i, w) in words.enumerated() where w == "Fl" && i + 1 < words.count {
                documented.insert("-" + words[i + 1])
            }
        }
        #expect(documented.count > 10)
        let options = try Self.commandOptions()
        for o in documented.sorted() where !options.contains(o) {
            Issue.record("man/vfio-probe.1 OPTIONS is out of date: it documents \(o), which no vfio-probe command has")
        }
    }

    /// The `--format` values the man page and the README list are Reporters.all's.
    @Test func formatValuesAreTheReporters() throws {
        let man = try String(contentsOfFile: Repo.root + "/man/vfio-probe.1", encoding: .utf8)
        let readme = try String(contentsOfFile: Repo.root + "/README.md", encoding: .utf8)
        let formats = Reporters.formats
        #expect(
            man.contains(".It Fl -format Cm " + formats.joined(separator: " | ") + "\n"),
            "man/vfio-probe.1: the --format item must list \(formats.joined(separator: ", "))")
        #expect(readme.contains("[--format " + formats.joined(separator: "|") + "]"), "README.md usage: --format must list \(formats)")
        let dump = try runBinary(["check", "--experimental-dump-help"]).stdout
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(dump.utf8)) as? [String: Any])
        let arguments = (doc["command"] as? [String: Any])?["arguments"] as? [[String: Any]] ?? []
        let format = try #require(arguments.first { $0["valueName"] as? String == "format" })
        #expect(format["allValues"] as? [String] == formats, "check --help lists the reporters' formats")
    }
}

extension CheckDocs.Region: CustomTestStringConvertible {
    public var testDescription: String { file }
}

/// The README's text examples are the tool's output: each sits between
/// `<!-- BEGIN EXAMPLE: ARGS [| SECTION; SECTION] -->` and `<!-- END EXAMPLE -->`, in a fenced
/// block, and is what `vfio-probe ARGS` prints from the repository's root (at 80 columns), cut to
/// the named sections (the headings of the report's blank-line separated blocks; `Verdict` is the
/// verdict's block) with `...` where blocks are left out. scripts/generate-docs.sh rewrites them.
struct ReadmeExampleTests {
    static let begin = "<!-- BEGIN EXAMPLE: "
    static let end = "<!-- END EXAMPLE -->"

    static func render(_ spec: String) throws -> String {
        let parts = spec.split(separator: "|", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
        var args = parts[0].split(separator: " ").map(String.init)
        guard args.first == "vfio-probe" else { return "" }
        args.removeFirst()
        let out = try runBinary(args, in: Repo.root).stdout
        let shown = "$ " + parts[0] + "\n"
        guard parts.count == 2 else { return shown + out }
        let wanted = parts[1].split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        let blocks = out.components(separatedBy: "\n\n")
        var kept: [String] = []
        var skipped = false
        for (i, b) in blocks.enumerated() {
            let heading = b.split(separator: "\n").first.map(String.init) ?? ""
            if i == 0 || wanted.contains(where: { heading == $0 || heading.hasPrefix($0 + ":") }) {
                if skipped { kept.append("...") }
                kept.append(b.hasSuffix("\n") ? String(b.dropLast()) : b)
                skipped = false
            } else {
                skipped = true
            }
        }
        if skipped { kept.append("...") }
        return shown + kept.joined(separator: "\n\n") + "\n"
    }

    @Test func examplesAreTheToolsOutput() throws {
        let path = Repo.root + "/README.md"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var lines = text.components(separatedBy: "\n")
        var out: [String] = []
        var count = 0
        var i = 0
        while i < lines.count {
            let l = lines[i]
            out.append(l)
            i += 1
            guard l.hasPrefix(Self.begin), l.hasSuffix(" -->") else { continue }
            let spec = String(l.dropFirst(Self.begin.count).dropLast(4))
            guard let e = lines[i...].firstIndex(of: Self.end) else {
                Issue.record("README: \(l) has no \(Self.end)")
                return
            }
            let committed = lines[i..<e].joined(separator: "\n")
            let generated = "```\n" + (try Self.render(spec)) + "```"
            count += 1
            if ProcessInfo.processInfo.environment["VFIO_PROBE_UPDATE_GOLDENS"] == "1" {
                out.append(generated)
            } else {
                out.append(committed)
                #expect(committed == generated, "README example `\(spec)` is out of date: run scripts/generate-docs.sh")
            }
            i = e
        }
        lines = out
        #expect(count >= 3, "README's generated examples")
        if ProcessInfo.processInfo.environment["VFIO_PROBE_UPDATE_GOLDENS"] == "1" {
            try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        }
    }
}
