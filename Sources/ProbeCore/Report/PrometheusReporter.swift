#if canImport(Glibc)
import Glibc
#endif

/// A node_exporter textfile-collector file (`--format prometheus`): every metric prefixed
/// `vfio_probe_`, one sample per state so alerts can match on labels.
public enum PrometheusReporter {
    static let statusOrder: [Status] = [.fail, .warn, .skip, .info, .pass]

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
                    ], "1"
                )
            ])
        // Worst status per (check, subject), one sample per status.
        var worst: [String: (check: String, device: String, status: Status)] = [:]
        for f in r.findings {
            let dev: String
            if case .device(let a) = f.subject { dev = a.description } else { dev = "" }
            let key = f.checkID + "|" + dev
            if let w = worst[key], statusOrder.firstIndex(of: w.status)! <= statusOrder.firstIndex(of: f.status)! { continue }
            worst[key] = (f.checkID, dev, f.status)
        }
        var checkSamples: [([(String, String)], String)] = []
        for key in worst.keys.sorted() {
            let w = worst[key]!
            for s in statusOrder {
                var labels = [("check", w.check)]
                if !w.device.isEmpty { labels.append(("device", w.device)) }
                labels.append(("status", s.rawValue))
                checkSamples.append((labels, s == w.status ? "1" : "0"))
            }
        }
        metric("check_status", "1 for each check's worst status (per device for device checks).", "gauge", checkSamples)
        var deviceSamples: [([(String, String)], String)] = []
        for d in v.devices {
            let pci = h.device(d.address)
            for state in Readiness.allCases {
                deviceSamples.append(
                    (
                        [
                            ("device", d.address.description),
                            ("vendor_device", pci.map { "\(hex($0.vendorID, 4)):\(hex($0.deviceID, 4))" } ?? ""),
                            ("driver", pci?.driver ?? ""), ("mode", d.mode.rawValue), ("readiness", state.rawValue),
                        ],
                        d.readiness == state ? "1" : "0"
                    ))
            }
        }
        metric("device_readiness", "1 for each device's readiness in its mode.", "gauge", deviceSamples)
        metric("last_run_timestamp_seconds", "When the probe ran.", "gauge", [([], String(now))])
        return out.joined(separator: "\n") + "\n"
    }

    static func escape(_ s: String) -> String { Escaping.prometheusLabel(s) }
}

/// A Kubernetes node-feature-discovery local feature file (`--format nfd`), for
/// /etc/kubernetes/node-feature-discovery/features.d/: each line becomes the node label
/// feature.node.kubernetes.io/NAME=VALUE.
public enum NFDReporter {
    public static func render(_ r: Report) -> String {
        let h = r.host
        let v = r.verdict
        let noiommu: String =
            h.noIOMMUEnabled == true
            ? "enabled" : h.noIOMMUCompiledIn == true ? "available" : h.noIOMMUCompiledIn == false ? "unavailable" : "unknown"
        let iommufd = h.modules.state("iommufd").isUsable && h.devNodes.iommufd.value != nil
        var lines = [
            "# vfio-probe \(Report.toolVersion): \(Escaping.oneLine(v.summary))",
            "vfio.mode=\(v.statedModeName)",
            "vfio.iommu=\(h.iommuActive.map(String.init) ?? "unknown")",
            "vfio.noiommu=\(noiommu)",
            "vfio.iommufd=\(iommufd)",
            "vfio.interrupt-remapping=\(h.kernel.interruptRemappingActive == true || r.findings.contains { $0.checkID == InterruptRemappingCheck.descriptor.id && $0.status == .pass })",
            "vfio.ready-devices=\(v.devices.filter { $0.readiness == .ready && $0.mode != .unusable }.count)",
            "vfio.bindable-devices=\(v.devices.filter { $0.readiness == .bindable }.count)",
        ]
        if let vendor = h.units.first?.kind.rawValue { lines.append("vfio.iommu-vendor=\(vendor)") }
        return lines.joined(separator: "\n") + "\n"
    }
}
