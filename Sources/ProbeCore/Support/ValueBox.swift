/// A value kept in one immutable, shared box: copies of the holder share the box, and a write
/// puts the changed value in a new one. The holders (a device, a group, a finding) stay values.
struct ValueBox<Value: Sendable>: Sendable {
    private final class Box: Sendable {
        let value: Value
        init(_ value: Value) { self.value = value }
    }
    private var box: Box

    init(_ value: Value) { box = Box(value) }

    var value: Value {
        get { box.value }
        set { box = Box(newValue) }
    }

    /// Whether both share one box (then they are equal without looking).
    func isIdentical(to other: ValueBox) -> Bool { box === other.box }
}
