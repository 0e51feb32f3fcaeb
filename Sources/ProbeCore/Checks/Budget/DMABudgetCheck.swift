/// The DMA memory a process can map today, and whether the stated workload (`--memory`) fits.
public struct DMABudgetCheck: Check {
    public static let descriptor = CheckDescriptor(
        id: "vfio.dma-budget",
        title: "DMA memory the host allows",
        category: .vfio,
        rationale:
            "A userspace driver maps all of its DMA memory through the IOMMU, and each limit stops it at a different size: RLIMIT_MEMLOCK (ENOMEM), type1's dma_entry_limit, one mapping per page a driver maps page by page as DPDK does (ENOSPC: 65535 × 4 KiB is 256 MiB), the IOVA space the IOMMU gives, and the free hugepages of the page size. With --memory the workload is checked against each; locked memory and dma_entry_limit are decided by process.memlock and vfio.dma-entry-limit, the hugepages and IOVA space here. A live run tries the workload's mappings (up to 1024 of them) and reports what the kernel refused.",
        remedy:
            "Reserve the hugepages (echo N > /sys/kernel/mm/hugepages/hugepages-SIZEkB/nr_hugepages, or hugepagesz= hugepages= on the kernel command line), or map less.",
        looksAt: [
            "/proc/self/limits", "/sys/module/vfio_iommu_type1/parameters/dma_entry_limit", "/sys/kernel/mm/hugepages/*",
            "/proc/meminfo (Hugepagesize)", "/sys/class/iommu/dmar*/intel-iommu/cap", "VFIO_IOMMU_GET_INFO / IOMMU_IOAS_IOVA_RANGES (live)",
        ],
        examples: [
            .info("intel-vfio-ready"), .pass("budget-hugepages", workload: Workload(memory: 4 << 30)),
            .warn(
                "budget-hugepages", remedy: "Reserve the hugepages: echo 32768 > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages.",
                workload: Workload(memory: 64 << 30)),
            .fail(
                "budget-narrow", remedy: "\(DMAEntryLimitCheck.remedy(raise: 1 << 28)) \(narrowIOVARemedy)",
                workload: Workload(memory: 1 << 40)),
        ],
        decides: false)

    /// What to do when the IOVA space is smaller than the workload.
    public static let narrowIOVARemedy =
        "Map less memory, or give the IOMMU a wider address space: in a guest, a wider vIOMMU (QEMU: -device intel-iommu,aw-bits=48); on bare metal the unit's width is fixed."

    public static func evaluate(_ context: CheckContext) -> [Finding] {
        let host = context.host
        guard let memory = context.workload.memory else {
            // No-IOMMU mode maps and pins nothing (vfio_noiommu_ops): without a workload, nothing to say.
            return host.iommuActive == false ? [] : [today(context)]
        }
        let (page, stated) = context.workload.pageSize(on: host)
        let iommu = host.iommuActive != false
        let budget = DMABudget.of(host, live: context.live, pageSize: page, iommu: iommu)
        let pages =
            "\(ByteCount.text(page)) pages\(stated ? "" : page == Memory.basePage ? " (no hugepages reserved of the default size; --hugepage-size to choose)" : " (the default hugepage size; --hugepage-size to choose)")"
        let evidence = self.evidence(budget, host)
        var impacts: [Impact] = []
        var short: [String] = []
        var remedies: [String] = []
        for b in budget.exceeded(by: memory) {
            short.append(b.description(pageSize: page))
            switch b.limit {
            case .hugepages(let free):
                let pool = host.memory.pool(page)
                let need = DMABudget.pages(memory - b.bytes, of: page)
                let total = (pool?.total ?? 0) + need  // need ≤ 2^52: sizes are at most 2^64, pages at least 4 KiB
                let path = "/sys/kernel/mm/hugepages/\(HugePagePool.directory(ofSize: page))/nr_hugepages"
                var actions = ["echo \(total) > \(path)"]
                if page >= 1 << 30 || pool == nil {
                    actions = [
                        "add hugepagesz=\(sizeArgument(page)) hugepages=\(total) to the kernel command line and reboot (\(ByteCount.text(page)) pages are reserved at boot)"
                    ]
                }
                impacts += Impact.requires(
                    Mode.usable,
                    "\(ByteCount.text(memory)) of DMA in \(ByteCount.text(page)) hugepages needs \(need + free); \(free) are free",
                    actions, liveCanLift: false)
                remedies.append("Reserve the hugepages: \(actions[0]).")
            case .iovaSpace(let n, _):
                impacts += Impact.blocks(
                    Mode.iommuBacked, "\(ByteCount.text(memory)) of DMA exceeds the \(ByteCount.text(n)) of IOVA space the IOMMU gives",
                    fix: [narrowIOVARemedy], liveCanLift: false)
                remedies.append(narrowIOVARemedy)
            // process.memlock and vfio.dma-entry-limit decide these; the remedy is theirs.
            case .memlock: remedies.append(Actions.Remedy.memlock)
            case .entries: remedies.append(DMAEntryLimitCheck.remedy(raise: context.workload.mappings(on: host) ?? 0))
            }
        }
        var contradicted: [String] = []
        for (kind, trial) in trials(context.live) {
            guard let e = trial.errno else { continue }
            let line = "the live \(kind.rawValue) walk's trial: \(trial.description)"
            contradicted.append(line)
            // The kernel refused what the reading predicted would fit: the kernel is right.
            let predicted = budget.exceeded(by: memory).contains {
                switch $0.limit {
                case .entries: e == 28
                case .memlock: e == 12
                default: false
                }
            }
            if !predicted {
                let fix = e == 28 ? DMAEntryLimitCheck.remedy(raise: trial.needed) : Actions.Remedy.memlock
                impacts += Impact.requires(
                    Mode.iommuBacked,
                    "the kernel refused mapping \(trial.mapped + 1) of the workload's \(trial.needed) with \(ErrnoName.of(e))",
                    [fix], liveCanLift: false)
                remedies.append(fix)
            }
        }
        let ev = evidence + contradicted.map { Evidence("live", $0) }
        if short.isEmpty && contradicted.isEmpty {
            let max = budget.maximum.map { "; the host allows up to \(ByteCount.text($0.bytes)) (\($0.description(pageSize: page)))" } ?? ""
            let proved = trials(context.live).first.map { "; the live trial made \($0.1.mapped) mappings" } ?? ""
            return [finding(.pass, "\(ByteCount.text(memory)) of DMA in \(pages) fits\(max)\(proved)", evidence: ev)]
        }
        let blocked = impacts.contains { $0.kind == .blocks }
        let what = short.isEmpty ? contradicted.joined(separator: "; ") : "exceeds \(short.joined(separator: ", "))"
        return [
            finding(
                blocked ? .fail : .warn, "\(ByteCount.text(memory)) of DMA in \(pages) \(what)",
                remedy: unique(remedies).joined(separator: " "), evidence: ev, impacts: impacts)
        ]
    }

