import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The one place where vfio-probe works on several cores, and the only unsafe buffers outside the
/// syscall and ioctl seam. Everything handed in is a value or Sendable, everything handed back
/// is a value, in the order of the items: callers see a `map`.
///
/// Items are taken in runs of consecutive ones as each worker gets free, so that neighbours (the
/// functions under one bridge) go to one worker and no worker idles while another has a backlog.
public enum ConcurrentMap {
    /// The cores this process may use.
    static var cores: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

    /// `body` of every item, in order: on up to `maximumWorkers` cores when there are at least
    /// `minimum` items (below it, handing work out costs more than it saves).
    public static func map<T: Sendable, R: Sendable>(
        _ items: [T], minimum: Int = 64, maximumWorkers: Int = 4, _ body: @Sendable (T) -> R
    ) -> [R] {
        map(
            items, minimum: minimum, maximumWorkers: maximumWorkers, worker: { () }, { (_: inout Void, item) in body(item) },
            finish: { _ in () }
        ).results
    }

    /// `body` of every item, in order, each worker with a state of its own (`worker()`, made on the
    /// thread that uses it: a libpci handle, which is not thread-safe, or a folder it keeps open);
    /// `finish` turns each worker's state into a value once its share is done (the problems it
    /// met), returned in worker order.
    public static func map<T: Sendable, R: Sendable, W, S: Sendable>(
        _ items: [T], minimum: Int = 64, maximumWorkers: Int = 4,
        worker: @Sendable () -> W, _ body: @Sendable (inout W, T) -> R, finish: @Sendable (W) -> S
    ) -> (results: [R], workers: [S]) {
        let workers = items.count < minimum ? 1 : max(1, min(maximumWorkers, cores, items.count))
        if workers == 1 {
            var w = worker()
            let results = items.map { body(&w, $0) }
            return (results, [finish(w)])
        }
        let results = UnsafeMutableBufferPointer<R?>.allocate(capacity: items.count)
        results.initialize(repeating: nil)
        let summaries = UnsafeMutableBufferPointer<S?>.allocate(capacity: workers)
        summaries.initialize(repeating: nil)
        defer {
            results.deinitialize()
            results.deallocate()
            summaries.deinitialize()
            summaries.deallocate()
        }
        // Each slot is written by exactly one worker, and read only after all have joined.
        nonisolated(unsafe) let resultSlots = results
        nonisolated(unsafe) let summarySlots = summaries
        let next = Atomic<Int>(0)
        // Runs of up to 8: fewer for a short list of uneven items (the checks), so that no
        // worker is handed most of the work at once.
        let run = max(1, min(8, items.count / (workers * 8)))
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            var state = worker()
            while true {
                let start = next.add(run, ordering: .relaxed).oldValue
                if start >= items.count { break }
                for i in start..<min(start + run, items.count) { resultSlots[i] = body(&state, items[i]) }
            }
            summarySlots[w] = finish(state)
        }
        return (results.map { $0! }, summaries.map { $0! })
    }
}
