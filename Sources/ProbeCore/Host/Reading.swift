/// A fact read from the host: its value, its absence, or the reason it could not be read.
/// Checks map `.unreadable` to `skip` and never guess.
public enum Reading<Value> {
    case value(Value)
    case absent
    case unreadable(HostFSError)

    /// Why it could not be read, when it could not.
    public var failure: HostFSError? {
        if case .unreadable(let e) = self { return e }
        return nil
    }

    public var value: Value? {
        if case .value(let v) = self { return v }
        return nil
    }

    public var isUnreadable: Bool {
        if case .unreadable = self { return true }
        return false
    }

    public func map<T>(_ f: (Value) -> T) -> Reading<T> {
        switch self {
        case .value(let v): .value(f(v))
        case .absent: .absent
        case .unreadable(let why): .unreadable(why)
        }
    }
}

extension Reading: Equatable where Value: Equatable {}
extension Reading: Sendable where Value: Sendable {}

extension Reading {
    /// Runs a HostFS read: missing becomes `.absent`, every other failure `.unreadable`.
    init(_ body: () throws(HostFSError) -> Value) {
        do {
            self = .value(try body())
        } catch .missing {
            self = .absent
        } catch {
            self = .unreadable(error)
        }
    }
}

extension Reading {
    /// A reading that depends on this one's value (a file in a folder that was opened).
    public func flatMap<T>(_ f: (Value) -> Reading<T>) -> Reading<T> {
        switch self {
        case .value(let v): f(v)
        case .absent: .absent
        case .unreadable(let why): .unreadable(why)
        }
    }
}
