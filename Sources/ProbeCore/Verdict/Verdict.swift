/// How ready a device is for the mode of the verdict.
public enum Readiness: String, Sendable, Codable, CaseIterable {
    /// Works now.
    case ready
    /// Works once the listed actions are done (binding, a module, a parameter) — no reboot.
    case bindable
    /// Cannot work in any mode; the reasons say why.
    case blocked
    /// A fact that decides it could not be read, or a check able to deny it did not run: neither
    /// granted nor denied. The reasons name the facts; the actions say how to let the probe see them.
    case unknown
}

public struct DeviceVerdict: Sendable, Equatable {
    public var address: PCIAddress
    public var mode: Mode
    public var readiness: Readiness
    /// What stands in the way (blocked), what is needed (bindable) or what could not be read
    /// (unknown), host-wide and the device's own, in findings order; the reasons and actions are
    /// read from them when asked for.
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
    /// Whether the findings decide the mode.
    public enum Answer: String, Sendable, Equatable {
        /// Every check able to deny the mode ran and saw what it needed.
        case complete
        /// --only/--skip left out a check able to deny it: `mode` is only an upper bound.
        case partial
        /// A fact that decides it could not be read: `mode` is only an upper bound.
        case unknown
    }

    /// The best mode the findings allow: the answer when `answer` is complete, an upper bound
    /// otherwise. Reporters print `statedMode`.
    public var mode: Mode
    public var answer: Answer
    public var summary: String
    /// What to do for `mode` to work (for the selected devices, with --device); for an unknown
    /// answer, also how to let the probe see what it could not read.
    public var actions: [String]
    /// Why no better mode is available.
    public var reasons: [String]
    /// The facts that decide the mode but could not be read (answer unknown).
    public var undecided: [String]
    /// The better mode and what it would take (reboot, firmware, another kernel), when there is one.
    public var upgrade: Upgrade?
    public var devices: [DeviceVerdict]
    /// Checks that did not run (--only/--skip): the verdict is drawn without them.
    public var notRun: [String]
    /// Where the kernel's live answers contradict the sysfs analysis (live wins).
    public var disagreements: [String]
    /// The mode holds now: every named device is ready (--device), or the host needs no action.
    public var holdsNow: Bool

    public struct Upgrade: Sendable, Equatable {
        public var mode: Mode
        public var actions: [String]
    }

    /// The mode the report states: nil (unknown) when the answer is partial or unknown, unless
    /// even the upper bound is none (a denial stays a denial).
    public var statedMode: Mode? { answer == .complete || mode == .unusable ? mode : nil }
    /// The name reporters print for the stated mode.
    public var statedModeName: String { statedMode?.rawValue ?? "unknown" }

    /// 0 safe VFIO, 5 VFIO without interrupt isolation, 2 no-IOMMU only, 3 nothing usable, 1 no
    /// answer (partial or unknown).
    public var exitCode: Int32 { statedMode.map(Verdict.exitCode(for:)) ?? Verdict.noAnswer }
    public static func exitCode(for mode: Mode) -> Int32 {
        switch mode {
        case .vfio: 0
        case .unsafeInterrupts: 5
        case .noiommu: 2
        case .unusable: 3
        }
    }
    public static let noAnswer: Int32 = 1
    /// With --require: the mode is at least the one required, but only after the listed actions.
    public static let afterActions: Int32 = 4

    /// The exit status of a run gated with `--require required` (nil: not gated). 0 only when the
    /// answer is complete, the mode is at least `required`, and it holds now; 4 when it holds once
    /// the listed runtime actions are done; otherwise the verdict's own status.
    public func exitStatus(requiring required: Mode?) -> Int32 {
        guard let required else { return exitCode }
        guard let m = statedMode, m >= required, m != .unusable else { return exitCode }
        return holdsNow ? 0 : Verdict.afterActions
    }
}

