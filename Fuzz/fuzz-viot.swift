// libFuzzer target for the VIOT decoder. Built by scripts/fuzz.sh with
// swiftc -sanitize=fuzzer,address -parse-as-library over Sources/ACPI/*.swift and this file.
// The signature and length are forced so the fuzzer spends its time inside the VIOT body.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    var bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if bytes.count >= 8 {
        bytes.replaceSubrange(0..<4, with: Array("VIOT".utf8))
        let n = UInt32(bytes.count)
        bytes.replaceSubrange(4..<8, with: [UInt8(n & 0xff), UInt8((n >> 8) & 0xff), UInt8((n >> 16) & 0xff), UInt8(n >> 24)])
    }
    if let table = try? ACPI.decode(bytes) {
        // Touch what a caller reads, so nothing decoded lazily escapes the fuzzer.
        _ = table.fields.count + table.warnings.count + Int(table.header.length)
    }
    return 0
}
