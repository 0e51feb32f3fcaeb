/// The kernel log's messages about one device, under the device.
public struct DeviceKernelLogCheck: Check {
    public static let descriptor = CheckDescriptor(
        id: "device.kernel-log",
        title: "What the kernel logged about the device",
        category: .device,
        rationale:
            "A device's faults, its firmware 1:1-mapping refusal, a failed vfio-pci probe or a reset it did not come back from are logged with its address: they explain a failure sysfs cannot show. They are history, so they warn without changing the device's readiness.",
        remedy: "The finding names what to do for the message it quotes.",
        looksAt: ["/dev/kmsg: messages with the function's address (dev_printk prefix, DEVICE=+pci:, or in the text)"],
        examples: [
            .warn(
                "kernel-log", device: "0000:01:00.0",
                remedy: remedy(["dmar-fault", "reset-timeout", "vfio-probe-failed"], PCIAddress(bus: 1, device: 0, function: 0))),
            .warn(
                "kernel-log", device: "0000:01:00.1",
                remedy: remedy(["invalid-rom", "flr-pending", "bar-restore"], PCIAddress(bus: 1, device: 0, function: 1))),
            .info("kernel-log", device: "0000:00:1f.2"),
        ],
        decides: false)

    public static func evaluate(_ context: CheckContext) -> [Finding] {
        let host = context.host
        guard let log = host.kernelLog.value else { return [] }
        let selected = Set(host.selected)
        var byDevice: [PCIAddress: [KernelLogEntry]] = [:]
        for e in KernelLogMatcher.entries(log, host: host) {
            if let a = e.device, selected.contains(a) { byDevice[a, default: []].append(e) }
        }
        return byDevice.keys.sorted().map { a in
            let es = byDevice[a]!
            let warned = es.filter { $0.kind.severity == .warn }
            let titles = es.map { $0.kind.title + ($0.count > 1 ? " ×\($0.count)" : "") }
            return finding(
                warned.isEmpty ? .info : .warn, .device(a), "the kernel log: \(titles.joined(separator: ", "))",
                detail: es.map { "\($0.line)\n  \($0.kind.meaning) (\($0.kind.source))" }.joined(separator: "\n"),
                remedy: remedy(warned.map(\.kind.id), a),
                evidence: es.map { Evidence(log.path, $0.first.message) })
        }
    }

    /// The remedies of these kinds, in order, once each, with the function's address for BDF.
    static func remedy(_ kinds: [String], _ a: PCIAddress) -> String? {
        var out: [String] = []
        for id in kinds {
            guard let r = KernelLogMatcher.kinds.first(where: { $0.id == id })?.remedy else { continue }
            let t = r.replacing("BDF", with: a.description)
            if !out.contains(t) { out.append(t) }
        }
        return out.isEmpty ? nil : out.joined(separator: "; ")
    }
}
