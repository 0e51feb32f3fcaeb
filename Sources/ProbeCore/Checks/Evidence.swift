/// A file the probe read and what it saw there: every claim traces back to one.
public struct Evidence: Sendable, Equatable, Codable {
    public var path: String
    public var value: String
    public init(_ path: String, _ value: String) {
        self.path = path
        self.value = value
    }
}
