import ArgumentParser

import VFIOProbe
import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

@main
struct VFIOProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vfio-probe",
        abstract:
            "Tell whether VFIO is safe on this host and for each PCI device — safe VFIO, no-IOMMU only, or nothing — why, and what would fix it.",
        discussion: """
            Exit status: 0 safe VFIO usable, 5 only VFIO without interrupt isolation (unsafe-interrupts), 2 only no-IOMMU usable, \
            3 nothing usable, 1 no answer (the probe failed, the report could not be written, --root is not a root, a deciding fact \
            was unreadable, or --only/--skip left out a deciding check; 3 all the same when even what was seen allows nothing), \
            64 usage error, 141 killed by SIGPIPE.
            With --require MODE: 0 only when the verdict is at least MODE (vfio > unsafe-interrupts > noiommu) and holds now \
            (every --device ready; without --device, no host action needed); 4 when it holds once the listed actions are done; \
            otherwise the verdict's own status.
            """,
        version: Report.toolVersion,
        subcommands: [
            CheckCommand.self, ChecksCommand.self, GroupsCommand.self, SnapshotCommand.self, ACPICommand.self, CDICommand.self,
            DiffCommand.self,
        ],
        defaultSubcommand: CheckCommand.self)

    static func main() {
        // Before anything is opened: a closed standard output must not be handed to a file.
        _ = Terminal.standardOutputIsOpen
        Arguments.main(Array(CommandLine.arguments.dropFirst()))
    }
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable, CustomStringConvertible {
    case text, json
    var description: String { rawValue }
}

extension ReportFormat: ExpressibleByArgument {
    public init?(argument: String) { self.init(name: argument) }
    public var defaultValueDescription: String { name }
    public static var allValueStrings: [String] { all.map(\.name) }
    public static var defaultCompletionKind: CompletionKind { .list(allValueStrings) }
}

enum ColorChoice: String, ExpressibleByArgument, CaseIterable {
    case auto, always, never
}

enum RequiredMode: String, ExpressibleByArgument, CaseIterable {
    case vfio
    /// Accepts VFIO without interrupt isolation (allow_unsafe_interrupts) as well as safe VFIO.
    case unsafeInterrupts = "unsafe-interrupts"
    case noiommu
    var mode: Mode {
        switch self {
        case .vfio: .vfio
        case .unsafeInterrupts: .unsafeInterrupts
        case .noiommu: .noiommu
        }
    }
}

extension PCIAddress: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
}

/// A size on the command line: "64G", "512MiB", "4096" (ByteCount.parse).
struct ByteSizeArgument: ExpressibleByArgument {
    var bytes: UInt64
    init?(argument: String) {
        guard let b = ByteCount.parse(argument) else { return nil }
        bytes = b
    }
}

struct RootOption: ParsableArguments {
    @Option(
        name: .customLong("root"),
        help: ArgumentHelp("Analyse a tree laid out like / (a fixture or a snapshot) instead of this host (default: /).", valueName: "dir"))
    var given: String?
    var root: String { given ?? "/" }
}

