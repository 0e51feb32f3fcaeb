public import ACPI

/// ACPI tables that announce an IOMMU. Presence comes from the directory listing, which
/// anyone may read; the tables' contents are root-only.
public struct FirmwareTables: Sendable {
    public static let iommuSignatures = ["DMAR", "IVRS", "IORT", "VIOT"]
    /// Signatures found in /sys/firmware/acpi/tables (DMAR, IVRS, IORT, VIOT).
    public var present: Reading<[String]>
    /// Raw bytes of each present IOMMU table, when readable.
    public var contents: [String: Reading<[UInt8]>]
    /// Each readable table decoded, or why it could not be.
    public var decoded: [String: Result<DecodedTable, ACPIDecodeError>] = [:]
    /// Memory the firmware requires mapped 1:1 (DMAR RMRR, IVRS IVMD), with the PCI functions it
    /// names resolved through the bridges' secondary bus numbers.
    public var identityMaps: [IdentityMap] = []

    /// Which devices the firmware puts behind an IOMMU (DRHD and IVHD scopes); nil when no
    /// DMAR or IVRS could be read.
    public var coverage: IOMMUCoverage?

    public var dmar: DMAR? { if case .success(let t)? = decoded["DMAR"], case .dmar(let d) = t.body { d } else { nil } }
    public var ivrs: IVRS? { if case .success(let t)? = decoded["IVRS"], case .ivrs(let i) = t.body { i } else { nil } }
    public var iort: IORT? { if case .success(let t)? = decoded["IORT"], case .iort(let i) = t.body { i } else { nil } }
}
