/// The kernel's own log: the messages that explain an IOMMU or VFIO outcome on this host.
public struct KernelLogCheck: Check {
    public static let descriptor = CheckDescriptor(
        id: "kernel.log",
        title: "What the kernel logged about the IOMMU and VFIO",
        category: .kernel,
        rationale:
            "What sysfs shows is the present; why a bind, an attach or a reset failed, and which device faulted, is only in the kernel's log: \"No interrupt remapping support\" from type1, a DMAR or AMD-Vi fault with its address, the firmware's 1:1-mapping refusal, SEV-SNP turned off by IOMMU passthrough. The log is history (it may predate a fix), so its messages are reported, never counted against the verdict.",
        remedy: "The finding names what to do for the message it quotes.",
        looksAt: ["/dev/kmsg (one record per read, non-blocking; at most 8192 records, 2 MiB)", "/proc/sys/kernel/dmesg_restrict"],
        examples: [
            .warn("kernel-log", remedy: KernelLogMatcher.irRemedy), .info("sev-snp-ready"),
        ],
        decides: false)

    public static func evaluate(_ context: CheckContext) -> [Finding] {
        let host = context.host
        let log: KernelLog
        switch host.kernelLog {
        case .value(let l): log = l
        case .absent:
            // A tree without dev/kmsg (a fixture, an older snapshot) holds no log: nothing to say.
            guard isHostRoot(host) else { return [] }
            return [skipped("/dev/kmsg is absent (no devtmpfs on /dev, or CONFIG_PRINTK off)")]
        case .unreadable(let why):
            return [skipped("\(why): \(whoMayRead(host.dmesgRestrict.value))")]
        }
        let entries = KernelLogMatcher.entries(log, host: host).filter { hostLevel($0, host) }
        // What went wrong, a finding each; what the kernel did, one note.
        var out = entries.filter { $0.kind.severity == .warn }.map { e in
            finding(
                .warn, "\(e.kind.title): \(e.kind.meaning)", detail: e.line + "\n(\(e.kind.source))",
                remedy: e.device.map { d in e.kind.remedy?.replacing("BDF", with: d.description) } ?? e.kind.remedy,
                evidence: [Evidence(log.path, e.first.message)])
        }
        let notes = entries.filter { $0.kind.severity != .warn }
        if !notes.isEmpty {
            out.append(
                finding(
                    .info, "the kernel log notes: \(notes.map(\.kind.title).joined(separator: ", "))\(bounds(log))",
                    detail: notes.map { "\($0.line)\n  \($0.kind.meaning) (\($0.kind.source))" }.joined(separator: "\n"),
                    evidence: notes.map { Evidence(log.path, $0.first.message) }))
        }
        if out.isEmpty {
            out.append(
                finding(
                    .pass, "no message about the IOMMU or VFIO in the kernel log\(bounds(log))",
                    detail: "\(log.records.count) records read from \(log.path)"))
        } else if !bounds(log).isEmpty {
            out.append(finding(.info, "the log was read in part\(bounds(log))"))
        }
        return out
    }

    static func isHostRoot(_ host: Host) -> Bool { host.root == "/" }

    /// Who may open /dev/kmsg (devkmsg_open, check_syslog_permissions): anyone when
    /// kernel.dmesg_restrict is 0, root or CAP_SYSLOG when it is 1.
    static func whoMayRead(_ restrict: Int?) -> String {
        switch restrict {
        case 0?: "kernel.dmesg_restrict is 0, so any user may read it: a security module refused it"
        case 1?: "kernel.dmesg_restrict is 1: only root or a process with CAP_SYSLOG may read the kernel log (run vfio-probe as root)"
        default: "only root or a process with CAP_SYSLOG may read the kernel log when kernel.dmesg_restrict is 1 (run vfio-probe as root)"
        }
    }

    /// What the read left out: records overwritten before they were read, or the bound reached.
    static func bounds(_ log: KernelLog) -> String {
        var parts: [String] = []
        if log.overwritten > 0 { parts.append("records were overwritten before they were read (EPIPE \(log.overwritten)×)") }
        if log.capped { parts.append("the read stopped at its bound (8192 records, 2 MiB) with more left") }
        return parts.isEmpty ? "" : "; " + parts.joined(separator: "; ")
    }

    /// A message about no function the report shows: the host's.
    static func hostLevel(_ e: KernelLogEntry, _ host: Host) -> Bool {
        guard let a = e.device else { return true }
        return host.scope == .all && host.devices[a] == nil
    }
}
