/// What a reporter may be told beyond the report: only the text report uses it.
public struct ReporterOptions: Sendable {
    public var color: Bool
    /// The width the text report wraps to (nil: unwrapped, `--wide`).
    public var width: Int?
    /// `-v`: every check with its evidence.
    public var verbose: Bool
    /// `--all`: the chipset functions and bridges too.
    public var showAll: Bool
    public init(color: Bool = false, width: Int? = 80, verbose: Bool = false, showAll: Bool = false) {
        self.color = color
        self.width = width
        self.verbose = verbose
        self.showAll = showAll
    }
}

/// A `--format` of the probe's report. The reporters are pure and mostly caseless enums, so the
/// requirements are static; the conformances below only adapt their existing entry points.
public protocol Reporter {
    /// The `--format` value that picks it.
    static var format: String { get }
    /// What its output is for, in `--help` ("a node_exporter textfile"); nil when the name says it.
    static var purpose: String? { get }
    static func render(_ report: Report, options: ReporterOptions) -> String
    /// Hands the rendered bytes to `emit`, in one piece or several (JSON streams a large host's).
    static func write(_ report: Report, options: ReporterOptions, to emit: ([UInt8]) -> Void)
}

extension Reporter {
    public static var purpose: String? { nil }
    public static func write(_ report: Report, options: ReporterOptions, to emit: ([UInt8]) -> Void) {
        emit(Array(render(report, options: options).utf8))
    }
}

/// Every `--format` of `vfio-probe check`, the default first: the CLI's choices and help come from here.
public enum Reporters {
    public static var all: [any Reporter.Type] { [TextReporter.self, JSONReporter.self, PrometheusReporter.self, NFDReporter.self] }

    public static var formats: [String] { all.map { $0.format } }

    public static func reporter(for format: String) -> (any Reporter.Type)? {
        all.first { $0.format == format }
    }

    /// "text, json, prometheus (a node_exporter textfile) or nfd (…)", for `--help` and the docs.
    public static var choices: String {
        let items = all.map { r in r.purpose.map { "\(r.format) (\($0))" } ?? r.format }
        return items.count < 2 ? items.joined() : items.dropLast().joined(separator: ", ") + " or " + items[items.count - 1]
    }
}

extension TextReporter: Reporter {
    public static var format: String { "text" }
    public static func render(_ report: Report, options: ReporterOptions) -> String {
        TextReporter(color: options.color, width: options.width, verbose: options.verbose, showAll: options.showAll).render(report)
    }
}

extension JSONReporter: Reporter {
    public static var format: String { "json" }
    public static func render(_ report: Report, options: ReporterOptions) -> String { render(report) }
    public static func write(_ report: Report, options: ReporterOptions, to emit: ([UInt8]) -> Void) { write(report, emit) }
}

extension PrometheusReporter: Reporter {
    public static var format: String { "prometheus" }
    public static var purpose: String? { "a node_exporter textfile" }
    public static func render(_ report: Report, options: ReporterOptions) -> String { render(report) }
}

extension NFDReporter: Reporter {
    public static var format: String { "nfd" }
    public static var purpose: String? { "a node-feature-discovery feature file" }
    public static func render(_ report: Report, options: ReporterOptions) -> String { render(report) }
}
