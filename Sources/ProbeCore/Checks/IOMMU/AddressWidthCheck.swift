/// The IOMMU's address width against the addresses a userspace driver maps: which IOVA mode to use.
public struct AddressWidthCheck: Check {
    public static let descriptor = CheckDescriptor(
        id: "iommu.address-width",
        title: "IOVA mode for the IOMMU's address width",
        category: .iommu,
        rationale:
            "DPDK and SPDK map buffers at their virtual addresses (IOVA-as-VA, --iova-mode=va) when an IOMMU translates. User addresses reach 47 bits (TASK_SIZE_MAX; with 5-level paging a process that asks mmap for more gets up to 56), so the IOMMU must address at least 47 bits: VT-d's MGAW, or the top of the IOVA ranges the kernel gives. Below that (emulated VT-d defaulted to 39 bits) IOVA-as-VA fails later with \"IOVA exceeding limits of current DMA mask\", and IOVA-as-PA works while the RAM ends below the width. Without an IOMMU only physical addresses work (no-IOMMU mode), and reading them from /proc/self/pagemap needs CAP_SYS_ADMIN (pagemap_read).",
        remedy: "Use IOVA-as-PA (DPDK: --iova-mode=pa), or a wider vIOMMU (QEMU: -device intel-iommu,aw-bits=48).",
        looksAt: ["/sys/class/iommu/dmar*/intel-iommu/cap", "/proc/cpuinfo (la57)", "/proc/iomem (System RAM)", "IOVA ranges (live)"],
        examples: [.pass("intel-vfio-ready"), .warn("intel-no-ir"), .skip("amd-host"), .info("noiommu-enabled"), .warn("budget-narrow")],
        decides: false)

    public static func evaluate(_ context: CheckContext) -> [Finding] {
        let host = context.host
        let m = IOVAMode.of(host, live: context.live)
        if !m.iommu {
            if host.noIOMMUCompiledIn != true { return [] }
            return [
                finding(
                    .info, "no IOMMU: DMA addresses are physical, --iova-mode=pa",
                    detail:
                        "IOVA-as-PA reads physical addresses from /proc/self/pagemap, which shows them only to CAP_SYS_ADMIN (pagemap_read)."
                )
            ]
        }
        guard let width = m.width else {
            if host.units.isEmpty { return [] }
            var f = skipped(
                "the address width is read from VT-d capability registers or a live walk's IOVA ranges; this host's IOMMU is \(host.units.map(\.kind.rawValue).joined(separator: ", "))"
            )
            // No VT-d unit: not a gap to be filled by root or a live walk.
            if !host.units.contains(where: { $0.kind == .intel }) { f.notApplicable = "VT-d only without a live walk" }
            return [f]
        }
        var evidence = host.units.compactMap { u in
            u.addressWidth.map { Evidence("/sys/class/iommu/\(u.name)/intel-iommu/cap", "0x\(hex(u.intelCap ?? 0, 1)) (MGAW \($0) bits)") }
        }
        if let s = m.widthSource, s.hasSuffix("(live)") { evidence.append(Evidence("live", "\(width)-bit IOVA ranges")) }
        if m.la57 { evidence.append(Evidence("/proc/cpuinfo", "la57 (5-level paging)")) }
        if let top = m.topOfRAM { evidence.append(Evidence("/proc/iomem", "System RAM ends at 0x\(hex(top - 1, 1))")) }
        let source = m.widthSource ?? "the IOMMU"
        switch m.recommended {
        case .va?:
            let detail =
                m.la57 && width < m.userBits + 1
                ? "5-level paging lets a process map up to \(m.userBits) bits when it asks mmap for such addresses; keep the driver's memory below 2^47 (DPDK's default) or use --iova-mode=pa."
                : nil
            return [
                finding(
                    .pass, "\(width)-bit IOVA space (\(source)) covers \(IOVAMode.defaultUserBits)-bit user addresses: --iova-mode=va",
                    detail: detail, evidence: evidence)
            ]
        case .pa?:
            return [
                finding(
                    .warn,
                    "\(width)-bit IOVA space (\(source)) is narrower than \(IOVAMode.defaultUserBits)-bit user addresses: use --iova-mode=pa",
                    detail:
                        "IOVA-as-PA works while the RAM ends below 2^\(width)\(m.topOfRAM == nil ? " (the RAM's end is not readable here)" : ""); it needs CAP_SYS_ADMIN to read /proc/self/pagemap.",
                    evidence: evidence)
            ]
        case nil:
            return [
                finding(
                    .warn,
                    "\(width)-bit IOVA space (\(source)) holds neither the user addresses nor the RAM (ending at 0x\(hex((m.topOfRAM ?? 1) - 1, 1)))",
                    remedy:
                        "Give the IOMMU a wider address space (QEMU: -device intel-iommu,aw-bits=48); on bare metal the unit's width is fixed.",
                    evidence: evidence)
            ]
        }
    }
}
