public enum Status: String, Sendable, Codable, CaseIterable {
    case pass, warn, fail, skip, info
}
