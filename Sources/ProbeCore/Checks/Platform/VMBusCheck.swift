/// Hyper-V VMBus devices and uio_hv_generic.
public struct VMBusCheck: Check {
    public static let descriptor = CheckDescriptor(
        id: "platform.vmbus",
        title: "VMBus devices are not handed to userspace unsafely",
        category: .platform,
        rationale:
            "On Hyper-V, network devices are VMBus devices, not PCI: DPDK's netvsc PMD takes them through uio_hv_generic, which gives userspace the device with no IOMMU isolation, taints nothing and warns no one.",
        remedy:
            "Treat uio_hv_generic as trusted-userspace only; prefer the kernel netvsc driver or an SR-IOV VF (PCI, mlx5) for untrusted workloads.",
        looksAt: ["/sys/bus/vmbus/devices/*/{class_id,driver}"],
        examples: [.fail("hyperv-guest"), .info("intel-vfio-ready")], decides: false)

    public static func evaluate(_ context: CheckContext) -> [Finding] {
        switch context.host.vmbus {
        case .unreadable(let why): return [skipped(why.description)]
        case .absent: return [finding(.info, "no VMBus (not a Hyper-V guest)")]
        case .value(let devs):
            let uio = devs.filter { $0.driver == "uio_hv_generic" }
            let ev = devs.map { Evidence("/sys/bus/vmbus/devices/\($0.id)/driver", $0.driver ?? "(none)") }
            if !uio.isEmpty {
                return [
                    finding(
                        .fail,
                        "\(uio.count) of \(devs.count) VMBus device\(devs.count == 1 ? "" : "s") on uio_hv_generic: userspace owns them with no isolation",
                        evidence: ev)
                ]
            }
            return [finding(.info, "\(devs.count) VMBus device\(devs.count == 1 ? "" : "s"), none on uio_hv_generic", evidence: ev)]
        }
    }
}
