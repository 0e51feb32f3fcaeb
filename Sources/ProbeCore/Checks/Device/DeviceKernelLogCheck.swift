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
                remedy:
                    "Find who drove the device at that time (the time stamp against the guest's start); in a guest, a driver fault or a vIOMMU without caching mode; a device with firmware-reserved memory (RMRR: USB, integrated GPU) faults when that region is not mapped; Try another reset method (echo bus > /sys/bus/pci/devices/BDF/reset_method, as root), a vendor reset module, or a firmware update for the device; Read the lines before it for the cause; vfio-probe --device BDF says what the device lacks"
            ),
            .info("kernel-log", device: "0000:00:1f.2"),
        ],
        decides: false)

    public static func evaluate(_ context: CheckContext) -> [Finding] {
        let host = context.host
        guard let log = host.kernelLog.value else { return [] }
        let selected = Set(host.selected)
        var byDevice: [PCIAddress: [KernelLogEntry]] = [:]
        for e in KernelLogMatcher.entries(log) {
            if let a = e.device, selected.contains(a) { byDevice[a, default: []].append(e) }
        }
        return byDevice.keys.sorted().map { a in
            let es = byDevice[a]!
            let warned = es.filter { $0.kind.severity == .warn }
            let titles = es.map { $0.kind.title + ($0.count > 1 ? " ×\($0.count)" : "") }
            var remedies: [String] = []
            for e in warned { if let r = e.kind.remedy, !remedies.contains(r) { remedies.append(r) } }
            return finding(
                warned.isEmpty ? .info : .warn, .device(a), "the kernel log: \(titles.joined(separator: ", "))",
                detail: es.map { "\($0.line)\n  \($0.kind.meaning) (\($0.kind.source))" }.joined(separator: "\n"),
                remedy: remedies.isEmpty ? nil : remedies.map { $0.hasSuffix(".") ? String($0.dropLast()) : $0 }.joined(separator: "; "),
                evidence: es.map { Evidence(log.path, $0.first.message) })
        }
    }
}
