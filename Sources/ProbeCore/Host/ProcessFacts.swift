/// The probe's own process: who it runs as and what it may do. Read from /proc/self, so a
/// fixture describes the process that would run the probe there.
public struct ProcessFacts: Sendable {
    public var uid: Reading<UInt32>
    public var effectiveCapabilities: Reading<UInt64>
    /// RLIMIT_MEMLOCK soft limit in bytes; nil value means unlimited.
    public var memlockLimit: Reading<UInt64?>

    public static let capSysAdmin = 21
    public static let capSysRawIO = 17
    public static let capIPCLock = 14

    public func has(_ capability: Int) -> Bool? {
        effectiveCapabilities.value.map { $0 & (1 << UInt64(capability)) != 0 }
    }
    public var isRoot: Bool? { uid.value.map { $0 == 0 } }

    /// Parses "Uid:\t1000\t1000\t1000\t1000" → effective uid, "CapEff:\t0000003fffffffff".
    static func parseStatus(_ text: String) -> (uid: UInt32?, capEff: UInt64?) {
        var uid: UInt32?
        var cap: UInt64?
        for line in text.split(separator: "\n") {
            let f = line.split(whereSeparator: { $0 == "\t" || $0 == " " })
            if f.first == "Uid:", f.count >= 3 { uid = UInt32(f[2]) }
            if f.first == "CapEff:", f.count >= 2 { cap = UInt64(f[1], radix: 16) }
        }
        return (uid, cap)
    }

    /// Parses the "Max locked memory" line of /proc/self/limits; .some(nil) is unlimited.
    static func parseMemlock(_ text: String) -> UInt64?? {
        for line in text.split(separator: "\n") where line.hasPrefix("Max locked memory") {
            let f = line.dropFirst("Max locked memory".count).split(separator: " ", omittingEmptySubsequences: true)
            guard let soft = f.first else { return nil }
            if soft == "unlimited" { return .some(nil) }
            if let v = UInt64(soft) { return .some(v) }
        }
        return nil
    }
}
