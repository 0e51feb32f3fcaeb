/// vfio_iommu_type1.dma_entry_limit.
public struct DMAEntryLimitCheck: Check {
    public static let descriptor = CheckDescriptor(
        id: "vfio.dma-entry-limit",
        title: "type1 DMA mapping limit",
        category: .vfio,
        rationale:
            "type1 allows at most dma_entry_limit mappings per container (65535 by default); past it VFIO_IOMMU_MAP_DMA fails with ENOSPC. Applications that map many small buffers (4 KiB pages instead of hugepages) reach it.",
        remedy: Actions.Remedy.dmaEntryLimit,
        looksAt: ["/sys/module/vfio_iommu_type1/parameters/dma_entry_limit"],
        examples: [.pass("intel-vfio-ready"), .warn("shared-group")], decides: false)

    public static let kernelDefault = 65535

    public static func evaluate(_ context: CheckContext) -> [Finding] {
        let path = "/sys/module/vfio_iommu_type1/parameters/dma_entry_limit"
        switch context.host.modules.parameter("vfio_iommu_type1", "dma_entry_limit") {
        case .unreadable(let why): return [skipped(why.description)]
        case .absent: return []
        case .value(let v):
            guard let limit = Int(v) else {
                return [finding(.warn, "dma_entry_limit reads \"\(v)\", not a number", evidence: [Evidence(path, v)])]
            }
            if limit < kernelDefault {
                return [
                    finding(
                        .warn, "dma_entry_limit is \(limit), below the kernel's default \(kernelDefault)", evidence: [Evidence(path, v)])
                ]
            }
            return [finding(.pass, "dma_entry_limit is \(limit) mappings per container", evidence: [Evidence(path, v)])]
        }
    }
}
