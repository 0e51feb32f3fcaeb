/// What a file handed to `vfio-probe acpi` holds: one table's bytes, acpidump's text output (every
/// table of a machine as hex), or something that is not ACPI at all. Bytes in, values out.
public enum ACPIFile: Sendable, Equatable {
    /// One table, raw: /sys/firmware/acpi/tables/SIG, `acpidump -b`'s SIG.dat, acpixtract's output.
    case table([UInt8])
    /// `acpidump`'s text format: each table as "SIG @ 0xADDRESS" and hex lines.
    case acpidumpText([ACPIDumpText.Table])
    /// Not an ACPI table: what the bytes look like instead ("an ELF file (a program or library)").
    case notATable(String)

    /// How to get tables this command reads, for an error about a file that holds none.
    public static let howToGetTables =
        "give binary tables (acpidump -b writes one SIG.dat per table; as root, /sys/firmware/acpi/tables/SIG) or acpidump's text output as it is (acpidump > tables.txt)"

    public static func identify(_ bytes: [UInt8]) -> ACPIFile {
        if bytes.isEmpty { return .notATable("an empty file") }
        if bytes.starts(with: [0x7f, 0x45, 0x4c, 0x46]) { return .notATable("an ELF file (a program, library or object file)") }
        if bytes.starts(with: [0x1f, 0x8b]) { return .notATable("gzip-compressed data (decompress it first)") }
        if bytes.starts(with: [0x28, 0xb5, 0x2f, 0xfd]) { return .notATable("zstd-compressed data (decompress it first)") }
        if bytes.starts(with: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]) { return .notATable("xz-compressed data (decompress it first)") }
        let text = ACPIDumpText.looksLikeText(bytes)
        if text {
            let tables = ACPIDumpText.parse(bytes)
            if !tables.isEmpty { return .acpidumpText(tables) }
        }
        if ACPIDumpText.isRSDP(bytes) || ACPIName.isValid(bytes.prefix(4)) && (!text || plausibleLength(bytes)) { return .table(bytes) }
        if text {
            let s = String(decoding: bytes.prefix(4096), as: UTF8.self)
            if s.contains("Intel ACPI Component Architecture") || s.contains("DefinitionBlock") || s.contains("[000h 0000") {
                return .notATable("a text file: an iasl disassembly (.dsl), not the table")
            }
            return .notATable("a text file without acpidump's \"SIG @ 0x...\" table lines")
        }
        return .notATable("data that does not start with an ACPI table signature (four letters, digits or '_')")
    }

    /// A header's length field that fits the bytes given: a binary table, not text starting with letters.
    static func plausibleLength(_ b: [UInt8]) -> Bool {
        guard b.count >= ACPIHeader.size else { return false }
        let n = Int(b[4]) | Int(b[5]) << 8 | Int(b[6]) << 16 | Int(b[7]) << 24
        return n >= ACPIHeader.size && n <= b.count
    }
}

/// ACPI names (ACPICA's acpi_ut_valid_nameseg): four of A-Z, 0-9 and '_', and '!' as the last
/// (ASF!).
public enum ACPIName {
    public static func isValid(_ name: some Collection<UInt8>) -> Bool {
        guard name.count == 4 else { return false }
        for (i, c) in name.enumerated() {
            let ok =
                (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z")) || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9"))
                || c == UInt8(ascii: "_") || (c == UInt8(ascii: "!") && i == 3)
            if !ok { return false }
        }
        return true
    }

    /// What a table that is not an IOMMU table is for, for the tables firmware commonly carries.
    public static func describe(_ signature: String) -> String? {
        switch signature {
        case "RSDP": "the root system description pointer"
        case "RSDT", "XSDT": "the list of the other tables"
        case "FACP": "FADT: fixed ACPI hardware"
        case "FACS": "the firmware ACPI control structure"
        case "DSDT": "the differentiated system description (AML)"
        case "SSDT": "a secondary system description (AML)"
        case "APIC": "MADT: the interrupt controllers"
        case "HPET": "the HPET timer"
        case "MCFG": "PCI Express configuration space (ECAM)"
        case "SRAT": "NUMA affinity of CPUs and memory"
        case "SLIT": "NUMA distances"
        case "HMAT": "memory bandwidth and latency"
        case "BGRT": "the boot logo"
        case "FPDT": "firmware boot performance"
        case "SPCR": "the serial console"
        case "DBG2", "DBGP": "the debug port"
        case "TPM2", "TCPA": "the TPM"
        case "BERT", "EINJ", "ERST", "HEST": "APEI error reporting"
        case "WAET": "the emulated devices of a virtual machine"
        case "WDAT", "WDRT": "the watchdog"
        case "PPTT": "the processor topology"
        case "PCCT": "platform communication channels"
        case "LPIT": "low-power idle states"
        case "CEDT": "CXL early discovery"
        case "CRAT", "CDIT": "AMD's component resources and distances"
        case "GTDT": "the Arm generic timers"
        case "SDEV": "secure devices"
        case "UEFI", "MSDM", "SLIC": "firmware data (UEFI, licensing)"
        default: nil
        }
    }
}

/// `acpidump`'s text output (acpidump without -b): per table a line "SIG @ 0x%016X" (ap_dump_table_buffer,
/// four characters of the signature: the RSDP's is "RSD "), then acpi_ut_dump_buffer_to_file's lines
/// "%8.4X: " offset, sixteen "%02X " bytes (three spaces for each past the end), a space and the bytes
/// as ASCII; a blank line after the table.
public enum ACPIDumpText {
    public struct Table: Sendable, Equatable {
        /// The signature as the header line gives it ("RSDP" for acpidump's "RSD ").
        public var signature: String
        public var address: UInt64
        /// The header line's number (1-based), to name the table in a report.
        public var line: Int
        /// The table's bytes, or why its hex lines did not parse.
        public var bytes: Result<[UInt8], ACPIDecodeError>
    }

