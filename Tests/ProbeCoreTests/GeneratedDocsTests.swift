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
