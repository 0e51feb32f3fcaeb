// libFuzzer target for the ACPI decoders, built by scripts/fuzz.sh with
// swiftc -sanitize=fuzzer,address -parse-as-library over Sources/ACPI/*.swift and this file.
// VP_FUZZ_SIGNATURE (DMAR, IVRS, IORT or VIOT) picks the decoder: the signature and the length
// are forced so the fuzzer spends its time inside that table's body. TEXT fuzzes the file
// identification and acpidump's text format (ACPIFile, ACPIDumpText) instead.
#if canImport(Glibc)
import Glibc
#endif

let fuzzSignature: [UInt8] = {
    guard let p = getenv("VP_FUZZ_SIGNATURE") else { return Array("DMAR".utf8) }
    return Array(String(cString: p).utf8.prefix(4))
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    var bytes = Array(UnsafeBufferPointer(start: data, count: size))
    // TEXT: what `vfio-probe acpi` does with a file: identify it, read acpidump's text, decode each table.
    if fuzzSignature == Array("TEXT".utf8) {
        if case .acpidumpText(let tables) = ACPIFile.identify(bytes) {
            for t in tables { if case .success(let b) = t.bytes { _ = try? ACPI.decode(b) } }
        }
        return 0
    }
    if bytes.count >= 8 {
        bytes.replaceSubrange(0..<4, with: fuzzSignature)
        let n = UInt32(bytes.count)
        bytes.replaceSubrange(4..<8, with: [UInt8(n & 0xff), UInt8((n >> 8) & 0xff), UInt8((n >> 16) & 0xff), UInt8(n >> 24)])
    }
    if let table = try? ACPI.decode(bytes) {
        // Touch what a caller reads, so nothing decoded lazily escapes the fuzzer.
        _ = table.fields.count + table.warnings.count + Int(table.header.length)
    }
    return 0
}
