/// What every run does: HostFS → Host → checks (+ the live walks, supplied by the caller) → Verdict.
/// The library's `Probe` (module VFIOProbe) is the public way in; this is the wiring it calls.
public enum Pipeline {
    public struct Options: Sendable {
        public var root: String = "/"
        public var devices: [PCIAddress] = []
        public var only: [String] = []
        public var skip: [String] = []
        public var lookUpNames = true
        /// `--require`: the mode the caller gates on.
        public var required: Mode?
        /// Skip the live ioctl walks.
        public var noLive = false
        /// Whether the live walks open device fds (`--device-open`/`--no-device-open`); nil: the
        /// default, `opensDevices`.
        public var deviceOpen: Bool?
        /// vfio-pci resets a function when its fd is first opened and when it is closed: only a
        /// `--device` run (a service about to open that device anyway) opens devices unasked.
        /// Whole-host, periodic and fleet runs stop each walk before the device, and hold a group
        /// no longer than one walk's ioctls.
        public var opensDevices: Bool { deviceOpen ?? !devices.isEmpty }
        /// Site checks to run (nil: none).
        public var externalChecks: ExternalChecks?
        /// Risks accepted on the command line (`--accept-acs-override`).
        public var accepted: Set<Acceptance> = []
        /// `--memory`, `--hugepage-size`: the DMA the service will map.
        public var workload = Workload()
        /// `--baseline FILE`: a saved report to compare this run with (platform.drift).
        public var baseline: DriftView?
        public init() {}
    }

    /// The live half, supplied by the caller (the Live module): ProbeCore never touches an ioctl.
    public typealias LiveWalker = @Sendable (Host, HostFS) -> LiveReport

    public enum Failure: Error, CustomStringConvertible {
        case root(HostFSError)
        case selection(CheckRegistry.SelectionError)
        /// `--root` names a folder that is not laid out like a host's `/`.
        case notARoot(String)
        public var description: String {
            switch self {
            case .root(let e): "cannot open the root: \(e)"
            case .notARoot(let why): why
            case .selection(let e): e.description
            }
        }
    }

    /// The first step alone: the host (or the tree at `options.root`) read into values, for
    /// `options.devices` and their groups when any are named.
    public static func readHost(_ options: Options) throws(Failure) -> (host: Host, fs: HostFS) {
        let fs: HostFS
        do { fs = try HostFS(root: options.root) } catch { throw .root(error) }
        if let why = fs.rootProblem() { throw .notARoot(why) }
        let scope: Host.Scope = options.devices.isEmpty ? .all : .devices(options.devices)
        return (HostReader(fs: fs, lookUpNames: options.lookUpNames).read(scope: scope), fs)
    }

    public static func run(_ options: Options, live walker: LiveWalker? = nil) throws(Failure) -> Report {
        let checks: [any Check.Type]
        do {
            checks = try CheckRegistry.select(only: options.only, skip: options.skip, from: try CheckRegistry.validated())
        } catch { throw .selection(error) }
        let (host, fs) = try readHost(options)
        let scoped = !options.devices.isEmpty
        let live: LiveReport?
        if options.noLive {
            live = .skipped("--no-live")
        } else if !fs.isHostRoot {
            live = .skipped("--root: the live ioctls run only against this host")
        } else if let walker {
            live = walker(host, fs)
        } else {
            live = nil
        }
        var findings = CheckRegistry.run(
            checks, CheckContext(host: host, live: live, accepted: options.accepted, workload: options.workload))
        var descriptors = checks.map { $0.descriptor }
        if let ext = options.externalChecks {
            let siteFindings = ext.run(builtinIDs: Set(CheckRegistry.all.map { $0.descriptor.id }))
            for id in Set(siteFindings.map(\.checkID)) where !descriptors.contains(where: { $0.id == id }) {
                descriptors.append(
                    CheckDescriptor(
                        id: id, title: id.hasPrefix("plugins.") ? "Site check plugin" : "Site check", category: .site,
                        rationale: "Reported by a site check in \(ext.directory).", remedy: "See the plugin.",
                        looksAt: [ext.directory], examples: []))
            }
            findings += siteFindings
        }
        let ran = Set(checks.map { $0.descriptor.id })
        let liveIDs = Set(CheckRegistry.all.filter { $0.descriptor.category == .live }.map { $0.descriptor.id })
        let notRun = CheckRegistry.all.map { $0.descriptor }.filter {
            !ran.contains($0.id) && !(live?.notRun != nil && liveIDs.contains($0.id))
        }
        // Partial: a check able to deny a mode did not run, so no mode is granted.
        let verdict = VerdictBuilder.build(
            host: host, findings: findings, live: live, deviceScoped: scoped, notRun: notRun.map(\.id),
            partial: notRun.contains { $0.decides })
        var report = Report(host: host, checks: descriptors, findings: findings, verdict: verdict, deviceScoped: scoped, live: live)
        report.required = options.required
        report.workload = options.workload
        if let baseline = options.baseline {
            report.findings += Baseline.findings(since: baseline, now: report)
            report.checks.append(Baseline.descriptor)
        }
        return report
    }
}
