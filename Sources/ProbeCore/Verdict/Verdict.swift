/// How ready a device is for the mode of the verdict.
public enum Readiness: String, Sendable, Codable {
    /// Works now.
    case ready
    /// Works once the listed actions are done (binding, a module, a parameter) — no reboot.
    case bindable
    /// Cannot work in any mode; the reasons say why.
    case blocked
}

public struct DeviceVerdict: Sendable, Equatable {
    public var address: PCIAddress
    public var mode: Mode
    public var readiness: Readiness
    public var reasons: [String]
    public var actions: [String]
    /// The reasons that are about this device rather than the host.
    public var deviceReasons: [String]
}

/// The answer: the best mode, why not better, and what to do.
public struct Verdict: Sendable, Equatable {
    public var mode: Mode
    public var summary: String
    /// What to do for `mode` to work (for the selected devices, with --device).
    public var actions: [String]
    /// Why no better mode is available.
    public var reasons: [String]
    /// The better mode and what it would take (reboot, firmware, another kernel), when there is one.
    public var upgrade: Upgrade?
    public var devices: [DeviceVerdict]
    /// Checks that did not run (--only/--skip): the verdict is drawn without them.
    public var notRun: [String]
    /// Where the kernel's live answers contradict the sysfs analysis (live wins).
    public var disagreements: [String]

    public struct Upgrade: Sendable, Equatable {
        public var mode: Mode
        public var actions: [String]
    }

    /// 0 safe VFIO, 2 no-IOMMU only, 3 nothing usable.
    public var exitCode: Int32 { Verdict.exitCode(for: mode) }
    public static func exitCode(for mode: Mode) -> Int32 {
        switch mode {
        case .vfio: 0
        case .noiommu: 2
        case .none: 3
        }
    }
}

/// Folds findings into the verdict. Pure.
///
/// When the live walks ran, the kernel's answers win: a walk that went through proves its mode for
/// that device whatever sysfs suggested, and a failed step blocks or requires through its finding's
/// impacts. Every place where the kernel and the static analysis disagree is reported.
public enum VerdictBuilder {
    struct Effects {
        var blocks = ByMode()
        var requires = ByMode()
        mutating func add(_ i: Impact) {
            switch i.kind {
            case .blocks: blocks.append(i)
            case .requires: requires.append(i)
            }
        }
        func blocked(_ m: Mode) -> Bool { blocks[m] != nil }
    }

    /// Impacts by the mode they are about; nil for a mode with none. Three arrays rather than a
    /// dictionary: every device of a large host has one.
    struct ByMode {
        private var vfio: [Impact] = []
        private var noiommu: [Impact] = []
        private var none: [Impact] = []
        subscript(m: Mode) -> [Impact]? {
            let list = switch m {
            case .vfio: vfio
            case .noiommu: noiommu
            case .none: none
            }
            return list.isEmpty ? nil : list
        }
        mutating func append(_ i: Impact) {
            switch i.mode {
            case .vfio: vfio.append(i)
            case .noiommu: noiommu.append(i)
            case .none: none.append(i)
            }
        }
    }

    static let modes: [Mode] = Mode.usable

    struct Fold {
        var mode: Mode
        var devices: [DeviceVerdict]
        var reasons: [String]
        var actions: [String]
        var upgrade: Verdict.Upgrade?
    }

