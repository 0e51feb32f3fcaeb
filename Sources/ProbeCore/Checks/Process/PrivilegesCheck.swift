/// Who the probe runs as, and what it could not see.
public struct PrivilegesCheck: Check {
    public static let descriptor = CheckDescriptor(
        id: "process.privileges",
        title: "Privileges of this process",
        category: .process,
        rationale:
            "Firmware tables, most of config space and other processes' open files are root-only; an unprivileged run sees less and says so. CAP_IPC_LOCK, CAP_SYS_RAWIO and CAP_SYS_ADMIN change what a userspace driver may do.",
        remedy: "Run the probe as the user the userspace driver runs as; run it as root to see everything.",
        looksAt: ["/proc/self/status (Uid, CapEff)"],
        examples: [.pass("intel-vfio-ready"), .warn("nonroot")], decides: false)

    public static func evaluate(_ context: CheckContext) -> [Finding] {
        let p = context.host.process
        guard let uid = p.uid.value, let caps = p.effectiveCapabilities.value else {
            if case .unreadable(let why) = p.uid { return [skipped(why.description)] }
            return [skipped("/proc/self/status is missing or incomplete")]
        }
        let named = [
            (ProcessFacts.capIPCLock, "CAP_IPC_LOCK"), (ProcessFacts.capSysRawIO, "CAP_SYS_RAWIO"),
            (ProcessFacts.capSysAdmin, "CAP_SYS_ADMIN"),
        ]
        let have = named.filter { caps & (1 << UInt64($0.0)) != 0 }.map(\.1)
        let lack = named.filter { caps & (1 << UInt64($0.0)) == 0 }.map(\.1)
        let ev = [Evidence("/proc/self/status", "Uid \(uid), CapEff \(hex(caps, 16))")]
        if lack.isEmpty {
            return [finding(.pass, "uid \(uid) with \(have.joined(separator: ", "))", evidence: ev)]
        }
        let problems = context.host.readProblems.count
        return [
            finding(
                .warn,
                "uid \(uid) without \(lack.joined(separator: ", ")): some facts are root-only\(problems > 0 ? " (\(problems) read problems)" : "")",
                evidence: ev)
        ]
    }
}