/// Folds findings into the verdict. Pure.
///
/// When the live walks ran, the kernel's answers win: a walk that went through and opened the
/// device proves its mode for that device whatever sysfs suggested (except for what the ioctls
/// cannot observe: interrupt isolation, a virtio device bypassing the IOMMU), and a failed step
/// blocks or requires through its finding's impacts. Every place where the kernel and the static
/// analysis disagree is reported. Unknown never grants: a mode whose deciding fact could not be
/// read is neither granted nor denied, and neither is one a deselected check could deny.
public enum VerdictBuilder {
    /// What the findings about one subject do to each mode, in findings order (a device of a
    /// large host has a handful).
    struct Effects {
        private(set) var impacts: [Impact] = []
        mutating func add(contentsOf more: [Impact]) { impacts.append(contentsOf: more) }
        /// The impacts of one kind on a mode; those a live proof lifts are left out when `proven`.
        func of(_ kind: Impact.Kind, _ m: Mode, proven: Bool = false) -> [Impact] {
            impacts.filter { $0.kind == kind && $0.mode == m && !(proven && $0.liveCanLift) }
        }
        func has(_ kind: Impact.Kind, _ m: Mode, proven: Bool = false) -> Bool {
            impacts.contains { $0.kind == kind && $0.mode == m && !(proven && $0.liveCanLift) }
        }
    }

    static let modes: [Mode] = Mode.usable

    struct Fold {
        var mode: Mode
        var answer: Verdict.Answer
        var devices: [DeviceVerdict]
        var reasons: [String]
        var undecided: [String]
        var actions: [String]
        var upgrade: Verdict.Upgrade?
        var holdsNow: Bool
    }

    public static func build(
        host: Host, findings: [Finding], live: LiveReport? = nil, deviceScoped: Bool, notRun: [String] = [],
        partial: Bool? = nil
    ) -> Verdict {
        let ran = live.map { $0.notRun == nil } ?? false
        let proven = ran ? provenModes(host, live!) : [:]
        let isPartial = partial ?? !notRun.isEmpty
        let full = fold(host, findings, deviceScoped: deviceScoped, proven: proven, partial: isPartial)
        var disagreements: [String] = []
        if ran {
            let staticOnly = fold(host, findings.filter { !$0.isLiveProof }, deviceScoped: deviceScoped, proven: [:], partial: isPartial)
            if staticOnly.mode != full.mode {
                disagreements.append(
                    "the host: sysfs analysis gives \(staticOnly.mode.rawValue), the kernel's answers give \(full.mode.rawValue)")
            }
            let before = Dictionary(staticOnly.devices.map { ($0.address, $0) }, uniquingKeysWith: { a, _ in a })
            // Each device's first failed live step, indexed once rather than searched for per device.
            var liveFailure: [PCIAddress: String] = [:]
            for f in findings where f.isLiveProof && f.status == .fail {
                if case .device(let a) = f.subject, liveFailure[a] == nil { liveFailure[a] = f.summary }
            }
            for dv in full.devices {
                guard let sv = before[dv.address], sv.mode != dv.mode || sv.readiness != dv.readiness else { continue }
                let why =
                    liveFailure[dv.address]
                    ?? (proven[dv.address] == nil
                        ? ""
                        : "the kernel completed the \(live!.devices[dv.address]!.filter(\.succeeded).map(\.kind.rawValue).joined(separator: "/")) walk")
                disagreements.append(
                    "\(dv.address): sysfs analysis says \(sv.mode.rawValue) \(sv.readiness.rawValue), the kernel says \(dv.mode.rawValue) \(dv.readiness.rawValue)\(why.isEmpty ? "" : " (\(why))")"
                )
            }
        }
        var summary = summarize(full, deviceScoped: deviceScoped, notRun: notRun)
        if !disagreements.isEmpty { summary += " [the kernel disagreed with sysfs: live wins]" }
        // A device kernel.acs-override only warns about is one whose split group the user accepted.
        if findings.contains(where: { $0.checkID == ACSOverrideCheck.descriptor.id && $0.status == .warn && $0.subject != .host }) {
            summary +=
                " [accepted with \(Acceptance.acsOverride.flag): groups pcie_acs_override= split are taken as isolated, though the hardware does not isolate them]"
        }
        return Verdict(
            mode: full.mode, answer: full.answer, summary: summary, actions: full.actions, reasons: full.reasons,
            undecided: full.undecided, upgrade: full.upgrade, devices: full.devices, notRun: notRun,
            disagreements: disagreements, holdsNow: full.holdsNow)
    }

