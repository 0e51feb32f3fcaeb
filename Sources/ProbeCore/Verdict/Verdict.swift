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
    /// What stands in the way (blocked) or what is needed (bindable), host-wide and the device's
    /// own, in findings order; the reasons and actions are read from them when asked for.
    var causes: [Impact]
    /// The device's own part of `causes`.
    var ownCauses: [Impact]

    public var reasons: [String] { unique(causes.map(\.reason)) }
    public var actions: [String] { unique(causes.flatMap(\.actions)) }
    /// The reasons that are about this device rather than the host.
    public var deviceReasons: [String] { unique(ownCauses.map(\.reason)) }

    public static func == (a: DeviceVerdict, b: DeviceVerdict) -> Bool {
        a.address == b.address && a.mode == b.mode && a.readiness == b.readiness && a.reasons == b.reasons && a.actions == b.actions
            && a.deviceReasons == b.deviceReasons
    }
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
    /// What the findings about one subject do to each mode: one list, in findings order (a
    /// device of a large host has a handful), read by kind and mode.
    struct Effects {
        private var impacts: [Impact] = []
        mutating func add(contentsOf more: [Impact]) { impacts.append(contentsOf: more) }
        var blocks: ByMode { ByMode(impacts: impacts, kind: .blocks) }
        var requires: ByMode { ByMode(impacts: impacts, kind: .requires) }
        func blocked(_ m: Mode) -> Bool { impacts.contains { $0.kind == .blocks && $0.mode == m } }
    }

    /// The impacts of one kind on a mode; nil when there are none (no list is made then).
    struct ByMode {
        let impacts: [Impact]
        let kind: Impact.Kind
        subscript(m: Mode) -> [Impact]? {
            guard impacts.contains(where: { $0.kind == kind && $0.mode == m }) else { return nil }
            return impacts.filter { $0.kind == kind && $0.mode == m }
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
        for f in findings where f.subject == .host { hostFx.add(contentsOf: f.impacts) }
        /// The effects on the devices with addresses in [low, high) (nil: unbounded), in findings
        /// order.
        func deviceEffects(from low: PCIAddress?, to high: PCIAddress?, capacity: Int) -> [PCIAddress: Effects] {
            var fx: [PCIAddress: Effects] = [:]
            fx.reserveCapacity(capacity)
            for f in findings {
                guard case .device(let a) = f.subject, low.map({ a >= $0 }) ?? true, high.map({ a < $0 }) ?? true else { continue }
                let impacts = f.impacts
                if !impacts.isEmpty { fx[a, default: Effects()].add(contentsOf: impacts) }
            }
            return fx
        }
        // With --device, every device's effects (a few devices); for the whole host each slice of
        // devices gathers its own below, on all cores.
        let deviceFx = deviceScoped ? deviceEffects(from: nil, to: nil, capacity: host.devices.count) : [:]
        let none = Effects()
        func available(_ a: PCIAddress) -> [Mode] { available(a, deviceFx[a] ?? none) }
        func available(_ a: PCIAddress, _ fx: Effects) -> [Mode] { modes.filter { usable($0, a, fx) } }
        func usable(_ m: Mode, _ a: PCIAddress, _ fx: Effects) -> Bool {
            proven[a]?.contains(m) == true || (!hostFx.blocked(m) && !fx.blocked(m))
        }
        func verdict(_ a: PCIAddress, in mode: Mode) -> DeviceVerdict { verdict(a, deviceFx[a] ?? none, in: mode) }
        func verdict(_ a: PCIAddress, _ fx: Effects, in mode: Mode) -> DeviceVerdict {
            if mode == .none {
                return DeviceVerdict(address: a, mode: .none, readiness: .blocked,
                                     causes: modes.flatMap { (hostFx.blocks[$0] ?? []) + (fx.blocks[$0] ?? []) },
                                     ownCauses: modes.flatMap { fx.blocks[$0] ?? [] })
            }
            if proven[a]?.contains(mode) == true {
                return DeviceVerdict(address: a, mode: mode, readiness: .ready, causes: [], ownCauses: [])
            }
            let own = fx.requires[mode] ?? []
            let needs = (hostFx.requires[mode] ?? []) + own
            return DeviceVerdict(address: a, mode: mode, readiness: needs.isEmpty ? .ready : .bindable, causes: needs, ownCauses: own)
        }

        let presentDevices = host.selectedDevices
        let present = presentDevices.map(\.address)
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
                || presentDevices.contains { d in host.group(of: d).map(\.isNoIOMMU) ?? true }
            let candidates = outsideGroups ? modes : [.vfio]
            let provenBest = proven.values.flatMap { $0 }.max()
            mode = max(candidates.first { !hostFx.blocked($0) } ?? .none, provenBest ?? .none)
            // Each slice of devices (in address order) folds the findings about its own devices and
            // draws their verdicts: no thread waits on a fold of the whole list.
            assert(zip(present, present.dropFirst()).allSatisfy { $0 < $1 }, "Host.selected is sorted")
            devices = parallelSlices(present.count, perCore: 1) { range in
                let fx = deviceEffects(from: range.lowerBound == 0 ? nil : present[range.lowerBound],
                                       to: range.upperBound == present.count ? nil : present[range.upperBound], capacity: range.count)
                return range.map { i in
                    let a = present[i], own = fx[a] ?? none
                    return verdict(a, own, in: modes.first { usable($0, a, own) } ?? .none)
                }
            }.flatMap { $0 }
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
