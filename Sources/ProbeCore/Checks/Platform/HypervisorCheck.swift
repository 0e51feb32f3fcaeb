/// Bare metal or guest, and what the hypervisor implies for VFIO.
public struct HypervisorCheck: Check {
    public static let descriptor = CheckDescriptor(
        id: "platform.hypervisor",
        title: "Hypervisor",
        category: .platform,
        rationale:
            "In a guest, an IOMMU exists only if the hypervisor emulates one: Hyper-V offers none, QEMU only with -device intel-iommu/amd-iommu/virtio-iommu. An emulated VT-d sets caching mode, so every map and unmap traps to the hypervisor.",
        remedy: "Give the guest a vIOMMU, or use the host for userspace drivers.",
        looksAt: [
            "/proc/cpuinfo (hypervisor flag)", "/sys/class/dmi/id/{sys_vendor,product_name}", "/sys/hypervisor/type", "/sys/bus/vmbus",
            "/sys/bus/pci/devices/0000:00:00.0/{vendor,device} (Cloud Hypervisor's host bridge 8086:0d57)",
        ],
        examples: [
            .info("intel-vfio-ready"),
            .warn("hyperv-guest", remedy: "Run the userspace driver on the host, or use a hypervisor that emulates an IOMMU."),
            .info("virtio-no-access-platform"), .info("microvm-guest"),
        ], decides: false)

    public static func evaluate(_ context: CheckContext) -> [Finding] {
        let host = context.host
        let p = host.platform
        var ev: [Evidence] = []
        if let v = p.systemVendor { ev.append(Evidence("/sys/class/dmi/id/sys_vendor", v)) }
        if let n = p.productName { ev.append(Evidence("/sys/class/dmi/id/product_name", n)) }
        if let f = p.hypervisorFlag { ev.append(Evidence("/proc/cpuinfo", f ? "hypervisor flag set" : "no hypervisor flag")) }
        guard let hv = p.hypervisor else {
            if p.hypervisorFlag == nil && p.systemVendor == nil {
                return [skipped("neither /proc/cpuinfo flags nor DMI identify the machine")]
            }
            return [finding(.info, "bare metal", evidence: ev)]
        }
        switch hv {
        case .hyperV:
            return [
                finding(
                    .warn, "a Hyper-V guest: Hyper-V offers no virtual IOMMU, so only no-IOMMU mode can work here",
                    remedy: "Run the userspace driver on the host, or use a hypervisor that emulates an IOMMU.", evidence: ev)
            ]
        default:
            let caching = host.units.contains { $0.kind == .intel && $0.cachingMode == true }
            let viommu =
                host.units.isEmpty
                ? "no vIOMMU"
                : caching
                    ? "an emulated VT-d (caching mode: every map and unmap traps to the hypervisor)"
                    : "a vIOMMU (\(host.units.map(\.name).joined(separator: ", ")))"
            if host.units.isEmpty, let fix = host.vIOMMURemedy, hv != .other {
                return [finding(.info, "a guest of \(hv.rawValue), with \(viommu)", detail: "To get one: \(fix).", evidence: ev)]
            }
            return [finding(.info, "a guest of \(hv == .other ? "an " : "")\(hv.rawValue), with \(viommu)", evidence: ev)]
        }
    }
}
