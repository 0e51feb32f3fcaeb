#if canImport(Glibc)
import Glibc
#endif

/// A node_exporter textfile-collector file (`--format prometheus`): every metric prefixed
/// `vfio_probe_`. What a fleet can afford: one series per PCI function (`vfio_probe_device`, its
/// mode, readiness and first reason as labels), one per check that is not pass
/// (`vfio_probe_check`), one per reason code and impact (`vfio_probe_reason`) and a fixed set of
/// host gauges: at most 1 series per function + O(checks), whatever the host's size.
public enum PrometheusReporter {
    static let statusOrder: [Status] = [.fail, .warn, .skip, .info, .pass]

    /// The reason code of each cause of each device's verdict: the id of the check whose finding
    /// carries the impact; `partial` when a deciding check did not run (--only/--skip), and
    /// `device-set` for what the verdict itself says of a --device set (no common mode).
    static func reasonCodes(_ r: Report) -> [PCIAddress: [(code: String, kind: Impact.Kind)]] {
        func key(_ i: Impact) -> String { "\(i.kind.rawValue)|\(i.mode.rawValue)|\(i.reason)" }
        var host: [String: String] = [:]
        var device: [PCIAddress: [String: String]] = [:]
        for f in r.findings where !f.impacts.isEmpty {
            for i in f.impacts {
                switch f.subject {
                case .host: if host[key(i)] == nil { host[key(i)] = f.checkID }
                case .device(let a): if device[a]?[key(i)] == nil { device[a, default: [:]][key(i)] = f.checkID }
                }
            }
        }
        var out: [PCIAddress: [(code: String, kind: Impact.Kind)]] = [:]
        for d in r.verdict.devices {
            var codes: [(code: String, kind: Impact.Kind)] = d.causes.map { c in
                (device[d.address]?[key(c)] ?? host[key(c)] ?? "device-set", c.kind)
            }
            if codes.isEmpty, d.readiness == .unknown { codes = [("partial", .undecided)] }
            out[d.address] = codes
        }
        return out
    }

    public static func render(_ r: Report, now: Int = Int(time(nil))) -> String {
        var out: [String] = []
        func metric(_ name: String, _ help: String, _ type: String = "gauge", _ samples: [(labels: [(String, String)], value: String)]) {
            out.append("# HELP vfio_probe_\(name) \(help)")
            out.append("# TYPE vfio_probe_\(name) \(type)")
            for s in samples {
                let labels = s.labels.isEmpty ? "" : "{" + s.labels.map { "\($0.0)=\"\(escape($0.1))\"" }.joined(separator: ",") + "}"
                out.append("vfio_probe_\(name)\(labels) \(s.value)")
            }
        }
        let v = r.verdict
        let h = r.host
        metric(
            "mode",
            "Best VFIO mode: 3 safe VFIO, 2 VFIO without interrupt isolation, 1 no-IOMMU only, 0 none, -1 unknown (partial or unreadable facts).",
            "gauge", [([], String(v.statedMode?.rank ?? -1))])
        metric(
            "verdict", "1 for the verdict's mode.", "gauge",
            (Mode.allCases.reversed().map(\.rawValue) + ["unknown"]).map { ([("mode", $0)], $0 == v.statedModeName ? "1" : "0") })
        metric(
            "exit_code", "The exit status without --require (0 vfio, 5 unsafe-interrupts, 2 noiommu, 3 none, 1 no answer).", "gauge",
            [([], String(v.exitCode))])
        metric("actions", "Actions the verdict lists for its mode.", "gauge", [([], String(v.actions.count))])
        metric("iommu_active", "1 when an IOMMU translates DMA.", "gauge", [([], h.iommuActive == true ? "1" : "0")])
        metric(
            "interrupt_remapping_active", "1 when interrupts go through remapping (IR-) chips.", "gauge",
            [([], h.kernel.interruptRemappingActive == true ? "1" : "0")])
        metric("noiommu_enabled", "1 when vfio.enable_unsafe_noiommu_mode is on.", "gauge", [([], h.noIOMMUEnabled == true ? "1" : "0")])
        metric(
            "info", "Host facts as labels.", "gauge",
            [
                (
                    [
                        ("version", Report.toolVersion), ("kernel", h.kernel.release.value ?? ""),
                        ("cpu_vendor", h.platform.cpuVendor.value?.rawValue ?? ""),
                        ("hypervisor", h.platform.hypervisor?.rawValue ?? ""),
                        ("iommu", Set(h.units.map(\.kind.rawValue)).sorted().joined(separator: ",")),
                        ("firmware_tables", (h.firmware.present.value ?? []).joined(separator: ",")),
                        ("backend", NFDReporter.backend(h) ?? ""),
                    ], "1"
                )
            ])
        metric(
            "devices", "PCI functions by readiness.", "gauge",
            Readiness.allCases.map { s in ([("readiness", s.rawValue)], String(v.devices.filter { $0.readiness == s }.count)) })
        let units = CDIReporter.units(r)
        metric(
            "units", "Assignable units (an IOMMU group's endpoint functions) by readiness.", "gauge",
            Readiness.allCases.map { s in ([("readiness", s.rawValue)], String(units.filter { $0.readiness == s }.count)) })
        // The worst status per (check, subject); a check is counted by the subjects it did not pass.
        var worst: [String: [String: Status]] = [:]
        for f in r.findings {
            let dev: String
            if case .device(let a) = f.subject { dev = a.description } else { dev = "" }
            if let w = worst[f.checkID]?[dev], statusOrder.firstIndex(of: w)! <= statusOrder.firstIndex(of: f.status)! { continue }
            worst[f.checkID, default: [:]][dev] = f.status
        }
        var checkSamples: [([(String, String)], String)] = []
        for check in worst.keys.sorted() {
            let notPass = worst[check]!.values.filter { $0 != .pass }
            guard let w = notPass.min(by: { statusOrder.firstIndex(of: $0)! < statusOrder.firstIndex(of: $1)! }) else { continue }
            checkSamples.append(([("check", check), ("status", w.rawValue)], String(notPass.count)))
        }
        metric(
            "check", "Each check that did not pass: its worst status, and how many subjects (the host, devices) it did not pass.", "gauge",
            checkSamples)
        let codes = reasonCodes(r)
        var reasonCounts: [String: Int] = [:]
        for d in v.devices {
            for key in Set((codes[d.address] ?? []).map { "\($0.code)|\($0.kind.rawValue)" }) { reasonCounts[key, default: 0] += 1 }
        }
        metric(
            "reason", "PCI functions a reason holds back: the check id that blocks or requires something, or could not decide.", "gauge",
            reasonCounts.keys.sorted().map { k in
                let parts = k.split(separator: "|", maxSplits: 1).map(String.init)
                return ([("reason", parts[0]), ("impact", parts[1])], String(reasonCounts[k]!))
            })
        var deviceSamples: [([(String, String)], String)] = []
        for d in v.devices {
            let pci = h.device(d.address)
            deviceSamples.append(
                (
                    [
                        ("device", d.address.description),
                        ("vendor_device", pci.map { "\(hex($0.vendorID, 4)):\(hex($0.deviceID, 4))" } ?? ""),
                        ("driver", pci?.driver ?? ""), ("group", pci?.iommuGroup.map(String.init) ?? ""), ("mode", d.mode.rawValue),
                        ("readiness", d.readiness.rawValue), ("reason", codes[d.address]?.first?.code ?? ""),
                    ],
                    "1"
                ))
        }
        metric("device", "One per PCI function: its mode, readiness and first reason (a check id) as labels.", "gauge", deviceSamples)
        metric("last_run_timestamp_seconds", "When the probe ran.", "gauge", [([], String(now))])
        return out.joined(separator: "\n") + "\n"
    }

