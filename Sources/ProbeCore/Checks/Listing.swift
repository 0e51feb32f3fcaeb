/// Lists of functions in findings, kept short: a bus of 64 VFs, a group of 200 functions or a
/// switch full of NVMe disks would otherwise write every name into every member's finding.
enum Listing {
    /// At most eight names, then how many more.
    static func some(_ names: [String]) -> [String] {
        names.count <= 8 ? names : Array(names.prefix(8)) + ["and \(names.count - 8) more"]
    }

    /// At most eight addresses (each as `describe` puts it), then how many more, in one phrase.
    static func some(_ addresses: [PCIAddress], as describe: (PCIAddress) -> String = { $0.description }) -> String {
        (addresses.prefix(8).map(describe) + (addresses.count > 8 ? ["and \(addresses.count - 8) more"] : [])).joined(separator: ", ")
    }
}
