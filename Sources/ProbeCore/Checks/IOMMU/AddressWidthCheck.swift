/// VT-d address width against what IOVA-as-VA needs.
public struct AddressWidthCheck: Check {
    public static let descriptor = CheckDescriptor(
        id: "iommu.address-width",
        title: "IOMMU address width suits IOVA-as-VA",
        category: .iommu,
        rationale:
            "DPDK and SPDK map buffers at their virtual addresses (IOVA-as-VA). User addresses reach 47 bits; an IOMMU whose guest address width (VT-d MGAW) is below 48 bits cannot map the top of the address space, and applications fail later with \"IOVA exceeding limits of current DMA mask\". Emulated VT-d defaulted to 39 bits.",
        remedy: "Use IOVA-as-PA (DPDK: --iova-mode=pa), or a wider vIOMMU (QEMU: -device intel-iommu,aw-bits=48).",
        looksAt: ["/sys/class/iommu/dmar*/intel-iommu/cap"],
        examples: [.pass("intel-vfio-ready"), .warn("intel-no-ir"), .skip("amd-host")], decides: false)

    public static func evaluate(_ context: CheckContext) -> [Finding] {
        let units = context.host.units.filter { $0.kind == .intel }
        let widths = units.compactMap { u in u.addressWidth.map { (u, $0) } }
        guard let narrowest = widths.min(by: { $0.1 < $1.1 }) else {
            if context.host.units.isEmpty { return [] }
            return [
                skipped(
                    "the address width is read from VT-d capability registers; this host's IOMMU is \(context.host.units.map(\.kind.rawValue).joined(separator: ", "))"
                )
            ]
        }
        let evidence = widths.map {
            Evidence("/sys/class/iommu/\($0.0.name)/intel-iommu/cap", "0x\(hex($0.0.intelCap ?? 0, 1)) (MGAW \($0.1) bits)")
        }
        if narrowest.1 < 48 {
            return [finding(.warn, "\(narrowest.0.name) addresses \(narrowest.1) bits: IOVA-as-VA may exceed it", evidence: evidence)]
        }
        return [finding(.pass, "IOMMU address width \(narrowest.1) bits", evidence: evidence)]
    }
}
