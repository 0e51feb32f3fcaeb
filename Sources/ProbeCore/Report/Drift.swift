/// What matters of a host between two runs (a kernel update, a firmware change, a rebind): the
/// kernel, its command line, interrupt remapping, the verdict, and per function its identity,
/// IOMMU group, driver, readiness and mode. Read from a JSON report (`schema_version` 2), so a
/// report from last week and one from now compare the same way; pure.
public struct DriftView: Sendable, Equatable {
    public struct Device: Sendable, Equatable {
        public var id: String?
        public var group: Int?
        public var driver: String?
        public var readiness: String?
        public var mode: String?
    }
    public var kernel: String?
    public var cmdline: String?
    public var interruptRemapping: Bool?
    public var mode: String?
    public var devices: [String: Device]

    public enum Failure: Error, CustomStringConvertible {
        case notAReport(String)
        public var description: String {
            switch self {
            case .notAReport(let why): why
            }
        }
    }

    public init(report j: JSONValue) throws(Failure) {
        guard case .int(let v)? = j["schema_version"] else { throw .notAReport("not a vfio-probe JSON report (no schema_version)") }
        guard v == Int64(Report.schemaVersion) else {
            throw .notAReport("schema_version \(v); this vfio-probe reads \(Report.schemaVersion)")
        }
        let host = j["host"]
        kernel = host?["kernel"]?.stringValue
        cmdline = host?["cmdline"]?.stringValue
        if case .bool(let b)? = host?["iommu"]?["interrupt_remapping_active"] { interruptRemapping = b }
        mode = j["verdict"]?["mode"]?.stringValue
        var out: [String: Device] = [:]
        if case .array(let ds)? = j["devices"] {
            for d in ds {
                guard let bdf = d["bdf"]?.stringValue else { continue }
                var group: Int?
                if case .int(let g)? = d["iommu_group"] { group = Int(g) }
                let id = d["vendor_id"]?.stringValue.flatMap { v in d["device_id"]?.stringValue.map { "\(v):\($0)" } }
                out[bdf] = Device(
                    id: id, group: group, driver: d["driver"]?.stringValue, readiness: d["readiness"]?.stringValue,
                    mode: d["mode"]?.stringValue)
            }
        }
        devices = out
    }
}

/// One relevant change between two views.
public struct DriftChange: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case kernel, cmdline
        case interruptRemapping = "interrupt-remapping"
        case verdict
        case added, removed, identity
        case groupMerged = "group-merged"
        case groupSplit = "group-split"
        case groupNumber = "group-number"
        case driver, readiness, mode
    }
    public var kind: Kind
    /// "host", or the function's address.
    public var subject: String
    public var text: String
    public var description: String { "\(subject): \(text)" }
}

extension DriftView {
    /// What changed from `old` to `self`, host first, then by address.
    public func changes(since old: DriftView) -> [DriftChange] {
        var out: [DriftChange] = []
        func host(_ k: DriftChange.Kind, _ what: String, _ a: String?, _ b: String?) {
            if a != b { out.append(DriftChange(kind: k, subject: "host", text: "\(what) \(a ?? "unknown") → \(b ?? "unknown")")) }
        }
        host(.kernel, "kernel", old.kernel, kernel)
        host(.cmdline, "command line", old.cmdline.map { "\"\($0)\"" }, cmdline.map { "\"\($0)\"" })
        host(
            .interruptRemapping, "interrupt remapping", old.interruptRemapping.map { $0 ? "on" : "off" },
            interruptRemapping.map { $0 ? "on" : "off" })
        host(.verdict, "verdict", old.mode, mode)
        // Groups: members that were together and are now apart, or apart and now together.
        func groups(_ v: DriftView) -> [Int: Set<String>] {
            var g: [Int: Set<String>] = [:]
            for (bdf, d) in v.devices { if let n = d.group { g[n, default: []].insert(bdf) } }
            return g
        }
        let (was, now) = (groups(old), groups(self))
        let common = Set(old.devices.keys).intersection(devices.keys)
        for (n, members) in now.sorted(by: { $0.key < $1.key }) {
            let sources = Set(members.intersection(common).compactMap { old.devices[$0]?.group })
            if sources.count > 1 {
                out.append(
                    DriftChange(
                        kind: .groupMerged, subject: members.sorted().first!,
                        text:
                            "groups \(sources.sorted().map(String.init).joined(separator: ", ")) merged into group \(n) (\(members.sorted().joined(separator: ", ")))"
                    ))
            }
        }
        for (n, members) in was.sorted(by: { $0.key < $1.key }) {
            let targets = Set(members.intersection(common).compactMap { devices[$0]?.group })
            if targets.count > 1 {
                out.append(
                    DriftChange(
                        kind: .groupSplit, subject: members.sorted().first!,
                        text: "group \(n) split into groups \(targets.sorted().map(String.init).joined(separator: ", "))"))
            }
        }
        for bdf in Set(old.devices.keys).union(devices.keys).sorted() {
            guard let a = old.devices[bdf] else {
                out.append(DriftChange(kind: .added, subject: bdf, text: "appeared (\(devices[bdf]!.id ?? "?"))"))
                continue
            }
            guard let b = devices[bdf] else {
                out.append(DriftChange(kind: .removed, subject: bdf, text: "is gone (was \(a.id ?? "?"))"))
                continue
            }
            func dev(_ k: DriftChange.Kind, _ what: String, _ x: String?, _ y: String?) {
                if x != y { out.append(DriftChange(kind: k, subject: bdf, text: "\(what) \(x ?? "none") → \(y ?? "none")")) }
            }
            dev(.identity, "vendor:device", a.id, b.id)
            dev(.groupNumber, "IOMMU group", a.group.map(String.init), b.group.map(String.init))
            dev(.driver, "driver", a.driver, b.driver)
            dev(.readiness, "readiness", a.readiness, b.readiness)
            dev(.mode, "mode", a.mode, b.mode)
        }
        return out
    }
}

/// `--baseline FILE`: the changes since a saved report, as findings of this run (so the timer's
/// Prometheus file and the JSON carry them). Judged after the verdict, like the site checks: a
/// change is history, a warning, never a cause.
public enum Baseline {
    public static let descriptor = CheckDescriptor(
        id: "platform.drift", title: "Changes since the baseline report", category: .platform,
        rationale:
            "A kernel or firmware update can merge IOMMU groups, renumber them or change a device's driver; a workload configured by group or driver then fails (Proxmox keeps each mapped device's vendor:device and group for this). --baseline FILE compares this run with a saved JSON report: groups split or merged, group numbers, drivers, readiness, mode, interrupt remapping, the kernel and its command line.",
        remedy:
            "Check the workloads configured for the changed devices; when the change is intended, save this run's report as the new baseline.",
        looksAt: ["the --baseline JSON report"], examples: [], decides: false)

    /// One warning per change, on the device it is about (or the host), or a pass.
    public static func findings(since old: DriftView, now report: Report) -> [Finding] {
        guard let now = try? DriftView(report: JSONReporter.document(report)) else { return [] }
        let changes = now.changes(since: old)
        if changes.isEmpty { return [Finding(descriptor.id, .pass, .host, "no relevant change since the baseline")] }
        return changes.map { c in
            let subject: Subject = PCIAddress(c.subject).map { .device($0) } ?? .host
            return Finding(descriptor.id, .warn, subject, "since the baseline: \(c.text)", remedy: descriptor.remedy)
        }
    }
}
