extension HostReader {
    /// This process's user, capabilities and memlock limit, from /proc/self.
    func readProcess() -> ProcessFacts {
        let status = fs.read("/proc/self/status").text.map(ProcessFacts.parseStatus)
        let limits = fs.read("/proc/self/limits").text
        let memlock: Reading<UInt64?> = limits.flatMap { t in
            ProcessFacts.parseMemlock(t).map { .value($0) } ?? .unreadable(.malformed("/proc/self/limits", "no \"Max locked memory\" line"))
        }
        func field<T>(_ f: @escaping ((uid: UInt32?, capEff: UInt64?)) -> T?, _ what: String) -> Reading<T> {
            status.flatMap { s in f(s).map { .value($0) } ?? .unreadable(.malformed("/proc/self/status", "no \(what) line")) }
        }
        return ProcessFacts(uid: field({ $0.uid }, "Uid:"), effectiveCapabilities: field({ $0.capEff }, "CapEff:"), memlockLimit: memlock)
    }
}