    public static func build(host: Host, findings: [Finding], live: LiveReport? = nil, deviceScoped: Bool, notRun: [String] = []) -> Verdict {
        var proven: [PCIAddress: Set<Mode>] = [:]
        if let live, live.notRun == nil {
            for (a, walks) in live.devices {
                for w in walks where w.succeeded {
                    switch w.kind {
                    case .type1: proven[a, default: []].insert(.vfio)
                    case .noiommu: proven[a, default: []].insert(.noiommu)
                    case .iommufd, .container: break
                    }
                }
            }
        }
        let full = fold(host, findings, deviceScoped: deviceScoped, proven: proven)
        var disagreements: [String] = []
        if let live, live.notRun == nil {
            let staticOnly = fold(host, findings.filter { !$0.checkID.hasPrefix("live.") }, deviceScoped: deviceScoped, proven: [:])
            if staticOnly.mode != full.mode {
                disagreements.append("the host: sysfs analysis gives \(staticOnly.mode.rawValue), the kernel's answers give \(full.mode.rawValue)")
            }
            for dv in full.devices {
                guard let sv = staticOnly.devices.first(where: { $0.address == dv.address }),
                      sv.mode != dv.mode || sv.readiness != dv.readiness else { continue }
                let why = findings.first { $0.subject == .device(dv.address) && $0.checkID.hasPrefix("live.") && $0.status == .fail }?.summary
                    ?? (proven[dv.address].map { "the kernel completed the \($0.map(\.rawValue).sorted().joined(separator: "/")) walk" } ?? "")
                disagreements.append("\(dv.address): sysfs analysis says \(sv.mode.rawValue) \(sv.readiness.rawValue), the kernel says \(dv.mode.rawValue) \(dv.readiness.rawValue)\(why.isEmpty ? "" : " (\(why))")")
            }
        }
        var summary = summarize(mode: full.mode, reasons: full.reasons, actions: full.actions, devices: full.devices,
                                deviceScoped: deviceScoped, notRun: notRun)
        if !disagreements.isEmpty { summary += " [the kernel disagreed with sysfs: live wins]" }
        return Verdict(mode: full.mode, summary: summary, actions: full.actions, reasons: full.reasons, upgrade: full.upgrade,
                       devices: full.devices, notRun: notRun, disagreements: disagreements)
    }

    static func fold(_ host: Host, _ findings: [Finding], deviceScoped: Bool, proven: [PCIAddress: Set<Mode>]) -> Fold {
        var hostFx = Effects()
        var deviceFx: [PCIAddress: Effects] = [:]
        deviceFx.reserveCapacity(host.devices.count)
        for f in findings.indices where !findings[f].impacts.isEmpty {
            switch findings[f].subject {
            case .host: for i in findings[f].impacts { hostFx.add(i) }
            case .device(let a): for i in findings[f].impacts { deviceFx[a, default: Effects()].add(i) }
            }
        }
        let none = Effects()
        func available(_ a: PCIAddress) -> [Mode] { available(a, deviceFx[a] ?? none) }
        func available(_ a: PCIAddress, _ fx: Effects) -> [Mode] {
            modes.filter { proven[a]?.contains($0) == true || (!hostFx.blocked($0) && !fx.blocked($0)) }
        }
        func verdict(_ a: PCIAddress, in mode: Mode) -> DeviceVerdict { verdict(a, deviceFx[a] ?? none, in: mode) }
        func verdict(_ a: PCIAddress, _ fx: Effects, in mode: Mode) -> DeviceVerdict {
            if mode == .none {
                let blockers = modes.flatMap { (hostFx.blocks[$0] ?? []) + (fx.blocks[$0] ?? []) }
                let own = modes.flatMap { fx.blocks[$0] ?? [] }
                return DeviceVerdict(address: a, mode: .none, readiness: .blocked, reasons: unique(blockers.map(\.reason)),
                                     actions: unique(blockers.flatMap(\.actions)), deviceReasons: unique(own.map(\.reason)))
            }
            if proven[a]?.contains(mode) == true {
                return DeviceVerdict(address: a, mode: mode, readiness: .ready, reasons: [], actions: [], deviceReasons: [])
            }
            let needs = (hostFx.requires[mode] ?? []) + (fx.requires[mode] ?? [])
            return DeviceVerdict(address: a, mode: mode, readiness: needs.isEmpty ? .ready : .bindable,
                                 reasons: unique(needs.map(\.reason)), actions: unique(needs.flatMap(\.actions)),
                                 deviceReasons: unique((fx.requires[mode] ?? []).map(\.reason)))
        }

        let present = host.selected.filter { host.devices[$0] != nil }
        let devices: [DeviceVerdict]
        let mode: Mode
        var reasons: [String]
        let actions: [String]
        if deviceScoped {
            // The best mode all named devices share: one process cannot mix type1 and no-IOMMU.
            let shared = modes.filter { m in present.allSatisfy { available($0).contains(m) } }
            mode = host.missing.isEmpty && !present.isEmpty ? (shared.first ?? .none) : .none
            devices = present.map { verdict($0, in: mode) }
            reasons = host.missing.map { "\($0): no such PCI device" }
            if mode == .none {
                reasons += unique(devices.flatMap(\.reasons))
                if present.count > 1, !present.allSatisfy({ available($0).isEmpty }) {
                    reasons.append("the devices have no mode in common (\(present.map { "\($0): \(available($0).map(\.rawValue).joined(separator: "/").ifEmpty("none"))" }.joined(separator: ", ")))")
                }
            } else if mode < .vfio {
                reasons += unique(present.flatMap { a in ((hostFx.blocks[.vfio] ?? []) + (deviceFx[a]?.blocks[.vfio] ?? [])).map(\.reason) })
            }
            actions = mode == .none ? [] : unique(devices.flatMap(\.actions))
        } else {
            // No-IOMMU mode applies only to devices outside every IOMMU group: on a host whose
            // IOMMU is active it is no fallback unless some device has no real group.
            let outsideGroups = host.iommuActive != true
                || present.contains { a in host.group(of: a).map(\.isNoIOMMU) ?? true }
            let candidates = outsideGroups ? modes : [.vfio]
            let provenBest = proven.values.flatMap { $0 }.max()
            mode = max(candidates.first { !hostFx.blocked($0) } ?? .none, provenBest ?? .none)
            devices = parallelMap(present) { a in
                let fx = deviceFx[a] ?? none  // looked up once per device
                return verdict(a, fx, in: available(a, fx).first ?? .none)
            }
            if mode == .none {
                reasons = unique(modes.flatMap { (hostFx.blocks[$0] ?? []).map(\.reason) })
            } else {
                reasons = unique(modes.filter { $0 > mode }.flatMap { (hostFx.blocks[$0] ?? []).map(\.reason) })
            }
            actions = mode == .none || provenBest == mode ? [] : unique((hostFx.requires[mode] ?? []).flatMap(\.actions))
        }

        var upgrade: Verdict.Upgrade?
        if mode < .vfio {
            let fx = (hostFx.blocks[.vfio] ?? []) + (hostFx.requires[.vfio] ?? [])
                + (deviceScoped ? present.flatMap { (deviceFx[$0]?.blocks[.vfio] ?? []) } : [])
            let fixes = unique(fx.flatMap(\.actions))
            if !fixes.isEmpty { upgrade = Verdict.Upgrade(mode: .vfio, actions: fixes) }
        }
        return Fold(mode: mode, devices: devices, reasons: reasons, actions: actions, upgrade: upgrade)
    }

