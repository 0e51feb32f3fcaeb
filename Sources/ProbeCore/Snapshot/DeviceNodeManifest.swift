/// `dev-nodes`: one node a line, `PATH c MAJOR:MINOR MODE UID GID ACCESS`, where MODE is octal and
/// ACCESS is what the capturing process could do: `rw`, `r`, `w` or `-`. Lines starting with `#`
/// are comments.
public enum DeviceNodeManifest {
    /// "PATH c MAJOR:MINOR MODE UID GID ACCESS" lines; comments, blank and malformed lines are
    /// skipped. Byte by byte: a large host's manifest has a line per group and per device cdev.
    public static func parse(_ text: String) -> [String: DeviceNode] {
        var nodes: [String: DeviceNode] = [:]
        var text = text
        text.withUTF8 { b in
            func number(_ f: UnsafeBufferPointer<UInt8>.SubSequence, radix: UInt64 = 10) -> UInt32? {
                unsignedNumber(f, radix: radix).flatMap { UInt32(exactly: $0) }
            }
            var start = 0
            for i in 0...b.count where i == b.count || b[i] == 0x0a {
                let f = b[start..<i].split(whereSeparator: { $0 == 0x20 || $0 == 0x09 || $0 == 0x0d })
                start = i + 1
                guard f.count >= 7, f[0].first != UInt8(ascii: "#"), f[1].elementsEqual("c".utf8) else { continue }
                let mm = f[2].split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
                guard mm.count == 2, let major = number(mm[0]), let minor = number(mm[1]),
                    let mode = number(f[3], radix: 8), let uid = number(f[4]), let gid = number(f[5])
                else { continue }
                let path = String(decoding: f[0], as: UTF8.self)
                nodes[path] = DeviceNode(
                    path: path, major: major, minor: minor, mode: mode, uid: uid, gid: gid,
                    readable: f[6].contains(UInt8(ascii: "r")), writable: f[6].contains(UInt8(ascii: "w")))
            }
        }
        return nodes
    }

    public static func render(_ nodes: [DeviceNode]) -> String {
        var s = "# PATH c MAJOR:MINOR MODE UID GID ACCESS(rw|r|w|-) -- written by vfio-probe\n"
        for n in nodes.sorted(by: { $0.path < $1.path }) {
            let access = (n.readable ? "r" : "") + (n.writable ? "w" : "")
            s += "\(n.path) c \(n.major):\(n.minor) \(String(n.mode, radix: 8)) \(n.uid) \(n.gid) \(access.isEmpty ? "-" : access)\n"
        }
        return s
    }
}