    /// Printable text with line breaks and tabs, and no NUL, in the first 4 KiB (UTF-8 allowed).
    static func looksLikeText(_ bytes: [UInt8]) -> Bool {
        let head = bytes.prefix(4096)
        if head.contains(where: { $0 == 0 || ($0 < 0x20 && $0 != 0x0a && $0 != 0x0d && $0 != 0x09) || $0 == 0x7f }) { return false }
        // Valid UTF-8, allowing a character cut at the 4 KiB mark.
        for cut in 0...(bytes.count > head.count ? 3 : 0) where String(validating: head.dropLast(cut), as: UTF8.self) != nil { return true }
        return false
    }

    static func isRSDP(_ b: [UInt8]) -> Bool { b.starts(with: Array("RSD PTR ".utf8)) }

    /// Every table of the dump, in order; empty when no header line is found.
    public static func parse(_ text: [UInt8]) -> [Table] {
        let lines = text.split(separator: 0x0a, omittingEmptySubsequences: false).map { line -> ArraySlice<UInt8> in
            line.last == 0x0d ? line.dropLast() : line
        }
        var tables: [Table] = []
        var current: (signature: String, address: UInt64, line: Int, bytes: [UInt8], error: ACPIDecodeError?, ended: Bool)?
        func close() {
            guard let c = current else { return }
            let result: Result<[UInt8], ACPIDecodeError> =
                if let e = c.error { .failure(e) } else if c.bytes.isEmpty {
                    .failure(ACPIDecodeError(0, "line \(c.line): no hex lines follow the \(c.signature) header"))
                } else { .success(c.bytes) }
            tables.append(Table(signature: c.signature, address: c.address, line: c.line, bytes: result))
            current = nil
        }
        for (n, line) in lines.enumerated() {
            if let h = header(line) {
                close()
                current = (h.0, h.1, n + 1, [], nil, false)
                continue
            }
            guard current != nil, current!.error == nil else { continue }
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) {
                if !current!.bytes.isEmpty { current!.ended = true }
                continue
            }
            if current!.ended { continue }
            switch hexLine(line, expectedOffset: current!.bytes.count) {
            case .success(let bytes): current!.bytes += bytes
            case .failure(let why): current!.error = ACPIDecodeError(current!.bytes.count, "line \(n + 1): \(why)")
            }
        }
        close()
        return tables
    }

    /// "DMAR @ 0x000000007B7F5000" → ("DMAR", address).
    static func header(_ line: ArraySlice<UInt8>) -> (String, UInt64)? {
        let l = Array(line)
        guard l.count >= 10, Array(l[4..<9]) == Array(" @ 0x".utf8) else { return nil }
        let sigBytes = Array(l[0..<4])
        let sig: String
        if sigBytes == Array("RSD ".utf8) {
            sig = "RSDP"
        } else if ACPIName.isValid(sigBytes) {
            sig = String(decoding: sigBytes, as: UTF8.self)
        } else {
            return nil
        }
        var digits = l[9...]
        while let last = digits.last, last == 0x20 || last == 0x09 { digits = digits.dropLast() }
        guard !digits.isEmpty, digits.count <= 16, let address = UInt64(String(decoding: digits, as: UTF8.self), radix: 16) else {
            return nil
        }
        return (sig, address)
    }

    /// "    0010: 41 43 52 50 ...  ACRP..." → the bytes. The hex field ends at the first double
    /// space: the bytes are separated by one, and the ASCII column by two or more.
    static func hexLine(_ line: ArraySlice<UInt8>, expectedOffset: Int) -> Result<[UInt8], HexLineError> {
        let l = Array(line)
        guard let colon = l.firstIndex(of: UInt8(ascii: ":")) else { return .failure(.init("not a hex dump line")) }
        let offsetText = String(decoding: l[..<colon], as: UTF8.self).trimmingSpaces
        guard !offsetText.isEmpty, offsetText.count <= 8, let offset = Int(offsetText, radix: 16) else {
            return .failure(.init("not a hex dump line (no offset before ':')"))
        }
        guard offset == expectedOffset else {
            return .failure(.init("offset 0x\(String(offset, radix: 16)) where 0x\(String(expectedOffset, radix: 16)) was expected"))
        }
        var rest = l[(colon + 1)...]
        guard rest.first == 0x20 else { return .failure(.init("no space after the offset")) }
        rest = rest.dropFirst()
        var bytes: [UInt8] = []
        while rest.count >= 2, let hi = hexDigit(rest[rest.startIndex]), let lo = hexDigit(rest[rest.startIndex + 1]) {
            bytes.append(hi << 4 | lo)
            rest = rest.dropFirst(2)
            // One space: another byte follows; two (or the line's end): the ASCII column.
            if rest.first == 0x20 && rest.dropFirst().first != 0x20 {
                rest = rest.dropFirst()
                if bytes.count == 16 { break }
                continue
            }
            break
        }
        if bytes.isEmpty { return .failure(.init("no hex bytes after the offset")) }
        if bytes.count > 16 { return .failure(.init("more than 16 bytes on a line")) }
        return .success(bytes)
    }

    public struct HexLineError: Error, Equatable, CustomStringConvertible {
        public var description: String
        init(_ s: String) { description = s }
    }

    static func hexDigit(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

extension String {
    fileprivate var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " || s.first == "\t" { s = s.dropFirst() }
        while s.last == " " || s.last == "\t" { s = s.dropLast() }
        return String(s)
    }
}
