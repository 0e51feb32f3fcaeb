import CShim
#if canImport(Glibc)
import Glibc
#endif

/// Runs `body(0..<count)` on `count` threads of its own, each with a file descriptor table of its
/// own (`unshare(CLONE_FILES)`), and returns when all have finished.
///
/// Why: in a process whose threads share one descriptor table, every call on a descriptor takes
/// and drops a reference on its file, and every open and close takes the table's lock; two cores
/// reading thousands of small sysfs files then contend on both. A thread with a table of its own
/// does neither (measured in BENCHMARKS.md).
///
/// The rule that comes with it: a descriptor opened on one of these threads exists only there.
/// `body` must close everything it opens before it returns — no `HostDirectory` it made may
/// outlive it — and hand back values, never descriptors. The descriptors open before the call
/// are copied into each table and stay usable (the HostFS root among them). Where `unshare` is
/// refused (a seccomp filter), the threads share the process's table, as threads do.
func onReaderThreads(_ count: Int, _ body: (Int) -> Void) {
    guard count > 1 else {
        if count == 1 { body(0) }
        return
    }
    withoutActuallyEscaping(body) { body in
        final class Job {
            let index: Int
            let body: (Int) -> Void
            init(_ index: Int, _ body: @escaping (Int) -> Void) {
                self.index = index
                self.body = body
            }
        }
        var threads: [pthread_t] = []
        var inline: [Int] = []
        for i in 0..<count {
            let job = Unmanaged.passRetained(Job(i, body)).toOpaque()
            var thread = pthread_t()
            let rc = pthread_create(&thread, nil, { raw in
                let job = Unmanaged<Job>.fromOpaque(raw!).takeRetainedValue()
                _ = vp_unshare_files()
                job.body(job.index)
                return nil
            }, job)
            if rc == 0 {
                threads.append(thread)
            } else {
                Unmanaged<Job>.fromOpaque(job).release()
                inline.append(i)  // no thread to be had: done here, after the others start
            }
        }
        for i in inline { body(i) }
        for t in threads { pthread_join(t, nil) }
    }
}
