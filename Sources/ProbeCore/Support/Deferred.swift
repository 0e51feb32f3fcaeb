/// A value made only when it is read: a check's prose (a summary, evidence paths, an impact's
/// reason) is formatted for the reporter that prints it, not for every one of a large host's
/// tens of thousands of findings, most of them passes the text report never shows. Made again on
/// every read (a reporter reads it once); the closure must be pure.
public struct Deferred<Value: Sendable>: Sendable {
    private enum Storage: Sendable {
        case value(Value)
        case make(@Sendable () -> Value)
    }
    private let storage: Storage

    public init(_ value: Value) { storage = .value(value) }
    public init(making make: @escaping @Sendable () -> Value) { storage = .make(make) }

    public var value: Value {
        switch storage {
        case .value(let v): v
        case .make(let make): make()
        }
    }
}
