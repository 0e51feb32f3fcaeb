/// The kernel's taint flags.
public struct TaintCheck: Check {
    public static let descriptor = CheckDescriptor(
        id: "kernel.taint",
        title: "Kernel taint",
        category: .kernel,
        rationale:
            "Using a device in no-IOMMU mode taints the kernel (U, TAINT_USER): bug reports from such a kernel are not taken upstream. Other taints are shown for context.",
        remedy: "Taint clears only at reboot.",
        looksAt: ["/proc/sys/kernel/tainted"],
        examples: [.pass("intel-vfio-ready"), .info("noiommu-enabled")], decides: false)

    public static func evaluate(_ context: CheckContext) -> [Finding] {
        switch context.host.kernel.taint {
        case .unreadable(let why): return [skipped(why.description)]
        case .absent: return [skipped("/proc/sys/kernel/tainted does not exist")]
        case .value(let t):
            let ev = [Evidence("/proc/sys/kernel/tainted", String(t))]
            if t == 0 { return [finding(.pass, "the kernel is not tainted", evidence: ev)] }
            let flags = Kernel.taintNames.filter { t & (1 << UInt64($0.bit)) != 0 }
            let text = flags.map { "\($0.letter) (\($0.meaning))" }.joined(separator: ", ")
            let noiommu = t & (1 << 6) != 0 && context.host.groups.values.contains(where: \.isNoIOMMU)
            return [finding(.info, "tainted: \(text)\(noiommu ? "; U is what no-IOMMU use sets" : "")", evidence: ev)]
        }
    }
}
