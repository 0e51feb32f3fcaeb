/// The modes a userspace driver can use VFIO in, ordered: vfio > unsafe-interrupts > noiommu > none.
public enum Mode: String, Sendable, Codable, Comparable, CaseIterable {
    /// No mode works: VFIO is not usable ("none" in reports).
    case unusable = "none"
    case noiommu
    /// type1 or iommufd with `allow_unsafe_interrupts`: DMA is translated, MSIs are not isolated.
    case unsafeInterrupts = "unsafe-interrupts"
    case vfio

    var rank: Int {
        switch self {
        case .unusable: 0
        case .noiommu: 1
        case .unsafeInterrupts: 2
        case .vfio: 3
        }
    }
    public static func < (a: Mode, b: Mode) -> Bool { a.rank < b.rank }
    /// The modes in which VFIO works, best first.
    public static let usable: [Mode] = [.vfio, .unsafeInterrupts, .noiommu]
    /// The modes that run through an IOMMU (type1 or iommufd): everything that stops the IOMMU path
    /// stops both.
    public static let iommuBacked: [Mode] = [.vfio, .unsafeInterrupts]

    public var title: String {
        switch self {
        case .vfio: "safe VFIO (IOMMU-backed)"
        case .unsafeInterrupts: "VFIO without interrupt isolation (unsafe: allow_unsafe_interrupts, a device can forge MSIs)"
        case .noiommu: "no-IOMMU only (unsafe: no DMA isolation, taints the kernel)"
        case .unusable: "no VFIO"
        }
    }
}

extension Mode: CustomStringConvertible {
    /// The mode in prose: "safe VFIO", "VFIO without interrupt isolation", "no-IOMMU".
    public var description: String {
        switch self {
        case .vfio: "safe VFIO"
        case .unsafeInterrupts: "VFIO without interrupt isolation"
        case .noiommu: "no-IOMMU"
        case .unusable: "nothing"
        }
    }
}
