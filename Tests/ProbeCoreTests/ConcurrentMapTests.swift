import Testing
@testable import ProbeCore

/// The one concurrency helper: a `map`, whatever the number of workers.
struct ConcurrentMapTests {
    @Test(arguments: [0, 1, 63, 64, 65, 1000, 4099])
    func keepsOrderLikeMap(count: Int) {
        let items = Array(0..<count)
        #expect(ConcurrentMap.map(items) { $0 * 3 + 1 } == items.map { $0 * 3 + 1 })
    }

    /// Every item is seen by exactly one worker, and every worker's state comes back.
    @Test func workerStatesAccountForEveryItem() {
        let items = Array(0..<5000)
        let (results, workers) = ConcurrentMap.map(
            items, worker: { [Int]() },
            { (seen: inout [Int], i: Int) -> Int in
                seen.append(i)
                return -i
            }, finish: { $0 })
        #expect(results == items.map { -$0 })
        #expect(workers.flatMap { $0 }.sorted() == items)
        #expect(workers.count == min(4, ConcurrentMap.cores))
    }

    @Test func belowTheMinimumOneWorker() {
        let (_, workers) = ConcurrentMap.map(Array(0..<10), worker: { 0 }, { (n: inout Int, _: Int) in n += 1 }, finish: { $0 })
        #expect(workers == [10])
    }
}
