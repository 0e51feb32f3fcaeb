import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// `body` over consecutive slices of `0..<count`, on all cores when there are at least
/// `minimum` items (a few per core otherwise would cost more to hand out than to do), results in
/// slice order. `body` must be safe to run concurrently: the checks, the verdict and the
/// reporters are pure functions of values.
/// `perCore` slices per core: more balance the load, fewer suit a body whose fixed cost is large.
func parallelSlices<R>(_ count: Int, minimum: Int = 256, perCore: Int = 4, _ body: (Range<Int>) -> R) -> [R] {
    let cores = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    guard count >= minimum, cores > 1 else { return [body(0..<count)] }
    let slices = min(cores * perCore, count)
    let out = UnsafeMutableBufferPointer<R?>.allocate(capacity: slices)
    out.initialize(repeating: nil)
    defer {
        out.deinitialize()
        out.deallocate()
    }
    withoutActuallyEscaping(body) { body in
        nonisolated(unsafe) let results = out
        nonisolated(unsafe) let work = body
        DispatchQueue.concurrentPerform(iterations: slices) { i in
            results[i] = work((i * count / slices)..<((i + 1) * count / slices))
        }
    }
    return out.map { $0! }
}

/// `body` over `items`, in order, on all cores for a large host.
func parallelMap<T, R>(_ items: [T], _ body: (T) -> R) -> [R] {
    parallelSlices(items.count) { range in range.map { body(items[$0]) } }.flatMap { $0 }
}
