/// The terminal report: sections by category, aligned statuses, a remedy under every non-pass,
/// the devices, and one verdict line.
public struct TextReporter {
    public var color: Bool
    public init(color: Bool) { self.color = color }

    public func render(_ r: Report) -> String {
        var out: [String] = []
        let h = r.host
        var about = ["kernel \(h.kernel.release.value ?? "?")"]
        if let v = h.platform.cpuVendor.value { about.append(v.rawValue) }
        if let hv = h.platform.hypervisor { about.append("guest of \(hv.rawValue)") }
        out.append(bold("vfio-probe") + " \(h.root == "/" ? "this host" : h.root) (\(about.joined(separator: ", ")))")

        let hostFindings = r.hostFindings
        for cat in Category.allCases where cat != .device {
            let fs = hostFindings.filter { r.category(of: $0.checkID) == cat }
            if fs.isEmpty { continue }
            out.append("")
            out.append(bold(cat.title))
            for f in fs { out += lines(f) }
        }

        if !r.verdict.devices.isEmpty || !h.missing.isEmpty {
            out.append("")
            out.append(bold("Devices"))
            // Findings grouped once: filtering them per device would be quadratic on a large host.
            var byDevice: [PCIAddress: [Finding]] = [:]
            for f in r.findings { if case .device(let a) = f.subject { byDevice[a, default: []].append(f) } }
            for dv in r.verdict.devices {
                guard let d = h.device(dv.address) else { continue }
                let group = d.iommuGroup.map { "group \($0)" } ?? "no group"
                out.append("  \(bold(d.address.description))  \(d.displayName)  [\(d.driver ?? "no driver")]  \(group)  → \(dv.mode.rawValue) \(readiness(dv.readiness))")
                let fs = byDevice[d.address] ?? []
                let shown = r.deviceScoped ? fs : fs.filter { ($0.status != .pass && $0.status != .info) || $0.checkID.hasPrefix("live.") }
                for f in shown { out += lines(f, indent: "    ") }
                if dv.readiness != .ready {
                    for reason in r.deviceScoped ? dv.reasons : dv.deviceReasons { out.append("      " + dim("because \(reason)")) }
                }
            }
            for m in h.missing { out.append("  \(bold(m.description))  " + paint("no such PCI device", .red)) }
        }

        let v = r.verdict
        out.append("")
        let label: String
        switch v.mode {
        case .vfio: label = paint("VFIO", .green)
        case .noiommu: label = paint("NO-IOMMU ONLY", .yellow)
        case .none: label = paint("NONE", .red)
        }
        out.append(bold("Verdict: ") + label + " — " + v.summary)
        if !v.actions.isEmpty {
            out.append("Actions:")
            for (i, a) in v.actions.enumerated() { out.append("  \(i + 1). \(a)") }
        }
        for d in v.disagreements { out.append(paint("Live disagrees: ", .yellow) + d) }
        if let u = v.upgrade {
            out.append("For \(u.mode.title):")
            for a in u.actions { out.append("  - \(a)") }
        }
        return out.joined(separator: "\n") + "\n"
    }

    func lines(_ f: Finding, indent: String = "  ") -> [String] {
        let gutter = indent + String(repeating: " ", count: 37)
        var ls = [indent + status(f.status) + "  " + pad(f.checkID, 30) + " " + f.summary]
        if let d = f.detail {
            ls += d.split(separator: "\n").map { gutter + dim(String($0)) }
        }
        if let remedy = f.remedy, f.status != .pass {
            ls.append(gutter + "→ " + remedy)
        }
        return ls
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
        }
    }
    func paint(_ s: String, _ c: Colour) -> String { color ? "\u{1b}[\(c.rawValue)m\(s)\u{1b}[0m" : s }
    public func bold(_ s: String) -> String { color ? "\u{1b}[1m\(s)\u{1b}[0m" : s }
    func dim(_ s: String) -> String { color ? "\u{1b}[2m\(s)\u{1b}[0m" : s }
    func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
}
