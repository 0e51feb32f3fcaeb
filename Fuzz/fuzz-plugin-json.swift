// libFuzzer target for the site-check plugins' JSON-line parser, built by scripts/fuzz.sh with
// swiftc -sanitize=fuzzer,address -parse-as-library over JSONParser.swift, JSONValue.swift and
// this file: a plugin's output is untrusted text, and the parser must answer every line with a
// value or a Failure, never a crash, a hang or unbounded memory.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
        if let v = try? JSONParser.parse(String(line)) {
            // Render what parsed: the writer must take whatever the parser accepts.
            _ = v.render(pretty: false).utf8.count
            _ = v["id"]?.stringValue
        }
    }
    return 0
}

/// The one helper JSONValue's writer borrows from the probe.
func hex<T: BinaryInteger>(_ v: T, _ width: Int) -> String {
    let s = String(v, radix: 16)
    return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
}
