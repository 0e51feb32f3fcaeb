/// The terminal report: sections by category, aligned statuses, a remedy under every non-pass,
/// the devices, and one verdict line.
public struct TextReporter {
    public var color: Bool
    public init(color: Bool) { self.color = color }

    public func render(_ r: Report) -> String {
        // One string, appended to: a large host's report is hundreds of kilobytes.
        var out = ""
        out.reserveCapacity(4096 + r.verdict.devices.count * 160)
        func line(_ s: String) {
            out += s
            out += "\n"
        }
        // Text from the host or a tree, made safe for a terminal (Escaping).
        let safe = Escaping.terminal
        let h = r.host
        var about = ["kernel \(safe(h.kernel.release.value ?? "?"))"]
        if let v = h.platform.cpuVendor.value { about.append(v.rawValue) }
        if let hv = h.platform.hypervisor { about.append("guest of \(hv.rawValue)") }
        line(bold("vfio-probe") + " \(h.root == "/" ? "this host" : safe(h.root)) (\(about.joined(separator: ", ")))")

        let hostFindings = r.hostFindings
        let categories = Dictionary(r.checks.map { ($0.id, $0.category) }, uniquingKeysWith: { a, _ in a })
        for cat in Category.allCases where cat != .device {
            let fs = hostFindings.filter { (categories[$0.checkID] ?? .platform) == cat }
            if fs.isEmpty { continue }
            line("")
            line(bold(cat.title))
            for f in fs { lines(f, into: &out) }
        }

        if !r.verdict.devices.isEmpty || !h.missing.isEmpty {
            line("")
            line(bold("Devices"))
            // The findings shown under each device, grouped once (filtering them per device would be
            // quadratic on a large host): all of them for --device, otherwise what is not a plain
            // pass or note, and the live walks.
            var byDevice: [PCIAddress: [Int]] = [:]
            for (i, f) in r.findings.enumerated() {
                guard case .device(let a) = f.subject, shown(f, r) else { continue }
                byDevice[a, default: []].append(i)
            }
            for dv in r.verdict.devices { device(dv, of: r, findings: byDevice, into: &out) }
            for m in h.missing { line("  \(bold(m.description))  " + paint("no such PCI device", .red)) }
        }

        let v = r.verdict
        line("")
        let label: String
        switch v.statedMode {
        case .vfio?: label = paint("VFIO", .green)
        case .unsafeInterrupts?: label = paint("UNSAFE INTERRUPTS ONLY", .yellow)
        case .noiommu?: label = paint("NO-IOMMU ONLY", .yellow)
        case .unusable?: label = paint("NONE", .red)
        case nil: label = paint(v.answer == .partial ? "PARTIAL" : "UNKNOWN", .yellow)
        }
        line(bold("Verdict: ") + label + " — " + safe(v.summary))
        if !v.undecided.isEmpty {
            line("Could not be read:")
            for u in v.undecided { line("  - \(safe(u))") }
        }
        if !v.actions.isEmpty {
            line("Actions:")
            for (i, a) in v.actions.enumerated() { line("  \(i + 1). \(safe(a))") }
        }
        for d in v.disagreements { line(paint("Live disagrees: ", .yellow) + safe(d)) }
        if let u = v.upgrade {
            line("For \(u.mode.title):")
            for a in u.actions { line("  - \(safe(a))") }
        }
        return out
    }

    func shown(_ f: Finding, _ r: Report) -> Bool {
        if r.deviceScoped { return true }
        switch f.status {
        case .pass, .info: return r.live?.notRun == nil && f.isLiveProof  // no live findings when the walks did not run
        case .warn, .fail, .skip: return true
        }
    }

    /// A device's line, its findings worth showing, and why it is not ready.
    func device(_ dv: DeviceVerdict, of r: Report, findings byDevice: [PCIAddress: [Int]], into out: inout String) {
        guard let d = r.host.device(dv.address) else { return }
        out += "  "
        out += bold(d.bdf)
        out += "  "
        d.appendDisplayName(to: &out)
        out += "  ["
        out += Escaping.terminal(d.driver ?? "no driver")
        out += "]  "
        // Its interfaces and disks, as dpdk-devbind shows them, and whether the host runs on it.
        let names = r.host.use.names(of: d.address)
        if !names.isEmpty {
            out += Escaping.terminal(names.joined(separator: ","))
            out += "  "
        }
        if !r.host.hostUse(of: d.address).isEmpty { out += "*in use by the host*  " }
        if let g = d.iommuGroup {
            out += "group "
            out += String(g)
        } else {
            out += "no group"
        }
        out += "  → "
        out += dv.mode.rawValue
        out += " "
        out += readiness(dv.readiness)
        out += "\n"
        for i in byDevice[d.address] ?? [] { lines(r.findings[i], indent: "    ", into: &out) }
        if dv.readiness != .ready {
            for reason in r.deviceScoped ? dv.reasons : dv.deviceReasons {
                out += "      "
                if color {
                    out += dim("because \(Escaping.terminal(reason))")
                } else {
                    out += "because "
                    out += Escaping.terminal(reason)
                }
                out += "\n"
            }
        }
    }

    /// A finding's lines: status, id and summary; its detail and (unless it passed) its remedy
    /// under them, aligned.
    func lines(_ f: Finding, indent: String = "  ", into out: inout String) {
        let gutter = indent + String(repeating: " ", count: 37)
        out += indent
        out += status(f.status)
        out += "  "
        out += pad(Escaping.terminal(f.checkID), 30)
        out += " "
        out += Escaping.terminal(f.summary)
        out += "\n"
        if let d = f.detail {
            for l in d.split(separator: "\n") {
                out += gutter
                out += dim(Escaping.terminal(String(l)))
                out += "\n"
            }
        }
        if let remedy = f.remedy, f.status != .pass {
            out += gutter
            out += "→ "
            out += Escaping.terminal(remedy)
            out += "\n"
        }
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
