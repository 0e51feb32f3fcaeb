/// The operator's report: a summary line, the host's checks by category, the devices by class
/// with each one's next steps, and the verdict. Wrapped to a width with hanging indents that keep
/// the status column and the `→` remedies aligned; commands are never broken.
public struct TextReporter {
    public var color: Bool
    /// The width to wrap to; nil: one line per item (`--wide`).
    public var width: Int?
    /// `-v`: every check (passes and notes too, n/a checks), each with the evidence it read.
    public var verbose = false
    /// `--all`: also the chipset functions and bridges, which are never assignment candidates.
    public var showAll = false

    public init(color: Bool, width: Int? = nil, verbose: Bool = false, showAll: Bool = false) {
        self.color = color
        self.width = width
        self.verbose = verbose
        self.showAll = showAll
    }

    /// The id column's width: the longest id the report shows (set by `render`).
    var idColumn = 30
    /// Where a summary starts after the indent: "PASS  " + the id column + " ".
    var gutterWidth: Int { 6 + idColumn + 1 }

    public func render(_ r: Report) -> String {
        var me = self
        let checks = Dictionary(r.checks.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let hidden = Set(r.verdict.devices.map(\.address).filter { !showAll && Self.isPlumbing($0, r.host) })
        let ids = r.findings.lazy.filter { f in
            if case .device(let a) = f.subject { return !hidden.contains(a) && me.shownUnderDevice(f, r) }
            return me.shownOnHost(f, checks)
        }.map(\.checkID.count)
        me.idColumn = min(ids.max() ?? 20, 30)
        return me.layOut(r, checks: checks, hidden: hidden)
    }

    func layOut(_ r: Report, checks: [String: CheckDescriptor], hidden: Set<PCIAddress>) -> String {
        // One string, appended to: a large host's report is hundreds of kilobytes.
        var out = ""
        out.reserveCapacity(4096 + r.verdict.devices.count * 160)
        func line(_ s: String) {
            out += s
            out += "\n"
        }
        let safe = Escaping.terminal
        let h = r.host
        var about = ["kernel \(safe(h.kernel.release.value ?? "?"))"]
        if let v = h.platform.cpuVendor.value { about.append(v.rawValue) }
        if let hv = h.platform.hypervisor { about.append("guest of \(hv.rawValue)") }
        let title = "vfio-probe \(h.root == "/" ? "this host" : safe(h.root)) (\(about.joined(separator: ", ")))"
        for (i, l) in TextLayout.wrap(title, width: width, first: "", rest: "  ").enumerated() {
            line(i == 0 ? bold("vfio-probe") + l.dropFirst("vfio-probe".count) : l)
        }
        if let summary = summary(r) {
            for l in TextLayout.wrap(summary, width: width, first: "", rest: "  ") { line(l) }
        }

        for cat in Category.allCases where cat != .device {
            let fs = r.hostFindings.filter { (checks[$0.checkID]?.category ?? .platform) == cat && shownOnHost($0, checks) }
            if fs.isEmpty { continue }
            line("")
            line(bold(cat.title))
            block(fs, indent: "  ", into: &out)
        }

        let shownDevices = r.verdict.devices.filter { !hidden.contains($0.address) }
        if !r.verdict.devices.isEmpty || !h.missing.isEmpty {
            // The findings under each device, grouped once (filtering them per device would be
            // quadratic on a large host).
            var byDevice: [PCIAddress: [Finding]] = [:]
            for f in r.findings {
                guard case .device(let a) = f.subject, !hidden.contains(a), shownUnderDevice(f, r) else { continue }
                byDevice[a, default: []].append(f)
            }
            for kind in DeviceKind.allCases {
                let ds = shownDevices.filter { d in h.device(d.address).map { DeviceKind($0) } == kind }
                if ds.isEmpty { continue }
                line("")
                line(bold(kind.title))
                for dv in ds { device(dv, of: r, findings: byDevice[dv.address] ?? [], into: &out) }
            }
            if !h.missing.isEmpty {
                line("")
                line(bold("Not found"))
                for m in h.missing { line("  \(bold(m.description))  " + paint("no such PCI device", .red)) }
            }
            if !hidden.isEmpty {
                line("")
                let n = hidden.count
                for l in TextLayout.wrap(
                    "\(n) chipset function\(n == 1 ? "" : "s") and bridge\(n == 1 ? "" : "s") not listed: never assignment candidates (--all lists them).",
                    width: width, first: "", rest: "")
                {
                    line(l)
                }
            }
        }
        verdict(r.verdict, into: &out)
        return out
    }

    /// "2 of 6 functions ready for safe VFIO; 1 bindable; 3 blocked (3 chipset or bridges)".
    func summary(_ r: Report) -> String? {
        let ds = r.verdict.devices
        guard !ds.isEmpty else { return nil }
        let ready = ds.filter { $0.readiness == .ready }
        let bindable = ds.filter { $0.readiness == .bindable }.count
        let blocked = ds.filter { $0.readiness == .blocked }.count
        let unknown = ds.filter { $0.readiness == .unknown }.count
        let modes = Set(ready.map(\.mode))
        let mode = modes.count == 1 ? modes.first! : r.verdict.mode
        let plumbing = ds.filter { $0.readiness == .blocked && Self.isPlumbing($0.address, r.host) }.count
        var s = "\(ready.count) of \(ds.count) function\(ds.count == 1 ? "" : "s") ready for \(Self.shortTitle(mode))"
        s += "; \(bindable) bindable; \(blocked) blocked"
        if plumbing > 0 { s += " (\(plumbing) chipset or bridge\(plumbing == 1 ? "" : "s"))" }
        if unknown > 0 { s += "; \(unknown) unknown" }
        return s
    }

    static func shortTitle(_ m: Mode) -> String {
        switch m {
        case .vfio: "safe VFIO"
        case .unsafeInterrupts: "VFIO without interrupt isolation"
        case .noiommu: "no-IOMMU mode"
        case .unusable: "VFIO"
        }
    }

    /// Chipset functions and bridges: the host's plumbing, never assigned.
    static func isPlumbing(_ a: PCIAddress, _ h: Host) -> Bool {
        guard let d = h.device(a) else { return false }
        return d.isBridge || ChipsetCheck.role(d, h) != nil
    }

    /// Default: what decides the verdict (a deciding check's finding) and every warning or
    /// failure; `-v`: everything. A check that does not apply here shows only at `-v`.
    func shownOnHost(_ f: Finding, _ checks: [String: CheckDescriptor]) -> Bool {
        if verbose { return true }
        if f.notApplicable != nil { return false }
        switch f.status {
        case .warn, .fail, .skip: return true
        case .pass: return checks[f.checkID]?.decides ?? true
        case .info: return f.isLiveProof
        }
    }

    func shownUnderDevice(_ f: Finding, _ r: Report) -> Bool {
        if f.notApplicable != nil { return verbose }
        if verbose || r.deviceScoped { return true }
        switch f.status {
        case .pass, .info: return r.live?.notRun == nil && f.isLiveProof  // no live findings when the walks did not run
        case .warn, .fail, .skip: return true
        }
    }

    /// Findings of one heading: each one's lines, a remedy several share printed once, under
    /// the last of them, naming the others.
    func block(_ fs: [Finding], indent: String, into out: inout String) {
        var sharing: [String: [String]] = [:]
        for f in fs { if let rem = remedy(f) { sharing[rem, default: []].append(f.checkID) } }
        var printed: [String: Int] = [:]
        for f in fs {
            guard let rem = remedy(f) else {
                lines(f, remedy: nil, indent: indent, into: &out)
                continue
            }
            let ids = sharing[rem] ?? []
            printed[rem, default: 0] += 1
            let last = printed[rem] == ids.count
            let others = Array(Set(ids.filter { $0 != f.checkID })).sorted()
            lines(
                f, remedy: last ? (others.isEmpty ? rem : "(also for \(others.joined(separator: ", "))) " + rem) : nil, indent: indent,
                into: &out)
        }
    }

    /// The remedy a finding shows: not for a pass or a note, and none that only says there is
    /// nothing to do.
    func remedy(_ f: Finding) -> String? {
        guard let r = f.remedy, f.status == .warn || f.status == .fail else { return nil }
        if r.hasPrefix("None: ") || r.hasPrefix("Nothing to do") { return nil }
        return r
    }

    /// A finding's lines: status, id and summary (continued at the summary's column); its
    /// detail, evidence (at -v) and remedy under them, at the id's column.
    func lines(_ f: Finding, remedy: String?, indent: String, into out: inout String) {
        let gutter = indent + String(repeating: " ", count: gutterWidth)
        let under = indent + "      "
        let statusText = f.notApplicable != nil ? "n/a " : f.status.rawValue.uppercased()
        let head = indent + statusText + "  " + pad(Escaping.terminal(f.checkID), idColumn) + " "
        let summary = f.notApplicable.map { "\($0): " + f.summary } ?? f.summary
        let wrapped = TextLayout.wrap(Escaping.terminal(summary), width: width, first: head, rest: gutter)
        for (i, l) in wrapped.enumerated() {
            if i == 0 {
                out += indent
                out += f.notApplicable != nil ? paint("n/a ", .grey) : status(f.status)
                out += l.dropFirst(indent.count + 4)
            } else {
                out += l
            }
            out += "\n"
        }
        if let d = f.detail {
            for para in d.split(separator: "\n") {
                for l in TextLayout.wrap(Escaping.terminal(String(para)), width: width, first: under, rest: under) {
                    out += dim(l)
                    out += "\n"
                }
            }
        }
        if verbose {
            for e in f.evidence {
                for l in TextLayout.wrap(
                    "\(Escaping.terminal(e.path)): \(Escaping.terminal(e.value))", width: width, first: under + "read ",
                    rest: under + "     ")
                {
                    out += dim(l)
                    out += "\n"
                }
            }
        }
        if let remedy {
            for l in prose(Self.sentence(Escaping.terminal(remedy)), first: under + "→ ", rest: under + "  ") {
                out += l
                out += "\n"
            }
        }
    }

    /// An instruction in words starts with a capital, in the check lines and the verdict alike
    /// ("Replace …"); a command is left as it is typed.
    static func sentence(_ text: String) -> String {
        guard let c = text.first, c.isLowercase, !TextLayout.isCommand(text) else { return text }
        return c.uppercased() + text.dropFirst()
    }

    /// Words wrapped; a command they quote after a colon on its own line, unbroken, between the
    /// prose around it.
    func prose(_ text: String, first: String, rest: String) -> [String] {
        guard width != nil, let q = TextLayout.quotedCommand(in: text) else {
            return TextLayout.wrap(text, width: width, first: first, rest: rest)
        }
        var ls = TextLayout.wrap(q.before, width: width, first: first, rest: rest)
        ls.append(rest + "  " + q.command)
        // The sentence's closing period stays off the command's line, and alone it says nothing.
        if !q.after.isEmpty && q.after != "." { ls += TextLayout.wrap(q.after, width: width, first: rest, rest: rest) }
        return ls
    }

    /// A device: its line, its findings, and when it is not ready, why and the numbered steps.
    func device(_ dv: DeviceVerdict, of r: Report, findings: [Finding], into out: inout String) {
        guard let d = r.host.device(dv.address) else { return }
        var parts = [d.displayName, "[\(d.driver ?? "no driver")]"]
        // Its interfaces and disks, as dpdk-devbind shows them, and whether the host runs on it.
        let names = r.host.use.names(of: d.address)
        if !names.isEmpty { parts.append(names.joined(separator: ",")) }
        if !r.host.hostUse(of: d.address).isEmpty { parts.append("*in use by the host*") }
        parts.append(d.iommuGroup.map { "group \($0)" } ?? "no group")
        let tail = "→ \(dv.mode.rawValue) \(dv.readiness.rawValue.uppercased())"
        let text = Escaping.terminal(parts.joined(separator: "  ")) + "  " + tail
        let head = "  " + d.bdf + "  "
        let wrapped = TextLayout.wrap(text, width: width, first: head, rest: String(repeating: " ", count: head.count))
        for (i, var l) in wrapped.enumerated() {
            if i == 0 { l = "  " + bold(d.bdf) + l.dropFirst(2 + d.bdf.count) }
            if i == wrapped.count - 1, l.hasSuffix(tail) { l = l.dropLast(tail.count) + "→ \(dv.mode.rawValue) " + readiness(dv.readiness) }
            out += l
            out += "\n"
        }
        block(findings, indent: "    ", into: &out)
        guard dv.readiness != .ready else { return }
        for reason in r.deviceScoped ? dv.reasons : dv.deviceReasons {
            for l in TextLayout.wrap(Escaping.terminal(reason), width: width, first: "      because ", rest: "              ") {
                out += dim(l)
                out += "\n"
            }
        }
        if !dv.actions.isEmpty {
            out += "      next:\n"
            steps(dv.actions, indent: "        ", into: &out)
        }
    }

    /// Numbered steps: commands unbroken, instructions wrapped under their number.
    func steps(_ actions: [String], indent: String, into out: inout String) {
        for (i, a) in actions.enumerated() {
            let prefix = indent + "\(i + 1). "
            let rest = String(repeating: " ", count: prefix.count)
            let text = Escaping.terminal(a)
            let ls =
                TextLayout.isCommand(a)
                ? TextLayout.command(text, width: width, prefix: prefix, indent: rest)
                : prose(Self.sentence(text), first: prefix, rest: rest)
            for l in ls {
                out += l
                out += "\n"
            }
        }
    }

    func verdict(_ v: Verdict, into out: inout String) {
        let safe = Escaping.terminal
        out += "\n"
        let label: String
        switch v.statedMode {
        case .vfio?: label = "VFIO"
        case .unsafeInterrupts?: label = "UNSAFE INTERRUPTS ONLY"
        case .noiommu?: label = "NO-IOMMU ONLY"
        case .unusable?: label = "NONE"
        case nil: label = v.answer == .partial ? "PARTIAL" : "UNKNOWN"
        }
        let colour: Colour =
            switch v.statedMode {
            case .vfio?: .green
            case .unusable?: .red
            default: .yellow
            }
        let text = "Verdict: \(label) — \(safe(v.summary))"
        for (i, l) in TextLayout.wrap(text, width: width, first: "", rest: "  ").enumerated() {
            out += i == 0 ? bold("Verdict: ") + paint(label, colour) + l.dropFirst("Verdict: ".count + label.count) : l
            out += "\n"
        }
        func list(_ heading: String, _ items: [String], numbered: Bool) {
            guard !items.isEmpty else { return }
            out += heading
            out += "\n"
            if numbered {
                steps(items, indent: "  ", into: &out)
            } else {
                for item in items {
                    for l in TextLayout.wrap(safe(item), width: width, first: "  - ", rest: "    ") {
                        out += l
                        out += "\n"
                    }
                }
            }
        }
        list("Could not be read:", v.undecided, numbered: false)
        list("Actions:", v.actions, numbered: true)
        for d in v.disagreements {
            for (i, l) in TextLayout.wrap(safe(d), width: width, first: "Live disagrees: ", rest: "  ").enumerated() {
                out += i == 0 ? paint("Live disagrees: ", .yellow) + l.dropFirst("Live disagrees: ".count) : l
                out += "\n"
            }
        }
        if let u = v.upgrade { list("For \(u.mode.title):", u.actions, numbered: true) }
    }

    enum Colour: String { case red = "31", green = "32", yellow = "33", blue = "34", grey = "90" }

    func status(_ s: Status) -> String {
        switch s {
        case .pass: paint("PASS", .green)
        case .warn: paint("WARN", .yellow)
        case .fail: paint("FAIL", .red)
        case .skip: paint("SKIP", .grey)
        case .info: paint("INFO", .blue)
        }
    }
    public func readiness(_ r: Readiness) -> String {
        switch r {
        case .ready: paint("READY", .green)
        case .bindable: paint("BINDABLE", .yellow)
        case .blocked: paint("BLOCKED", .red)
        case .unknown: paint("UNKNOWN", .yellow)
        }
    }
    func paint(_ s: String, _ c: Colour) -> String { color ? "\u{1b}[\(c.rawValue)m\(s)\u{1b}[0m" : s }
    public func bold(_ s: String) -> String { color ? "\u{1b}[1m\(s)\u{1b}[0m" : s }
    func dim(_ s: String) -> String { color ? "\u{1b}[2m\(s)\u{1b}[0m" : s }
    func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
}

/// The headings devices are listed under, as dpdk-devbind groups them.
enum DeviceKind: CaseIterable {
    case network, storage, display, other

    init(_ d: PCIDevice) {
        switch d.baseClass {
        case 0x02: self = .network
        case 0x01: self = .storage
        case 0x03: self = .display
        default: self = .other
        }
    }

    var title: String {
        switch self {
        case .network: "Network devices"
        case .storage: "Storage devices"
        case .display: "Display devices"
        case .other: "Other devices"
        }
    }
}
