/// RLIMIT_MEMLOCK against what DMA mapping pins.
public struct MemlockCheck: Check {
    public static let descriptor = CheckDescriptor(
        id: "process.memlock",
        title: "Locked-memory limit",
        category: .process,
        rationale:
            "type1 and iommufd pin every page they map and charge it to RLIMIT_MEMLOCK; past it VFIO_IOMMU_MAP_DMA fails with ENOMEM (\"RLIMIT_MEMLOCK exceeded\"). CAP_IPC_LOCK lifts the limit. SPDK warns below 64 MiB. type1 and iommufd's emulated container charge each process (its own RLIMIT_MEMLOCK); native iommufd on the cdev path charges the user, all of its processes together (iommufd's default account mode). No-IOMMU mode maps and pins nothing (vfio_noiommu_ops), so it needs none.",
        remedy: Actions.Remedy.memlock,
        looksAt: ["/proc/self/limits (Max locked memory)", "/proc/self/status (CapEff bit 14)"],
        examples: [.pass("intel-vfio-ready"), .warn("nonroot"), .warn("budget-memlock", workload: Workload(memory: 2 << 30))])

    public static let minimum: UInt64 = 64 << 20

    public static func evaluate(_ context: CheckContext) -> [Finding] {
        let p = context.host.process
        let ipcLock = p.has(ProcessFacts.capIPCLock) == true
        switch p.memlockLimit {
        case .unreadable(let why): return [undecided(why.description)]
        case .absent: return [undecided("/proc/self/limits does not exist")]
        case .value(let limit):
            let text = limit.map { Self.bytes($0) } ?? "unlimited"
            let ev = [Evidence("/proc/self/limits", "Max locked memory \(text)")]
            if limit == nil { return [finding(.pass, "locked memory unlimited", evidence: ev)] }
            if ipcLock { return [finding(.pass, "locked memory \(text), but CAP_IPC_LOCK lifts the limit", evidence: ev)] }
            let asked = context.workload.memory
            if let asked, limit! < asked {
                // The stated workload pins `asked` bytes: below it the service fails at its first big map.
                return [
                    finding(
                        .warn,
                        "locked memory limited to \(text) without CAP_IPC_LOCK, below the \(Self.bytes(asked)) of DMA --memory states",
                        detail:
                            "type1 and iommufd's emulated container charge this process; native iommufd (the cdev path) charges the user, all of its processes together.",
                        evidence: ev,
                        impacts: Impact.requires(
                            Mode.iommuBacked,
                            "locked memory is limited to \(text), below the \(Self.bytes(asked)) of DMA the workload maps",
                            [descriptor.remedy], liveCanLift: false))
                ]
            }
            if asked == nil, limit! < minimum {
                // A userspace driver pins its DMA memory (hugepages, rings): below SPDK's floor it
                // will not start, so raising the limit is an action, not only a warning.
                return [
                    finding(
                        .warn, "locked memory limited to \(text) without CAP_IPC_LOCK: DMA maps beyond it fail with ENOMEM",
                        detail:
                            "type1 and iommufd's emulated container charge this process; native iommufd (the cdev path) charges the user, all of its processes together.",
                        evidence: ev,
                        impacts: Impact.requires(
                            Mode.iommuBacked, "locked memory is limited to \(text) (below \(Self.bytes(minimum))) without CAP_IPC_LOCK",
                            [descriptor.remedy],
                            liveCanLift: false))
                ]  // the walk maps 16 KiB: it proves nothing of the floor
            }
            if let asked { return [finding(.pass, "locked memory \(text) covers the \(Self.bytes(asked)) --memory states", evidence: ev)] }
            return [finding(.pass, "locked memory \(text)", evidence: ev)]
        }
    }

    static func undecided(_ why: String) -> Finding {
        var f = skipped(why)
        f.impacts = Impact.undecided(
            Mode.iommuBacked, "cannot tell this process's locked-memory limit (\(why))", ["run vfio-probe with /proc mounted"])
        return f
    }

    static func bytes(_ n: UInt64) -> String { ByteCount.text(n) }
}