    /// Without --memory: the most each page size allows.
    static func today(_ context: CheckContext) -> Finding {
        let host = context.host
        let iommu = host.iommuActive != false
        var sizes: [UInt64] = [Memory.basePage]
        for p in host.memory.pools.value ?? [] where p.total > 0 { sizes.append(p.size) }
        let lines = sizes.map { size -> String in
            let b = DMABudget.of(host, live: context.live, pageSize: size, iommu: iommu)
            guard let m = b.maximum else {
                return
                    "no limit the probe can see with \(ByteCount.text(size)) pages (locked memory not limited, no type1 mapping limit, IOVA width unknown)"
            }
            return "at most \(ByteCount.text(m.bytes)) with \(ByteCount.text(size)) pages: \(m.description(pageSize: size))"
        }
        let b = DMABudget.of(host, live: context.live, pageSize: Memory.basePage, iommu: iommu)
        return finding(
            .info, lines.joined(separator: "; "), detail: "--memory SIZE checks a workload against these limits.",
            evidence: evidence(b, host))
    }

    static func evidence(_ b: DMABudget, _ host: Host) -> [Evidence] {
        var ev = b.bounds.map { Evidence(source($0.limit), $0.description(pageSize: b.pageSize)) }
        if let d = host.memory.defaultHugepageSize { ev.append(Evidence("/proc/meminfo", "Hugepagesize \(ByteCount.text(d))")) }
        return ev
    }

    static func source(_ l: DMABudget.Limit) -> String {
        switch l {
        case .memlock: "/proc/self/limits"
        case .entries(_, let live): live ? "VFIO_IOMMU_GET_INFO" : "/sys/module/vfio_iommu_type1/parameters/dma_entry_limit"
        case .iovaSpace(_, let live): live ? "IOVA ranges (live)" : "/sys/class/iommu/*/intel-iommu/cap"
        case .hugepages: "/sys/kernel/mm/hugepages"
        }
    }

    static func trials(_ live: LiveReport?) -> [(LiveWalk.Kind, MapTrial)] {
        guard let live else { return [] }
        return live.devices.keys.sorted().flatMap { a in live.devices[a]!.compactMap { w in w.facts.mapTrial.map { (w.kind, $0) } } }
    }

    /// 2097152 → "2M", 1073741824 → "1G": the kernel's hugepagesz= syntax (memparse).
    static func sizeArgument(_ n: UInt64) -> String {
        if n % (1 << 30) == 0 { return "\(n >> 30)G" }
        if n % (1 << 20) == 0 { return "\(n >> 20)M" }
        return "\(n >> 10)K"
    }
}
