/// A check's self-description: stable id, what it checks and why, the fix, and examples that
/// are run as tests (fixture → expected status).
public struct CheckDescriptor: Sendable {
    public var id: String
    public var title: String
    public var category: Category
    public var rationale: String
    public var remedy: String
    /// The host facts it looks at, for `vfio-probe checks`.
    public var looksAt: [String]
    public var examples: [CheckExample]
    /// Earlier ids, still accepted by --only/--skip.
    public var aliases: [String]
    /// Whether its findings can deny, require or leave undecided a mode. A verdict drawn without
    /// a check that decides is partial and grants nothing; one that only informs may be skipped.
    public var decides: Bool

    public init(
        id: String, title: String, category: Category, rationale: String, remedy: String,
        looksAt: [String], examples: [CheckExample], aliases: [String] = [], decides: Bool = true
    ) {
        self.decides = decides
        self.id = id
        self.title = title
        self.category = category
        self.rationale = rationale
        self.remedy = remedy
        self.looksAt = looksAt
        self.examples = examples
        self.aliases = aliases
    }
}
