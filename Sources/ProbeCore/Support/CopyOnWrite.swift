/// A value kept in one shared box and copied only when written through a shared reference: the
/// host's devices and groups and the checks' findings are copied into lists, the verdict and
/// the reporters by the thousand, and a copy is then one reference rather than one per field.
/// The types that use it stay values.
struct CopyOnWrite<Value>: @unchecked Sendable {
    private final class Box {
        var value: Value
        init(_ value: Value) { self.value = value }
    }
    private var box: Box

    init(_ value: Value) { box = Box(value) }

    var value: Value {
        _read { yield box.value }
        _modify {
            if !isKnownUniquelyReferenced(&box) { box = Box(box.value) }
            yield &box.value
        }
    }

    /// Whether both share one box (then they are equal without looking).
    func isIdentical(to other: CopyOnWrite) -> Bool { box === other.box }
}
