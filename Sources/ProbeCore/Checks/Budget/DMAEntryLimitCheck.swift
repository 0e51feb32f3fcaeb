/// vfio_iommu_type1.dma_entry_limit.
public struct DMAEntryLimitCheck: Check {
    public static let descriptor = CheckDescriptor(
        id: "vfio.dma-entry-limit",
        title: "type1 DMA mapping limit",
        category: .vfio,
        rationale:
            "type1 allows at most dma_entry_limit mappings per container (65535 by default; vfio_iommu_type1_open copies it into dma_avail); past it VFIO_IOMMU_MAP_DMA fails with ENOSPC (vfio_dma_do_map). A driver that maps page by page (DPDK maps each memseg on its own) makes one mapping per page: 65535 × 4 KiB is 256 MiB, × 2 MiB hugepages 128 GiB. With --memory the workload's mappings are counted against it. iommufd, serving the container or the cdev path, counts no mappings.",
        remedy: Actions.Remedy.dmaEntryLimit,
        looksAt: ["/sys/module/vfio_iommu_type1/parameters/dma_entry_limit", "VFIO_IOMMU_GET_INFO DMA_AVAIL (live)"],
        examples: [
            .pass("intel-vfio-ready"), .warn("shared-group"),
            .warn("intel-vfio-ready", remedy: remedy(raise: 262144), workload: Workload(memory: 1 << 30, hugepageSize: 4096)),
            .pass("intel-vfio-ready", workload: Workload(memory: 64 << 30, hugepageSize: 2 << 20)),
        ], decides: false)

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
            let ev = [Evidence(path, v)]
            if let needed = context.workload.mappings(on: context.host), context.host.containerBackend == .type1 {
                return [workload(context, needed: needed, limit: limit, evidence: ev)]
            }
            if limit < kernelDefault {
                return [finding(.warn, "dma_entry_limit is \(limit), below the kernel's default \(kernelDefault)", evidence: ev)]
            }
            return [finding(.pass, "dma_entry_limit is \(limit) mappings per container", evidence: ev)]
        }
    }

    /// The stated workload's mappings against the limit, or against what a live walk's
    /// VFIO_IOMMU_GET_INFO says is left (other mappings in the container count too).
    static func workload(_ context: CheckContext, needed: Int, limit: Int, evidence: [Evidence]) -> Finding {
        let page = context.workload.pageSize(on: context.host).size
        let memory = ByteCount.text(context.workload.memory ?? 0)
        let live = DMABudget.entryLimit(context.host, live: context.live)
        let allowed = live?.count ?? limit
        let source = live?.live == true ? "VFIO_IOMMU_GET_INFO leaves \(allowed) mappings" : "dma_entry_limit is \(limit)"
        if needed <= allowed {
            return finding(.pass, "\(memory) in \(ByteCount.text(page)) pages is \(needed) mappings; \(source)", evidence: evidence)
        }
        let raise = Swift.max(needed, kernelDefault)
        return finding(
            .warn,
            "\(memory) in \(ByteCount.text(page)) pages is \(needed) mappings; \(source): VFIO_IOMMU_MAP_DMA fails with ENOSPC past it",
            remedy: remedy(raise: raise), evidence: evidence,
            impacts: Impact.requires(
                Mode.iommuBacked, "the workload's \(needed) mappings exceed type1's dma_entry_limit \(allowed)", [remedy(raise: raise)],
                liveCanLift: false))
    }

    /// The parameter is writable (module_param 0644) and read when a container is opened.
    static func remedy(raise n: Int) -> String {
        "Map in hugepages (fewer, larger mappings), or raise the limit for containers opened from now on: echo \(n) > /sys/module/vfio_iommu_type1/parameters/dma_entry_limit (at boot: vfio_iommu_type1.dma_entry_limit=\(n) on the command line)."
    }
}
