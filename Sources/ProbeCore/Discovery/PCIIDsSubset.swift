/// The lines of pci.ids that name a host's identities: each vendor's line and the lines of its
/// devices on the host, each base class's line and its subclasses on the host. libpci parses
/// the whole database (36,000 lines) in about 11 ms, more than the rest of a `--device` run; a
/// host has a handful of identities. Equivalence with the whole file is tested (HostModelTests).
enum PCIIDsSubset {
    /// The selected lines, in the file's order; nil when `text` has no class list ("C 00"),
    /// which every pci.ids has (libpci then reads the file whole).
    @_optimize(speed)  // it reads the whole database: even a debug build runs it optimized
    static func select(_ text: [UInt8], identities: Set<PCIConfigReader.Identity>) -> [UInt8]? {
        let devices = Dictionary(grouping: identities, by: \.vendor).mapValues { Set($0.map(\.device)) }
        let classes = Dictionary(grouping: identities, by: { UInt8(truncatingIfNeeded: $0.classCode >> 16) })
            .mapValues { Set($0.map { UInt8(truncatingIfNeeded: $0.classCode >> 8) }) }
        var out: [UInt8] = []
        var vendor: Set<UInt16>?  // the devices wanted under the current vendor; nil: not wanted
        var subclasses: Set<UInt8>?  // likewise under the current base class
        var inClasses = false
        var start = text.startIndex
        while start < text.endIndex {
            let end = text[start...].firstIndex(of: 0x0a).map { $0 + 1 } ?? text.endIndex
            let line = text[start..<end]
            start = end
            guard let first = line.first, first != UInt8(ascii: "#") else { continue }
            if first == UInt8(ascii: "C"), line.count > 4, line[line.startIndex + 1] == 0x20 {
                inClasses = true
                subclasses = hex(line.dropFirst(2).prefix(2)).flatMap { classes[UInt8($0)] }
                if subclasses != nil { out += line }
            } else if first == 0x09 {
                let indented = line.dropFirst()
                guard indented.first != 0x09 else { continue }  // subsystems and programming interfaces
                if inClasses {
                    if let s = subclasses, let sub = hex(indented.prefix(2)), s.contains(UInt8(sub)) { out += line }
                } else if let v = vendor, let d = hex(indented.prefix(4)), v.contains(UInt16(d)) {
                    out += line
                }
            } else if !inClasses, line.count > 6, line[line.startIndex + 4] == 0x20 {
                vendor = hex(line.prefix(4)).flatMap { devices[UInt16($0)] }
                if vendor != nil { out += line }
            }
        }
        return inClasses ? out : nil
    }

    @_optimize(speed)
    private static func hex(_ digits: ArraySlice<UInt8>) -> UInt32? {
        guard !digits.isEmpty, digits.allSatisfy({ hexDigit($0) != nil }) else { return nil }
        return digits.reduce(0) { $0 << 4 | UInt32(hexDigit($1)!) }
    }
}
