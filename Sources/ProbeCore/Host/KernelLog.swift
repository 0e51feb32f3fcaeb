/// The kernel's log as the probe read it (/dev/kmsg): its records, each with the PCI function it
/// names when it names one. History, not the present: a record says what the kernel did once
/// since boot.
public struct KernelLog: Sendable, Equatable {
    public struct Record: Sendable, Equatable {
        /// The record's sequence number (the kmsg SEQ field).
        public var seq: UInt64
        /// Seconds since boot (the kmsg USEC field, in microseconds).
        public var time: Double
        /// The console log level: 0 (KERN_EMERG) to 7 (KERN_DEBUG).
        public var level: Int
        /// The text, with kmsg's escapes (\xNN) as the kernel wrote them.
        public var message: String
        /// The function the record is about: its dev_printk prefix ("vfio-pci 0000:3b:00.0: "),
        /// its DEVICE=+pci:… continuation line, or the address in the message itself ("Request
        /// device [3b:00.0]", "device=0000:3b:00.0").
        public var device: PCIAddress?
        /// Whether `device` names its PCI segment: false for "Request device [3b:00.0]"
        /// (dmar_fault_do_one prints the source id only), taken as segment 0.
        public var segmentKnown: Bool

        public init(seq: UInt64, time: Double, level: Int, message: String, device: PCIAddress? = nil) {
            self.seq = seq
            self.time = time
            self.level = level
            self.message = message
            let mention = device.map { ($0, true) } ?? KernelLog.mention(in: message)
            self.device = mention?.0
            self.segmentKnown = mention?.1 ?? true
        }

        /// The time in microseconds since boot.
        public var usec: Int64 { Int64((time * 1_000_000).rounded()) }

        /// "12.345678": seconds since boot.
        public var seconds: String {
            let m = String(usec % 1_000_000)
            return String(usec / 1_000_000) + "." + String(repeating: "0", count: max(0, 6 - m.count)) + m
        }

        /// "[   12.345678]", as dmesg shows the time.
        public var stamp: String {
            let s = seconds
            return "[" + String(repeating: " ", count: max(0, 12 - s.count)) + s + "]"
        }
    }

    public var records: [Record]
    /// Times the read found records overwritten before reaching them (EPIPE).
    public var overwritten: Int
    /// Whether the read stopped at its bound with more records left.
    public var capped: Bool
    /// Where it was read from.
    public var path: String

    public init(records: [Record], overwritten: Int = 0, capped: Bool = false, path: String = "/dev/kmsg") {
        self.records = records
        self.overwritten = overwritten
        self.capped = capped
        self.path = path
    }

    /// The records of /dev/kmsg's text (Documentation/ABI/testing/dev-kmsg): "PRI,SEQ,USEC,FLAGS;message",
    /// continuation lines " KEY=value" after it; a record that does not parse is left out.
    public init(parsing raw: KernelLogRecords, path: String = "/dev/kmsg") {
        self.init(records: raw.records.compactMap(KernelLog.record), overwritten: raw.overwritten, capped: raw.capped, path: path)
    }

    static func record(_ text: String) -> Record? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true)
        guard let first = lines.first, let semi = first.firstIndex(of: ";") else { return nil }
        let prefix = first[..<semi].split(separator: ",", omittingEmptySubsequences: false)
        guard prefix.count >= 3, let pri = Int(prefix[0]), let seq = UInt64(prefix[1]), let usec = UInt64(prefix[2]) else { return nil }
        var device: PCIAddress?
        for l in lines.dropFirst() {
            let t = l.drop { $0 == " " }
            if t.hasPrefix("DEVICE=+pci:") { device = PCIAddress(String(t.dropFirst(12))) }
        }
        let message = String(first[first.index(after: semi)...])
        return Record(seq: seq, time: Double(usec) / 1_000_000, level: pri & 7, message: message, device: device)
    }

    /// The PCI function a message names: a dev_printk prefix ("DRIVER 0000:3b:00.0: "), else
    /// the address a driver prints itself ("Request device [3b:00.0]", "device=0000:3b:00.0",
    /// "device [0000:3b:00.0]").
    static func device(in message: String) -> PCIAddress? { mention(in: message)?.address }

    /// The address a message names, and whether it gave the segment ("0000:3b:00.0") or not ("3b:00.0").
    static func mention(in message: String) -> (address: PCIAddress, segmentKnown: Bool)? {
        let words = message.split(separator: " ", maxSplits: 2)
        if words.count >= 2, words[1].hasSuffix(":"), let a = PCIAddress(String(words[1].dropLast())) {
            return (a, words[1].filter { $0 == ":" }.count == 3)
        }
        for marker in ["Request device [", "device [", "device="] {
            guard let r = message.firstRange(of: marker) else { continue }
            let rest = message[r.upperBound...].prefix { $0.isHexDigit || $0 == ":" || $0 == "." }
            if let a = PCIAddress(String(rest)) { return (a, rest.filter { $0 == ":" }.count == 2) }
        }
        return nil
    }
}
