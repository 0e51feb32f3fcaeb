/// The kernel's log as /dev/kmsg hands it out: each record's text ("PRI,SEQ,USEC,FLAGS;message",
/// then its continuation lines, each starting with a space), oldest first, bounded.
public struct KernelLogRecords: Sendable, Equatable {
    public var records: [String]
    /// How many times the read found records overwritten before it reached them (EPIPE).
    public var overwritten: Int
    /// Whether the read stopped at its bound (records or bytes) with more to read.
    public var capped: Bool

    public init(records: [String], overwritten: Int = 0, capped: Bool = false) {
        self.records = records
        self.overwritten = overwritten
        self.capped = capped
    }

    /// A tree's dev/kmsg (a regular file): a record per line, a line that starts with a space
    /// continuing the record before it.
    static func split(_ text: String, maxRecords: Int) -> KernelLogRecords {
        var out: [String] = []
        var capped = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            if line.hasPrefix(" ") {
                if !out.isEmpty { out[out.count - 1] += "\n" + line }
                continue
            }
            if out.count >= maxRecords {
                capped = true
                break
            }
            out.append(String(line))
        }
        return KernelLogRecords(records: out, capped: capped)
    }
}
