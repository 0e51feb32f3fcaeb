import ProbeCore

/// A format of the probe's report: `text` (the operator's), `json`, `prometheus` (a
/// node_exporter textfile) or `nfd` (a node-feature-discovery feature file).
public struct ReportFormat: Sendable, Hashable, CustomStringConvertible {
    /// The name `--format` takes.
    public let name: String

    /// The format named `name`, or nil when there is none.
    public init?(name: String) {
        guard Reporters.reporter(for: name) != nil else { return nil }
        self.name = name
    }

    /// The operator's report: verdict, checks, devices and what to do.
    public static let text = ReportFormat(name: "text")!
    /// Every fact, finding and verdict (schema_version 2).
    public static let json = ReportFormat(name: "json")!
    /// Series for a node_exporter textfile collector (≤ 2 per function + one per check not passing).
    public static let prometheus = ReportFormat(name: "prometheus")!
    /// A node-feature-discovery feature file (`vfio.*` labels).
    public static let nfd = ReportFormat(name: "nfd")!

    /// Every format, the default (text) first.
    public static var all: [ReportFormat] { Reporters.formats.compactMap { ReportFormat(name: $0) } }
    /// "text, json, prometheus (a node_exporter textfile) or nfd (…)", for help texts.
    public static var choices: String { Reporters.choices }

    public var description: String { name }
    var reporter: any Reporter.Type { Reporters.reporter(for: name)! }
}

/// How the text format is laid out: colour, the width it wraps to (nil: unwrapped), `verbose`
/// (every check with its evidence) and `showAll` (the chipset functions and bridges too).
/// The other formats ignore it.
public typealias TextOptions = ProbeCore.ReporterOptions

extension TextOptions {
    /// The width a report for this process's standard output wraps to: `COLUMNS`, the
    /// terminal's, or 80.
    public static var terminalWidth: Int { TextLayout.currentWidth() }
}

extension Report {
    /// The report in `format`; `options` lay the text format out (80 columns, no colour by default).
    public func render(_ format: ReportFormat, options: TextOptions = TextOptions()) -> String {
        format.reporter.render(self, options: options)
    }

    /// The same bytes as ``render(_:options:)``, handed to `emit` in pieces (JSON streams a large
    /// host's report).
    public func write(_ format: ReportFormat, options: TextOptions = TextOptions(), to emit: ([UInt8]) -> Void) {
        format.reporter.write(self, options: options, to: emit)
    }

    /// `vfio-probe groups`: every IOMMU group with its devices, viability and readiness.
    public func renderGroups(json: Bool, color: Bool = false) -> String {
        json ? GroupsReporter.json(self) : GroupsReporter.text(self, color: color)
    }

    /// The CDI spec of this report's assignable units.
    public func cdiSpec(_ options: CDIReporter.Options = .init()) -> CDIReporter.Spec {
        CDIReporter.build(self, options: options)
    }
}

extension CDIReporter.Spec {
    /// The spec as JSON, or nil when it describes no unit (a CDI spec needs a device).
    public var json: String? { document.map { $0.render() } }
}

/// The registered checks, listed: `vfio-probe checks`.
public enum CheckListing: Sendable {
    /// id, title and category per check; with `verbose`, rationale and remedy too.
    case text(verbose: Bool)
    /// Every descriptor as JSON.
    case json
    /// The man page's CHECKS section (mdoc).
    case man
    /// The README's check table (Markdown).
    case markdown

    /// `--explain ID`: the check's title, rationale, what it reads, its remedy and the kernel
    /// behaviour it follows; nil when no check has that id.
    public static func explain(_ id: String) -> String? { CheckDocs.explain(id) }

    /// The listing's text.
    public func render() -> String {
        switch self {
        case .text(let verbose): ChecksListing.render(verbose: verbose)
        case .json: ChecksListing.json()
        case .man: CheckDocs.manSection()
        case .markdown: CheckDocs.readmeTable()
        }
    }
}

extension DriftView {
    /// A JSON report's drift facts (`vfio-probe --format json`, schema 2).
    public init(reportJSON text: String) throws(Probe.Failure) {
        let doc: JSONValue
        do { doc = try JSONParser.parse(text) } catch { throw Probe.Failure(description: "not JSON (\(error.message))") }
        do { try self.init(report: doc) } catch { throw Probe.Failure(description: error.description) }
    }

    /// The drift facts of a tree laid out like `/` (a snapshot), probed without the live proof.
    public init(tree root: String) throws(Probe.Failure) {
        var probe = Probe(root: root)
        probe.live = .off
        probe.lookUpNames = false
        probe.siteChecks = .none
        let document = JSONReporter.document(try probe.run())
        do { try self.init(report: document) } catch { throw Probe.Failure(description: error.description) }
    }
}

extension DriftChange {
    /// Changes as a JSON array of {kind, subject, change}.
    public static func json(_ changes: [DriftChange]) -> String {
        JSONValue.array(
            changes.map { .object([("kind", .string($0.kind.rawValue)), ("subject", .string($0.subject)), ("change", .string($0.text))]) }
        ).render()
    }
}

extension Snapshot {
    /// The README a snapshot written to `output` carries: what it holds, to review before sharing.
    public static func readmePath(in output: String) -> String { "\(output)/\(HostFS.manifestDirectory.dropFirst())/README" }
}
