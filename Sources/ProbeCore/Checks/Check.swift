/// A check: a descriptor and a pure, non-throwing function of what the probe saw.
public protocol Check: Sendable {
    static var descriptor: CheckDescriptor { get }
    static func evaluate(_ context: CheckContext) -> [Finding]
}

extension Check {
    static var id: String { descriptor.id }
    /// A finding of this check, with the descriptor's remedy on non-pass results unless another is given.
    static func finding(
        _ status: Status, _ summary: String, detail: String? = nil,
        remedy: String? = nil, evidence: [Evidence] = [], impacts: [Impact] = []
    ) -> Finding {
        finding(status, .host, summary, detail: detail, remedy: remedy, evidence: evidence, impacts: impacts)
    }
    static func finding(
        _ status: Status, _ subject: Subject, _ summary: String, detail: String? = nil,
        remedy: String? = nil, evidence: [Evidence] = [], impacts: [Impact] = []
    ) -> Finding {
        let r = remedy ?? (status == .warn || status == .fail ? descriptor.remedy : nil)
        return Finding(descriptor.id, status, subject, summary, detail: detail, remedy: r, evidence: evidence, impacts: impacts)
    }
    static func skipped(_ why: String) -> Finding { skipped(.host, why) }
    static func skipped(_ subject: Subject, _ why: String) -> Finding {
        Finding(descriptor.id, .skip, subject, "cannot tell: \(why)")
    }
}