/// `-j`: `--format json`, refused beside another `--format`.
func chosenFormat<F: CustomStringConvertible>(_ format: F?, json: Bool, default: F, json jsonFormat: F) throws -> F {
    guard json else { return format ?? `default` }
    if let format, format.description != jsonFormat.description {
        throw ValidationError("-j is --format json: it cannot be given with --format \(format)")
    }
    return jsonFormat
}

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Probe the host (the default command).")

    @OptionGroup var rootOption: RootOption

    @Option(
        name: [.customShort("d"), .customLong("device")],
        help: ArgumentHelp(
            "Only this PCI function (DDDD:BB:DD.F or BB:DD.F) and its IOMMU group; repeatable. The verdict is the best mode all named devices share.",
            valueName: "bdf"))
    var devices: [PCIAddress] = []

    @Option(help: ArgumentHelp("Output format: \(ReportFormat.choices). Default: text."))
    var format: ReportFormat?

    @Flag(name: .customShort("j"), help: "The same as --format json.")
    var json = false

    @Option(
        help: ArgumentHelp(
            "Exit 0 only when the verdict is at least this mode (vfio, unsafe-interrupts or noiommu) and holds now; 4 when it holds after the listed actions.",
            valueName: "mode"))
    var require: RequiredMode?

    @Option(
        help: ArgumentHelp(
            "Write the report to this file: written beside it as .NAME.tmp and renamed into place only when complete.", valueName: "file"))
    var output: String?

    @Option(
        name: .customLong("only"),
        help: ArgumentHelp("Run only this check (an id, a category, or an id prefix ending in '.'); repeatable.", valueName: "id"))
    var only: [String] = []

    @Option(name: .customLong("skip"), help: ArgumentHelp("Do not run this check; repeatable.", valueName: "id"))
    var skip: [String] = []

    @Flag(help: "Skip the live proof: read sysfs, procfs and /dev only, make no ioctl.")
    var noLive = false

    @Flag(help: "Open each device fd in the live walks even without --device (vfio-pci may reset a function when it is opened and closed).")
    var deviceOpen = false

    @Flag(
        help:
            "Stop each live walk before opening the device fd, also for named devices (the default on whole-host runs, which reset nothing)."
    )
    var noDeviceOpen = false

    @Option(
        help: ArgumentHelp(
            "Run the site checks in this directory (executables printing findings as JSON lines; see the README). Default: /etc/vfio-probe/checks.d when it exists, and only on this host, not on a --root tree.",
            valueName: "dir"))
    var checksDir: String?

    @Flag(
        name: .customLong("accept-acs-override"),
        help:
            "Take the IOMMU groups pcie_acs_override= split as they are: a device below a port without ACS is then a warning, not blocked (peer-to-peer DMA between the split devices still bypasses the IOMMU)."
    )
    var acceptACSOverride = false

    @Option(
        help: ArgumentHelp(
            "The DMA memory the service will map (64G, 512M; binary units): the verdict then answers for it (locked memory, dma_entry_limit, hugepages, IOVA space), and the live walks try its mappings.",
            valueName: "size"))
    var memory: ByteSizeArgument?

    @Option(
        help: ArgumentHelp(
            "The page size the service maps in (4K, 2M, 1G). Default: the host's default hugepage size when pages of it are reserved, else 4K.",
            valueName: "size"))
    var hugepageSize: ByteSizeArgument?

    @Option(
        help: ArgumentHelp(
            "Compare with this saved JSON report (or a snapshot tree): each relevant change (groups, drivers, readiness, mode, the kernel) is a platform.drift warning.",
            valueName: "file"))
    var baseline: String?

    @Flag(name: .shortAndLong, help: "Print nothing; report through the exit status only.")
    var quiet = false

    @Flag(help: "Do not look device names up in pci.ids (faster start).")
    var numeric = false

    @Option(help: "Colour in text output: auto (a terminal, and NO_COLOR unset), always or never.")
    var color: ColorChoice = .auto

    @Flag(name: .shortAndLong, help: "Text output: every check, passes and notes too, each with the evidence it read (paths and values).")
    var verbose = false

    @Flag(name: .customLong("all"), help: "Text output: also list the chipset functions and bridges (never assignment candidates).")
    var showAll = false

    @Flag(help: "Text output: one line per item, not wrapped to the terminal (COLUMNS, the tty's width, else 80): for logs.")
    var wide = false

    @Option(
        help: ArgumentHelp(
            "Print what a check is for: its rationale, what it reads, its remedy and the kernel behaviour it follows; then exit.",
            valueName: "id"))
    var explain: String?

    func validate() throws {
        if deviceOpen && noDeviceOpen { throw ValidationError("--device-open and --no-device-open exclude each other") }
        if output?.isEmpty == true { throw ValidationError("--output needs a file name; it is empty") }
        _ = try chosenFormat(format, json: json, default: .text, json: .json)
        if let p = hugepageSize?.bytes, p < 4096 || p & (p - 1) != 0 {
            throw ValidationError("--hugepage-size must be a power of two of at least 4K (4K, 2M, 1G)")
        }
        var probe = Probe()
        probe.only = only
        probe.skip = skip
        do { try probe.validate() } catch { throw ValidationError(error.description) }
    }

    func run() throws {
        if let explain {
            guard let text = CheckListing.explain(explain) else {
                Terminal.error("--explain: no check \(explain); `vfio-probe checks` lists them")
                throw ExitCode(64)
            }
            try Terminal.emit { $0.write(text) }
            return
        }
        var probe = Probe(root: rootOption.root)
        probe.devices = devices
        probe.only = only
        probe.skip = skip
        probe.lookUpNames = !numeric
        probe.live = noLive ? .off : deviceOpen ? .openDevices : noDeviceOpen ? .stopBeforeDevices : .automatic
        probe.required = require?.mode
        probe.acceptsACSOverride = acceptACSOverride
        probe.workload = Workload(memory: memory?.bytes, hugepageSize: hugepageSize?.bytes)
        // Site checks run on this host; a --root tree (someone else's snapshot) is handed to them
        // only when asked for with --checks-dir.
        probe.siteChecks = checksDir.map { .directory($0) } ?? .automatic
        if let baseline {
            do throws(DiffCommand.Failure) { probe.baseline = try DiffCommand.view(baseline) } catch {
                Terminal.error("--baseline: \(error.message)")
                throw ExitCode(1)
            }
        }
        let report: Report
        do { report = try probe.run() } catch {
            Terminal.error(error.description)
            throw ExitCode(1)
        }
        // --quiet silences standard output; a file asked for with --output is still written.
        if !quiet || output != nil {
            let format = try chosenFormat(format, json: json, default: .text, json: .json)
            // The terminal is asked its width only for a text report that goes to it.
            let options = TextOptions(
                color: output == nil && Terminal.useColor(color),
                width: wide ? nil : output == nil && format == .text ? TextOptions.terminalWidth : 80, verbose: verbose, showAll: showAll)
            try Terminal.emit(to: output) { out in report.write(format, options: options) { out.write($0) } }
        }
        throw ExitCode(report.exitStatus)
    }
}