    static func summarize(mode: Mode, reasons: [String], actions: [String], devices: [DeviceVerdict], deviceScoped: Bool, notRun: [String]) -> String {
        var s: String
        switch mode {
        case .vfio:
            s = "safe VFIO is usable"
            if deviceScoped {
                let ready = devices.filter { $0.readiness == .ready }.count
                s += ready == devices.count ? " and the device\(devices.count == 1 ? " is" : "s are") ready"
                    : " once the listed actions are done (\(ready) of \(devices.count) ready)"
            } else if !actions.isEmpty {
                s += " once the listed actions are done"
            }
        case .noiommu:
            s = "only the unsafe no-IOMMU mode is usable"
            if let r = reasons.first { s += " (\(r))" }
            if !actions.isEmpty { s += "; it needs the listed actions" }
        case .none:
            s = "VFIO is not usable"
            if let r = reasons.first { s += ": \(r)" }
        }
        if !notRun.isEmpty { s += " [partial verdict: \(notRun.count) check\(notRun.count == 1 ? "" : "s") not run]" }
        return s
    }
}

func unique(_ xs: [String]) -> [String] {
    if xs.count < 2 { return xs }
    if xs.count <= 8 {  // most lists: a linear scan, no set
        var out: [String] = []
        out.reserveCapacity(xs.count)
        for x in xs where !out.contains(x) { out.append(x) }
        return out
    }
    var seen: Set<String> = []
    return xs.filter { seen.insert($0).inserted }
}

extension String {
    func ifEmpty(_ other: String) -> String { isEmpty ? other : self }
}
