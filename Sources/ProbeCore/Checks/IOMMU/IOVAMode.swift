/// Which IOVAs a userspace driver should program: its virtual addresses (IOVA-as-VA, DPDK's
/// `--iova-mode=va`) or the physical ones (`pa`). Derived from the IOMMU's address width and the
/// process's address space; pure.
public struct IOVAMode: Sendable, Equatable {
    public enum Choice: String, Sendable {
        case va, pa
    }
    /// nil: no choice works (neither the user addresses nor the RAM fit the IOMMU).
    public var recommended: Choice?
    /// The IOVA bits the IOMMU translates (nil without an IOMMU, or when it cannot be told).
    public var width: Int?
    /// Where the width comes from: "IOVA ranges (live)", "dmar0 MGAW".
    public var widthSource: String?
    /// The bits a user virtual address can have (47, or 56 with 5-level paging).
    public var userBits: Int
    /// Whether 5-level paging lets a process ask for addresses above 47 bits.
    public var la57: Bool
    /// The end of the highest System RAM range (/proc/iomem), when readable.
    public var topOfRAM: UInt64?
    /// Whether an IOMMU translates at all (false: no-IOMMU mode, physical addresses only).
    public var iommu: Bool

    /// DPDK keeps its memory below 2^47 unless asked (its virtual areas are plain mmap hints), so
    /// 47 bits are what IOVA-as-VA needs by default.
    public static let defaultUserBits = 47

    public static func of(_ host: Host, live: LiveReport?) -> IOVAMode {
        let la57 = host.platform.la57 == true
        var m = IOVAMode(
            recommended: nil, width: nil, widthSource: nil, userBits: host.platform.userAddressBits ?? defaultUserBits, la57: la57,
            topOfRAM: host.memory.topOfRAM, iommu: host.iommuActive != false)
        guard m.iommu else {
            m.recommended = .pa
            return m
        }
        let walks = (live.map { Array($0.devices.values.joined()) } ?? []).filter { $0.kind != .noiommu }
        if let top = walks.compactMap({ $0.facts.iovaRanges.map(\.last).max() }).min() {
            m.width = 64 - top.leadingZeroBitCount
            m.widthSource = "the IOVA ranges the kernel gave (live)"
        } else if let u = host.units.filter({ $0.addressWidth != nil }).min(by: { $0.addressWidth! < $1.addressWidth! }) {
            m.width = u.addressWidth
            m.widthSource = "\(u.name)'s MGAW"
        }
        guard let width = m.width else { return m }
        if width >= defaultUserBits {
            m.recommended = .va
        } else if let top = m.topOfRAM, width < 64, top > UInt64(1) << UInt64(width) {
            m.recommended = nil  // RAM ends above what the IOMMU addresses: pa does not fit either
        } else {
            m.recommended = .pa
        }
        return m
    }
}