struct ChecksCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checks",
        abstract: "List every registered check: id, title and what it looks at.")

    @Flag(name: .shortAndLong, help: "Also print each check's rationale and remedy.")
    var verbose = false

    /// text, json; and for scripts/generate-docs.sh the man page's CHECKS list or the README's
    /// table (man, markdown: accepted, not offered in --help or completions).
    @Option(
        help: ArgumentHelp("Output format: text or json (every descriptor: id, title, category, rationale, remedy, looks_at, decides)."))
    var format: ListFormat?

    @Flag(name: .customShort("j"), help: "The same as --format json.")
    var json = false

    struct ListFormat: RawRepresentable, ExpressibleByArgument, CustomStringConvertible {
        var rawValue: String
        init?(rawValue: String) {
            guard ["text", "json", "man", "markdown"].contains(rawValue) else { return nil }
            self.rawValue = rawValue
        }
        var description: String { rawValue }
        static var allValueStrings: [String] { ["text", "json"] }
        static var defaultCompletionKind: CompletionKind { .list(allValueStrings) }
    }

    func validate() throws { _ = try listing() }

    func listing() throws -> CheckListing {
        switch try chosenFormat(format, json: json, default: ListFormat(rawValue: "text")!, json: ListFormat(rawValue: "json")!).rawValue {
        case "json": .json
        case "man": .man
        case "markdown": .markdown
        default: .text(verbose: verbose)
        }
    }

    func run() throws {
        let text = try listing().render()
        try Terminal.emit { $0.write(text) }
    }
}

struct GroupsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "groups",
        abstract: "List every IOMMU group: its type, its devices (class, vendor:device, driver, NUMA node), viability and readiness.")

    @OptionGroup var rootOption: RootOption

    @Option(help: "Output format: text or json. Default: text.")
    var format: OutputFormat?

    @Flag(name: .customShort("j"), help: "The same as --format json.")
    var json = false

    @Flag(help: "Do not look device names up in pci.ids (faster start).")
    var numeric = false

    @Option(help: "Colour in text output: auto, always or never.")
    var color: ColorChoice = .auto

    func validate() throws { _ = try chosenFormat(format, json: json, default: .text, json: .json) }

    func run() throws {
        var probe = Probe(root: rootOption.root)
        probe.live = .off
        probe.lookUpNames = !numeric
        probe.siteChecks = .none
        let report: Report
        do { report = try probe.run() } catch {
            Terminal.error(error.description)
            throw ExitCode(1)
        }
        let format = try chosenFormat(format, json: json, default: .text, json: .json)
        try Terminal.emit { $0.write(report.renderGroups(json: format == .json, color: Terminal.useColor(color))) }
    }
}

