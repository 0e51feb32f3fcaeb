/// The man page's CHECKS list and the README's check table, written from the check descriptors
/// so that they cannot drift: scripts/generate-docs.sh puts them between the marker lines, and a
/// test fails when the committed text is not what these functions return.
public enum CheckDocs {
    /// A generated region of a committed file: the lines between `begin` and `end`.
    public struct Region: Sendable {
        public var file: String
        public var begin: String
        public var end: String
        public var what: String
    }

    public static let man = Region(
        file: "man/vfio-probe.1", begin: #".\" BEGIN GENERATED CHECKS (scripts/generate-docs.sh)"#,
        end: #".\" END GENERATED CHECKS"#, what: "CHECKS section")
    public static let readme = Region(
        file: "README.md", begin: "<!-- BEGIN GENERATED CHECKS (scripts/generate-docs.sh) -->",
        end: "<!-- END GENERATED CHECKS -->", what: "check table")

    /// The descriptors by category, in the order `vfio-probe checks` lists them.
    static func byCategory() -> [(Category, [CheckDescriptor])] {
        let all = CheckRegistry.all.map { $0.descriptor }
        return Category.allCases.compactMap { c in
            let ds = all.filter { $0.category == c }
            return ds.isEmpty ? nil : (c, ds)
        }
    }

    /// mdoc: one tagged list per category; each check's title, why it matters, what it reads and
    /// the fix, one sentence per line.
    public static func manSection() -> String {
        var out: [String] = []
        for (c, ds) in byCategory() {
            out += [".Ss \(roff(c.title))", ".Bl -tag -width Ds"]
            for d in ds {
                out.append(".It Li \(d.id)")
                out += roffLines(d.title + ".")
                out += roffLines(d.rationale)
                out += roffLines("Reads: " + d.looksAt.joined(separator: "; ") + ".")
                out += roffLines("Fix: " + d.remedy)
                if !d.decides { out += roffLines("It only informs: skipping it leaves the verdict whole.") }
            }
            out.append(".El")
        }
        return out.map { $0 + "\n" }.joined()
    }

    /// `vfio-probe --explain ID`: one check in full, wrapped to `width`: what it is for, the
    /// kernel behaviour it follows (its rationale cites the kernel functions), what it reads, its
    /// remedy, and the fixtures its examples (which are tests) run on. An alias names it too.
    public static func explain(_ id: String, width: Int = 80) -> String? {
        guard let d = CheckRegistry.all.map({ $0.descriptor }).first(where: { $0.id == id || $0.aliases.contains(id) }) else {
            return nil
        }
        var out: [String] = ["\(d.id): \(d.title)", ""]
        func para(_ label: String, _ text: String) {
            out += TextLayout.wrap(
                text, width: width, first: label + String(repeating: " ", count: max(1, 10 - label.count)),
                rest: String(repeating: " ", count: 10))
        }
        para(
            "Category", d.category.title + (d.decides ? " (it decides a mode)" : " (it only informs: skipping it leaves the verdict whole)")
        )
        para("Why", d.rationale)
        para("Reads", d.looksAt.joined(separator: "; "))
        para("Fix", d.remedy)
        if !d.examples.isEmpty {
            let ex = d.examples.map { e in "\(e.fixture)\(e.device.map { " \($0)" } ?? ""): \(e.status.rawValue)" }
            para("Examples", ex.joined(separator: "; ") + " (fixture trees in Tests/Fixtures/hosts, run as tests)")
        }
        return out.map { $0 + "\n" }.joined()
    }

    /// Markdown: one row per check, the category named on its first row.
    public static func readmeTable() -> String {
        var out = ["| category | id | what it checks |", "|---|---|---|"]
        for (c, ds) in byCategory() {
            for (i, d) in ds.enumerated() {
                let title = d.title + (d.decides ? "" : " (informs only)")
                out.append("| \(i == 0 ? markdown(c.title) : "") | `\(d.id)` | \(markdown(title)) |")
            }
        }
        return out.map { $0 + "\n" }.joined()
    }

    /// Where the generated lines sit in `text`: after the begin marker's line, up to the end
    /// marker at the start of a line; nil when either is missing.
    static func contents(_ text: String, _ region: Region) -> Range<String.Index>? {
        guard let b = text.firstRange(of: region.begin + "\n"), let e = text[b.upperBound...].firstRange(of: region.end),
            e.lowerBound == b.upperBound || text[text.index(before: e.lowerBound)] == "\n"
        else { return nil }
        return b.upperBound..<e.lowerBound
    }

    /// The lines between the region's markers in `text`.
    public static func extract(_ text: String, _ region: Region) -> String? {
        contents(text, region).map { String(text[$0]) }
    }

    /// `text` with the lines between the region's markers replaced by `generated`.
    public static func splice(_ text: String, _ region: Region, _ generated: String) -> String? {
        contents(text, region).map { String(text[..<$0.lowerBound]) + generated + String(text[$0.upperBound...]) }
    }

    /// Text for roff: backslashes escaped, `code` quoted as roff quotes it.
    static func roffText(_ s: String) -> String {
        var out = ""
        var open = false
        for ch in s.replacing("\\", with: "\\e") {
            if ch == "`" {
                out += open ? "\\(rq" : "\\(lq"
                open.toggle()
            } else {
                out.append(ch)
            }
        }
        return out
    }

    /// A roff text line: a leading "." or "'" kept from being read as a request.
    static func roffLine(_ s: String) -> String { s.hasPrefix(".") || s.hasPrefix("'") ? "\\&" + s : s }

    static func roff(_ s: String) -> String { roffLine(roffText(s)) }

    /// One line per sentence, longer sentences wrapped at a space before 80 columns (never after
    /// a word ending in ".", which roff would take for a sentence end).
    static func roffLines(_ text: String) -> [String] {
        var lines: [String] = []
        var line = ""
        let words = roffText(text).split(separator: " ").map(String.init)
        for (i, w) in words.enumerated() {
            let endsSentence =
                (w.hasSuffix(".") || w.hasSuffix("!") || w.hasSuffix("?")) && i + 1 < words.count
                && words[i + 1].first.map { $0.isUppercase || $0 == "(" } == true
            if !line.isEmpty, line.count + 1 + w.count > 78, !(line.last.map { ".!?".contains($0) } ?? false) {
                lines.append(line)
                line = w
            } else {
                line = line.isEmpty ? w : line + " " + w
            }
            if endsSentence {
                lines.append(line)
                line = ""
            }
        }
        if !line.isEmpty { lines.append(line) }
        return lines.map(roffLine)
    }

    static func markdown(_ s: String) -> String { s.replacing("|", with: "\\|") }
}