    /// The modes each device's live walks proved. A walk proves a device only when it went through
    /// and opened the device fd, and the device is a normal function bound to a VFIO driver: a walk
    /// stopped before the device (`--no-device-open`) proves the container and group path only.
    static func provenModes(_ host: Host, _ live: LiveReport) -> [PCIAddress: Set<Mode>] {
        var proven: [PCIAddress: Set<Mode>] = [:]
        for (a, walks) in live.devices {
            guard let d = host.device(a), DriverClass(d.driver) == .vfio, (d.headerType ?? 0) == 0 else { continue }
            for w in walks where w.succeeded && w.facts.deviceFlags != nil {
                switch w.kind {
                case .type1: proven[a, default: []].formUnion(Mode.iommuBacked)
                case .noiommu: proven[a, default: []].insert(.noiommu)
                case .iommufd, .container: break
                }
            }
        }
        return proven
    }

    static func fold(_ host: Host, _ findings: [Finding], deviceScoped: Bool, proven: [PCIAddress: Set<Mode>], partial: Bool) -> Fold {
        var hostFx = Effects()
        var deviceFx: [PCIAddress: Effects] = [:]
        for f in findings {
            let impacts = f.impacts
            if impacts.isEmpty { continue }
            switch f.subject {
            case .host: hostFx.add(contentsOf: impacts)
            case .device(let a): deviceFx[a, default: Effects()].add(contentsOf: impacts)
            }
        }
        let none = Effects()
        func blocked(_ m: Mode, _ a: PCIAddress) -> Bool {
            let p = proven[a]?.contains(m) == true
            return hostFx.has(.blocks, m, proven: p) || (deviceFx[a] ?? none).has(.blocks, m, proven: p)
        }
        func available(_ a: PCIAddress) -> [Mode] { modes.filter { !blocked($0, a) } }
        func blockedVerdict(_ a: PCIAddress) -> DeviceVerdict {
            let own = modes.flatMap { (deviceFx[a] ?? none).of(.blocks, $0) }
            return DeviceVerdict(
                address: a, mode: .unusable, readiness: .blocked, causes: modes.flatMap { hostFx.of(.blocks, $0) } + own, ownCauses: own)
        }
        /// The device in `mode`, which it is not blocked in.
        func verdict(_ a: PCIAddress, in mode: Mode) -> DeviceVerdict {
            let fx = deviceFx[a] ?? none
            // A walk that opened the device lifts what it proved, not what it cannot show (the
            // memlock floor beyond its 16 KiB map, interrupt isolation).
            let p = proven[a]?.contains(mode) == true
            let needs = hostFx.of(.requires, mode, proven: p) + fx.of(.requires, mode, proven: p)
            let unsure = hostFx.of(.undecided, mode, proven: p) + fx.of(.undecided, mode, proven: p)
            if !unsure.isEmpty || partial {
                return DeviceVerdict(
                    address: a, mode: mode, readiness: .unknown, causes: unsure + needs,
                    ownCauses: fx.of(.undecided, mode, proven: p) + fx.of(.requires, mode, proven: p))
            }
            return DeviceVerdict(
                address: a, mode: mode, readiness: needs.isEmpty ? .ready : .bindable, causes: needs,
                ownCauses: fx.of(.requires, mode, proven: p))
        }

        let presentDevices = host.selectedDevices
        let present = presentDevices.map(\.address)
        var devices: [DeviceVerdict]
        let mode: Mode
        var reasons: [String]
        var undecided: [String] = []
        if deviceScoped {
            // The best mode all named devices share: one process cannot mix type1 and no-IOMMU.
            let alone = Dictionary(present.map { ($0, available($0)) }, uniquingKeysWith: { a, _ in a })
            let shared = modes.filter { m in present.allSatisfy { alone[$0]!.contains(m) } }
            // A named function that could not be looked up is unknown, not missing: the others
            // bound the answer, which is then unknown.
            let unseen = host.missing.filter { host.unreadableSelected[$0] != nil }
            mode =
                host.missing.count != unseen.count
                ? .unusable
                : present.isEmpty
                    ? (unseen.isEmpty ? .unusable : .vfio)  // nothing seen: at most the best
                    : (shared.first ?? .unusable)
            reasons = host.missing.map { missingReason($0, host) }
            if mode != .unusable {
                devices = present.map { verdict($0, in: mode) }
            } else {
                // A device that works on its own is not blamed for the set: it is named with a
                // device that does not exist, or with devices that need another mode.
                devices = present.map { a in
                    guard let own = alone[a]!.first else { return blockedVerdict(a) }
                    let others = present.filter { $0 != a }
                    let unusable = others.filter { alone[$0]!.isEmpty }
                    let why =
                        !host.missing.isEmpty
                        ? "it is named together with \(host.missing.map(\.description).joined(separator: ", ")), which does not exist"
                        : !unusable.isEmpty
                            ? "it is named together with \(unusable.map(\.description).joined(separator: ", ")), which cannot be used in any mode"
                            : "it needs \(own), \(others.map { "\($0) needs \(alone[$0]!.first!)" }.joined(separator: ", ")): one process cannot use type1 and no-IOMMU together"
                    let cause = Impact.blocks(own, why)
                    return DeviceVerdict(address: a, mode: .unusable, readiness: .blocked, causes: [cause], ownCauses: [cause])
                }
                reasons += unique(devices.flatMap(\.reasons))
                if present.count > 1, host.missing.isEmpty, !present.allSatisfy({ alone[$0]!.isEmpty }) {
                    reasons.append(
                        "the devices have no mode in common (\(present.map { "\($0): \(alone[$0]!.map(\.rawValue).joined(separator: "/").ifEmpty("none"))" }.joined(separator: ", ")))"
                    )
                }
            }
            if mode != .unusable {
                reasons += unique(
                    present.flatMap { a in
                        modes.filter { $0 > mode }.flatMap { hostFx.of(.blocks, $0) + (deviceFx[a] ?? none).of(.blocks, $0) }.map(\.reason)
                    })
            }
            undecided = unique(
                unseen.map { missingReason($0, host) }
                    + devices.filter { $0.readiness == .unknown }.flatMap { dv in
                        dv.causes.filter { $0.kind == .undecided }.map(\.reason)
                    })
        } else {
            // No-IOMMU mode applies only to devices outside every IOMMU group: on a host whose
            // IOMMU is active it is no fallback unless some device has no real group.
            let outsideGroups =
                host.iommuActive != true
                || presentDevices.contains { d in host.group(of: d).map(\.isNoIOMMU) ?? true }
            let candidates = outsideGroups ? modes : Mode.iommuBacked
            devices = present.map { a in available(a).first.map { verdict(a, in: $0) } ?? blockedVerdict(a) }
            let provenBest = devices.filter { proven[$0.address]?.contains($0.mode) == true }.map(\.mode).max()
            let hostBest = candidates.first { !hostFx.has(.blocks, $0) } ?? .unusable
            mode = max(hostBest, provenBest ?? .unusable)
            reasons = unique(modes.filter { $0 > mode || mode == .unusable }.flatMap { hostFx.of(.blocks, $0).map(\.reason) })
            if mode != .unusable { undecided = unique(hostFx.of(.undecided, mode, proven: provenBest == mode).map(\.reason)) }
        }

        let hostActions: [String]
        if mode == .unusable {
            hostActions = []
        } else if deviceScoped {
            hostActions = unique(devices.flatMap(\.actions))
        } else {
            let proved = devices.contains { proven[$0.address]?.contains(mode) == true }
            hostActions = unique(
                hostFx.of(.requires, mode, proven: proved).flatMap(\.actions)
                    + hostFx.of(.undecided, mode, proven: proved).flatMap(\.actions))
        }
        let answer: Verdict.Answer =
            mode == .unusable
            ? (partial ? .partial : .complete)
            : !undecided.isEmpty ? .unknown : partial ? .partial : .complete
        let holdsNow =
            answer == .complete && mode != .unusable
            && (deviceScoped ? devices.allSatisfy { $0.readiness == .ready } : hostActions.isEmpty)

        var upgrade: Verdict.Upgrade?
        if mode < .vfio {
            let fx =
                hostFx.of(.blocks, .vfio) + hostFx.of(.requires, .vfio)
                + (deviceScoped ? present.flatMap { (deviceFx[$0] ?? none).of(.blocks, .vfio) } : [])
            let fixes = unique(fx.flatMap(\.actions))
            if !fixes.isEmpty { upgrade = Verdict.Upgrade(mode: .vfio, actions: fixes) }
        }
        return Fold(
            mode: mode, answer: answer, devices: devices, reasons: reasons, undecided: undecided, actions: hostActions,
            upgrade: upgrade, holdsNow: holdsNow)
    }