struct SnapshotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Copy, read-only, exactly the files the probe reads into a tree that --root reads: the thing to attach to a bug report.")

    @OptionGroup var rootOption: RootOption

    @Option(
        help: ArgumentHelp(
            "Where to write the tree (created, with its missing parent folders; must be empty if it exists).", valueName: "dir"))
    var output: String

    @Option(
        name: [.customShort("d"), .customLong("device")], help: ArgumentHelp("Only what --device BDF reads; repeatable.", valueName: "bdf"))
    var devices: [PCIAddress] = []

    func validate() throws {
        if output.isEmpty { throw ValidationError("--output needs a folder name; it is empty") }
    }

    func run() throws {
        let s: Snapshot.Summary
        do {
            s = try Snapshot.capture(root: rootOption.root, scope: devices.isEmpty ? .all : .devices(devices), output: output)
        } catch {
            Terminal.error(error.description)
            throw ExitCode(1)
        }
        for m in s.missing {
            Terminal.error(
                "warning: --device \(m): no such PCI device \(rootOption.given == nil ? "on this host" : "in \(rootOption.root)"); nothing of it was copied"
            )
        }
        try Terminal.emit {
            $0.write(
                "wrote \(s.files) files (\(s.bytes) bytes), \(s.links) links, \(s.directories) directories, \(s.nodes) device nodes and \(s.unreadable) unreadable paths to \(output)\n"
            )
            $0.write("read it with: vfio-probe --root \(output) --no-live\n")
            $0.write("what it holds, to review before you share it: \(Snapshot.readmePath(in: output))\n")
        }
    }
}

struct ACPICommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "acpi",
        abstract: "Decode the IOMMU tables (DMAR, IVRS, IORT, VIOT): the host's (root only) or the given files.",
        discussion: """
            A file may hold one table (raw bytes: /sys/firmware/acpi/tables/SIG, acpidump -b, acpixtract) or acpidump's text \
            output (every table as hex); a table that is not an IOMMU table is named, not decoded. Exit status 0 when every file \
            was read and every IOMMU table in it decoded, 1 when a file could not be read, holds no ACPI table, or a table did not \
            decode.
            """)

    @OptionGroup var rootOption: RootOption

    @Option(help: "Output format: text or json. Default: text.")
    var format: OutputFormat?

    @Flag(name: .customShort("j"), help: "The same as --format json.")
    var json = false

    @Argument(
        help: ArgumentHelp(
            "Table files: raw bytes (/sys/firmware/acpi/tables/SIG, acpidump -b, acpixtract) or acpidump's text output.", valueName: "file")
    )
    var files: [String] = []

    func validate() throws {
        if rootOption.given != nil && !files.isEmpty {
            throw ValidationError("--root reads a tree's tables; it cannot be given with table files")
        }
        _ = try chosenFormat(format, json: json, default: .text, json: .json)
    }

    func run() throws {
        var inputs: [ACPIReporter.Input] = []
        if files.isEmpty {
            do { inputs = try ACPIReporter.hostTables(root: rootOption.root) } catch {
                Terminal.error("cannot list the ACPI tables: \(error)")
                throw ExitCode(1)
            }
        } else {
            for f in files {
                guard let bytes = Terminal.readFile(f, limit: 64 << 20) else {
                    inputs.append(ACPIReporter.Input(source: f, content: .unreadable(String(cString: strerror(errno)))))
                    continue
                }
                inputs.append(ACPIReporter.decode(file: f, bytes: bytes))
            }
        }
        let format = try chosenFormat(format, json: json, default: .text, json: .json)
        try Terminal.emit { $0.write(format == .json ? ACPIReporter.json(inputs) : ACPIReporter.text(inputs)) }
        throw ExitCode(inputs.allSatisfy(\.ok) ? 0 : 1)
    }
}

