import Live
import ProbeCore

/// One run of the probe, described: which tree to read, what to answer for, how far the live
/// proof may go. ``run()`` reads the host, runs the checks and the live VFIO ioctls, and folds
/// the verdict; nothing on the host is changed.
///
/// ```swift
/// var probe = Probe()                                   // this host, every PCI function
/// probe.devices = [PCIAddress("0000:3b:00.0")!]
/// let report = try probe.run()
/// if report.verdict.devices.allSatisfy({ $0.readiness == .ready }) { … }
/// ```
public struct Probe: Sendable {
    /// The tree to read: `/` for this host, or a fixture or `vfio-probe snapshot` tree laid out
    /// like it. The live proof runs only against this host's `/`.
    public var root: String
    /// Answer only for these functions and their IOMMU groups; empty: the whole host.
    public var devices: [PCIAddress] = []
    /// Run only these checks: ids, categories, or id prefixes ending in `.`; empty: all.
    public var only: [String] = []
    /// Do not run these checks.
    public var skip: [String] = []
    /// How far the live VFIO ioctls may go.
    public var live: LiveProof = .automatic
    /// Look device names up in pci.ids.
    public var lookUpNames = true
    /// The DMA memory the service will map, and its page size: the verdict then answers for it.
    public var workload = Workload()
    /// Take the IOMMU groups `pcie_acs_override=` split as they are (a warning, not a block).
    public var acceptsACSOverride = false
    /// The site checks to run.
    public var siteChecks: SiteChecks = .automatic
    /// A saved report to compare with: each relevant change is a `platform.drift` finding.
    public var baseline: DriftView?
    /// The mode the caller gates on: `Report.exitStatus` is then the gate's.
    public var required: Mode?

    /// How far the live proof goes.
    public enum LiveProof: Sendable, Equatable {
        /// No ioctl: sysfs, procfs and /dev only.
        case off
        /// Every walk stops before opening a device fd (vfio-pci may reset a function when it
        /// is opened and closed); groups are held no longer than one walk.
        case stopBeforeDevices
        /// Walks open the device fds as well.
        case openDevices
        /// Open device fds only when ``Probe/devices`` names functions (a service about to open
        /// them anyway); stop before them on a whole-host run.
        case automatic
    }

    /// Site checks: executables printing findings as JSON lines.
    public enum SiteChecks: Sendable, Equatable {
        case none
        /// `/etc/vfio-probe/checks.d` when it exists, and only when reading this host's `/`.
        case automatic
        /// This directory's, also for a `--root` tree.
        case directory(String)
    }

    /// Why a probe gave no report.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// A probe of the tree at `root` with every other setting at its default.
    public init(root: String = "/") { self.root = root }

    /// Checks that ``only`` and ``skip`` name registered checks and leave some to run.
    public func validate() throws(Failure) {
        do { _ = try CheckRegistry.select(only: only, skip: skip) } catch { throw Failure(description: error.description) }
    }

    /// The first step alone: the tree read into an immutable ``Host``, for ``devices`` and their
    /// groups when any are named.
    public func readHost() throws(Failure) -> Host {
        do { return try Pipeline.readHost(options).host } catch { throw Failure(description: error.description) }
    }

    /// Reads the host, runs the checks and the live proof, and folds the verdict.
    public func run() throws(Failure) -> Report {
        let options = self.options
        let opens = options.opensDevices
        let workload = self.workload
        do {
            return try Pipeline.run(options) { host, fs in
                LiveProber(kernel: LinuxVFIOKernel(), fs: fs, deviceOpen: opens, workloadMappings: workload.mappings(on: host))
                    .run(host: host)
            }
        } catch { throw Failure(description: error.description) }
    }

    /// Every registered check's descriptor (id, title, rationale, remedy, what it reads), in
    /// the order they run.
    public static var checks: [CheckDescriptor] { CheckRegistry.all.map { $0.descriptor } }

    var options: Pipeline.Options {
        var o = Pipeline.Options()
        o.root = root
        o.devices = devices
        o.only = only
        o.skip = skip
        o.lookUpNames = lookUpNames
        o.required = required
        o.workload = workload
        o.baseline = baseline
        if acceptsACSOverride { o.accepted.insert(.acsOverride) }
        switch live {
        case .off: o.noLive = true
        case .stopBeforeDevices: o.deviceOpen = false
        case .openDevices: o.deviceOpen = true
        case .automatic: o.deviceOpen = nil
        }
        switch siteChecks {
        case .none: break
        case .automatic where root == "/":
            o.externalChecks = ExternalChecks(directory: "/etc/vfio-probe/checks.d", root: root, explicit: false)
        case .automatic: break
        case .directory(let d): o.externalChecks = ExternalChecks(directory: d, root: root, explicit: true)
        }
        return o
    }
}