    static func escape(_ s: String) -> String { Escaping.prometheusLabel(s) }
}

/// A Kubernetes node-feature-discovery local feature file (`--format nfd`), for
/// /etc/kubernetes/node-feature-discovery/features.d/: each line becomes the node label
/// feature.node.kubernetes.io/NAME=VALUE.
public enum NFDReporter {
    /// What serves VFIO: `legacy` (VFIO's container with vfio_iommu_type1), `compat` (iommufd
    /// serving /dev/vfio/vfio, CONFIG_IOMMUFD_VFIO_CONTAINER), `cdev` (no container, iommufd and
    /// /dev/iommu for the device cdevs); nil when none can be told.
    static func backend(_ h: Host) -> String? {
        switch h.containerBackend {
        case .type1?: return "legacy"
        case .iommufd?: return "compat"
        case nil: return h.modules.state("iommufd").isUsable && h.devNodes.iommufd.value != nil ? "cdev" : nil
        }
    }

    /// An assignment candidate: no bridge, no chipset function (ChipsetCheck.role: host bridges,
    /// LPC, SMBus, the IOMMU's own function).
    static func isCandidate(_ d: PCIDevice, _ h: Host) -> Bool { !d.isBridge && ChipsetCheck.role(d, h) == nil }

    public static func render(_ r: Report) -> String {
        let h = r.host
        let v = r.verdict
        let noiommu: String =
            h.noIOMMUEnabled == true
            ? "enabled" : h.noIOMMUCompiledIn == true ? "available" : h.noIOMMUCompiledIn == false ? "unavailable" : "unknown"
        let iommufd = h.modules.state("iommufd").isUsable && h.devNodes.iommufd.value != nil
        let candidates = v.devices.filter { d in h.device(d.address).map { isCandidate($0, h) } ?? false }
        let units = CDIReporter.units(r)
        var lines = [
            "# vfio-probe \(Report.toolVersion): \(Escaping.oneLine(v.summary))",
            "vfio.mode=\(v.statedModeName)",
            "vfio.iommu=\(h.iommuActive.map(String.init) ?? "unknown")",
            "vfio.noiommu=\(noiommu)",
            "vfio.iommufd=\(iommufd)",
            "vfio.interrupt-remapping=\(h.kernel.interruptRemappingActive == true || r.findings.contains { $0.checkID == InterruptRemappingCheck.descriptor.id && $0.status == .pass })",
            "vfio.ready-devices=\(candidates.filter { $0.readiness == .ready && $0.mode != .unusable }.count)",
            "vfio.bindable-devices=\(candidates.filter { $0.readiness == .bindable }.count)",
            "vfio.ready-units=\(units.filter { $0.readiness == .ready }.count)",
            "vfio.bindable-units=\(units.filter { $0.readiness == .bindable }.count)",
        ]
        if let b = backend(h) { lines.append("vfio.backend=\(b)") }
        if let vendor = h.units.first?.kind.rawValue { lines.append("vfio.iommu-vendor=\(vendor)") }
        // Ready units by the vendor:device of their first function: capacity is counted per group.
        var ready: [String: Int] = [:]
        for u in units where u.readiness == .ready {
            guard let d = u.functions.first.flatMap({ h.device($0) }) else { continue }
            ready["\(hex(d.vendorID, 4))_\(hex(d.deviceID, 4))", default: 0] += 1
        }
        for k in ready.keys.sorted() { lines.append("vfio.ready.\(k)=\(ready[k]!)") }
        return lines.joined(separator: "\n") + "\n"
    }
}