enum Terminal {
    /// A file named on the command line (not the host: that is HostFS's), at most `limit` bytes:
    /// nil with errno set when it cannot be read, EFBIG when it is larger.
    static func readFile(_ path: String, limit: Int) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { return nil }
            if n == 0 { break }
            out += buf[0..<n]
            if out.count > limit {
                errno = EFBIG
                return nil
            }
        }
        return out
    }

    /// Writes what `body` produces to standard output, or to `path` through a temporary file
    /// renamed into place when complete. A write that fails (a full disk, a closed pipe, a
    /// closed standard output) ends the probe with status 1: a report that did not arrive is
    /// no answer.
    static func emit(to path: String? = nil, _ body: (inout ReportOutput) -> Void) throws(ExitCode) {
        do {
            var out = try ReportOutput(path)
            body(&out)
            try out.finish()
        } catch {
            self.error("cannot write the report: \(error)")
            throw ExitCode(1)
        }
    }

    static func error(_ s: String) {
        // A message may quote a path given on the command line or found in a tree.
        var s = "vfio-probe: \(Escaping.terminal(s))\n"
        s.withUTF8 { _ = try? FileDescriptor.standardError.writeAll($0) }
    }
    /// Whether fd 1 was open when the probe started. A closed one is taken over by /dev/null at
    /// once, so that no file the probe opens later is given number 1 and receives the report.
    static let standardOutputIsOpen: Bool = {
        if fcntl(1, F_GETFD) != -1 { return true }
        let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
        if null >= 0, null != 1 {
            _ = dup2(null, 1)
            close(null)
        }
        return false
    }()

    static func useColor(_ c: ColorChoice) -> Bool {
        switch c {
        case .always: return true
        case .never: return false
        case .auto:
            if let v = getenv("NO_COLOR"), v.pointee != 0 { return false }
            if let t = getenv("TERM"), String(cString: t) == "dumb" { return false }
            return isatty(1) == 1
        }
    }
}

/// Where a report goes: standard output, or a file that appears only when complete (the
/// textfile collector, nfd-worker and CDI loaders read whole directories).
struct ReportOutput {
    enum Failure: Error, CustomStringConvertible {
        case open(String, Errno)
        case write(String, Errno)
        case closedStandardOutput
        var description: String {
            switch self {
            case .open(let p, let e): "\(p): \(e)"
            case .write(let p, let e): "\(p): \(e)"
            case .closedStandardOutput: "standard output is closed"
            }
        }
    }

    private let fd: FileDescriptor
    private let name: String
    /// (temporary, final) paths, for a file.
    private let rename: (String, String)?
    private var failure: Failure?

    init(_ path: String?) throws(Failure) {
        guard let path else {
            if !Terminal.standardOutputIsOpen { throw .closedStandardOutput }
            (fd, name, rename) = (.standardOutput, "standard output", nil)
            return
        }
        let slash = path.lastIndex(of: "/")
        let dir = slash.map { String(path[...$0]) } ?? ""
        let base = slash.map { String(path[path.index(after: $0)...]) } ?? path
        let tmp = dir + "." + base + ".tmp"
        func create() throws(Errno) -> FileDescriptor {
            do {
                return try FileDescriptor.open(
                    FilePath(tmp), .writeOnly, options: [.create, .exclusiveCreate, .noFollow, .closeOnExec],
                    permissions: [.ownerReadWrite, .groupRead, .otherRead])
            } catch { throw ReportOutput.failed(error) }
        }
        do {
            do { fd = try create() } catch .fileExists {
                // Left by a run that was killed: it was never renamed into place.
                _ = unlink(tmp)
                fd = try create()
            }
        } catch { throw .open(tmp, error) }
        (name, rename) = (tmp, (tmp, path))
    }

    /// swift-system's calls throw `any Error`; what they throw is an `Errno`.
    static func failed(_ e: any Error) -> Errno { e as? Errno ?? .ioError }

    mutating func write(_ s: String) {
        var s = s
        s.withUTF8 { write($0) }
    }

    mutating func write(_ bytes: some Collection<UInt8>) {
        guard failure == nil else { return }
        do { _ = try fd.writeAll(bytes) } catch { failure = .write(name, Self.failed(error)) }
    }

    consuming func finish() throws(Failure) {
        guard let (tmp, path) = rename else {
            if let failure { throw failure }
            return
        }
        if failure == nil, fsync(fd.rawValue) != 0 { failure = .write(tmp, Errno(rawValue: errno)) }
        if failure == nil { do { try fd.close() } catch { failure = .write(tmp, Self.failed(error)) } } else { try? fd.close() }
        if failure == nil, Glibc.rename(tmp, path) != 0 { failure = .write(path, Errno(rawValue: errno)) }
        if let failure {
            _ = unlink(tmp)
            throw failure
        }
    }
}
