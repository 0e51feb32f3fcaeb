/// What a finding is about.
public enum Subject: Hashable, Sendable {
    case host
    case device(PCIAddress)
}