    /// "no such PCI device", with the address it probably meant when the host has another PCI
    /// domain with that bus, device and function (Hyper-V puts each device in a domain of its own).
    static func missingReason(_ a: PCIAddress, _ host: Host) -> String {
        if let why = host.unreadableSelected[a] { return "\(a): cannot tell whether it exists (\(why))" }
        let near = host.otherDomains[a] ?? []
        if near.isEmpty { return "\(a): no such PCI device" }
        return "\(a): no such PCI device (did you mean \(near.map(\.description).joined(separator: " or "))?)"
    }

    static func summarize(_ f: Fold, deviceScoped: Bool, notRun: [String]) -> String {
        var s: String
        switch (f.answer, f.mode) {
        case (.unknown, let m):
            s = "the mode cannot be decided (at most \(m.description))"
            if let r = f.undecided.first { s += ": \(r)" }
        case (.partial, let m) where m != .unusable:
            s = "no mode is granted: checks able to deny one did not run (at most \(m.description))"
        case (_, .vfio):
            s = "safe VFIO is usable"
            if deviceScoped {
                let ready = f.devices.filter { $0.readiness == .ready }.count
                s +=
                    ready == f.devices.count
                    ? " and the device\(f.devices.count == 1 ? " is" : "s are") ready"
                    : " once the listed actions are done (\(ready) of \(f.devices.count) ready)"
            } else if !f.actions.isEmpty {
                s += " once the listed actions are done"
            }
        case (_, .unsafeInterrupts):
            s = "only VFIO without interrupt isolation is usable: DMA is translated, but a device can forge MSIs"
            if let r = f.reasons.first { s += " (\(r))" }
            s +=
                f.actions.isEmpty ? "; the operator has allowed unsafe interrupts" : "; it needs the listed actions, which accept that risk"
        case (_, .noiommu):
            s = "only the unsafe no-IOMMU mode is usable"
            if let r = f.reasons.first { s += " (\(r))" }
            if !f.actions.isEmpty { s += "; it needs the listed actions" }
        case (_, .unusable):
            s = "VFIO is not usable"
            if let r = f.reasons.first { s += ": \(r)" }
        }
        if !notRun.isEmpty { s += " [partial verdict: \(notRun.count) check\(notRun.count == 1 ? "" : "s") not run]" }
        return s
    }
}

func unique<T: Hashable>(_ xs: [T]) -> [T] {
    if xs.count < 2 { return xs }
    if xs.count <= 8 {  // most lists: a linear scan, no set
        var out: [T] = []
        out.reserveCapacity(xs.count)
        for x in xs where !out.contains(x) { out.append(x) }
        return out
    }
    var seen: Set<T> = []
    return xs.filter { seen.insert($0).inserted }
}

extension String {
    func ifEmpty(_ other: String) -> String { isEmpty ? other : self }
}
