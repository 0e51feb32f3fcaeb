/// Can the PCI functions be listed at all?
public struct PCIBusCheck: Check {
    public static let descriptor = CheckDescriptor(
        id: "platform.pci-bus",
        title: "The PCI functions can be listed",
        category: .platform,
        rationale:
            "Every answer is about the PCI functions under /sys/bus/pci/devices. A folder the probe may not search (a restricted container, a tree copied without permissions) hides them: no function is then a fact nobody saw, and no mode may be granted or a device called missing on it.",
        remedy: "Run vfio-probe as root on the host, with /sys mounted whole (in a container: bind-mount the host's /sys read-only).",
        looksAt: ["/sys/bus/pci/devices"],
        examples: [.pass("intel-vfio-ready"), .skip("unreadable-sys")])

    public static func evaluate(_ context: CheckContext) -> [Finding] {
        let host = context.host
        if let why = host.deviceListProblem {
            var f = skipped("the PCI functions cannot be listed: \(why)")
            f.impacts = Impact.undecided(
                Mode.usable, "the PCI functions cannot be listed (\(why))",
                ["run vfio-probe as root on the host, with /sys mounted whole (sys/bus/pci/devices)"])
            return [f]
        }
        if !host.unreadableSelected.isEmpty {
            let why = host.unreadableSelected.keys.sorted().map { "\($0): \(host.unreadableSelected[$0]!)" }.joined(separator: "; ")
            var f = skipped("named functions cannot be read: \(why)")
            f.impacts = Impact.undecided(
                Mode.usable, "named functions cannot be read (\(why))",
                ["run vfio-probe as root on the host, with /sys mounted whole (sys/bus/pci/devices)"])
            return [f]
        }
        guard host.scope == .all else { return [] }
        let n = host.selected.count
        if n == 0 {
            return [
                finding(
                    .info, "no PCI functions: this machine has no PCI bus to assign from",
                    evidence: [Evidence("/sys/bus/pci/devices", "empty")])
            ]
        }
        return [finding(.pass, "\(n) PCI function\(n == 1 ? "" : "s")", evidence: [Evidence("/sys/bus/pci/devices", "\(n) entries")])]
    }
}
