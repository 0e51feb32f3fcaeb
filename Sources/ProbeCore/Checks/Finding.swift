/// One result of one check. A value: its fields sit in one immutable box, shared by the copies
/// in the registry's list, the verdict and the reporters, and a write makes a new box.
@dynamicMemberLookup
public struct Finding: Sendable, Equatable {
    public struct Fields: Sendable, Equatable {
        public var checkID: String
        public var status: Status
        public var subject: Subject
        /// One line: what was found.
        public var summary: String
        /// More explanation, when it helps.
        public var detail: String?
        /// What to do; set on every non-pass finding that has a fix.
        public var remedy: String?
        public var evidence: [Evidence]
        public var impacts: [Impact]
        /// Set on a `skip` that is no gap in the answer: the check does not apply to this
        /// platform ("VT-d and AMD-Vi only"). The text report shows it only at `-v`, as n/a.
        public var notApplicable: String? = nil
    }

    private var box: ValueBox<Fields>

    public subscript<T>(dynamicMember kp: KeyPath<Fields, T>) -> T { box.value[keyPath: kp] }
    public subscript<T>(dynamicMember kp: WritableKeyPath<Fields, T>) -> T {
        get { box.value[keyPath: kp] }
        set { box.value[keyPath: kp] = newValue }
    }

    public init(
        _ checkID: String, _ status: Status, _ subject: Subject = .host, _ summary: String,
        detail: String? = nil, remedy: String? = nil, evidence: [Evidence] = [], impacts: [Impact] = []
    ) {
        box = ValueBox(
            Fields(
                checkID: checkID, status: status, subject: subject, summary: summary, detail: detail, remedy: remedy,
                evidence: evidence, impacts: impacts))
    }

    public static func == (a: Finding, b: Finding) -> Bool { a.box.isIdentical(to: b.box) || a.box.value == b.box.value }
}
