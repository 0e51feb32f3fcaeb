/// Everything a reporter renders: the snapshot, the checks that ran, their findings and the verdict.
public struct Report: Sendable {
    public var host: Host
    public var checks: [CheckDescriptor]
    public var findings: [Finding]
    public var verdict: Verdict
    public var deviceScoped: Bool
    public var live: LiveReport?
    /// The mode `--require` asked for, if any: the exit status is then the gate's.
    public var required: Mode?
    /// The workload the verdict answers for (`--memory`), if stated.
    public var workload = Workload()

    /// The process's exit status: the gate's with --require, else the verdict's.
    public var exitStatus: Int32 { verdict.exitStatus(requiring: required) }

    public static let schemaVersion = 2
    public static let toolVersion = "0.1.0"

    public init(host: Host, checks: [CheckDescriptor], findings: [Finding], verdict: Verdict, deviceScoped: Bool, live: LiveReport? = nil) {
        self.live = live
        self.host = host
        self.checks = checks
        self.findings = findings
        self.verdict = verdict
        self.deviceScoped = deviceScoped
    }

    public var hostFindings: [Finding] { findings.filter { $0.subject == .host } }
}
