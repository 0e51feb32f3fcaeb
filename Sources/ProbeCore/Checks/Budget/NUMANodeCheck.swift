/// A device's NUMA node beside the hugepages and CPUs of that node.
public struct NUMANodeCheck: Check {
    public static let descriptor = CheckDescriptor(
        id: "device.numa",
        title: "The device's NUMA node has the memory and CPUs to drive it",
        category: .device,
        rationale:
            "On a multi-node host a device's DMA and interrupts are cheapest from its own node: DPDK allocates a port's rings and buffers on the port's socket (rte_eth_dev_socket_id) and fails or goes remote when that node has no hugepages of the size. The node comes from the firmware's _PXM (numa_node; -1 when the firmware gives none, and local_cpulist is then every CPU: cpumask_of_node(NUMA_NO_NODE)). Hugepages are per node (/sys/devices/system/node/nodeN/hugepages).",
        remedy: "Reserve hugepages on the device's node: echo N > /sys/devices/system/node/nodeX/hugepages/hugepages-SIZEkB/nr_hugepages.",
        looksAt: [
            "/sys/bus/pci/devices/BDF/numa_node", "/sys/devices/system/node/node*/cpulist",
            "/sys/devices/system/node/node*/hugepages/hugepages-*/{nr,free}_hugepages",
        ],
        examples: [
            .pass("numa-two-nodes", device: "0000:01:00.0"),
            .warn(
                "numa-two-nodes", device: "0000:86:00.0",
                remedy: "Reserve hugepages on node 1: echo 2048 > /sys/devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages."),
            .warn("numa-two-nodes", device: "0000:00:1f.6", remedy: firmwareRemedy),
        ],
        decides: false)

    static let firmwareRemedy =
        "Pin the driver's memory and cores to the node of the device's root port by hand (lstopo shows it), and ask the vendor for a firmware that reports _PXM for the slot."

    public static func evaluate(_ context: CheckContext) -> [Finding] {
        let host = context.host
        // One node (or no NUMA): every device is local to all memory.
        guard host.memory.isMultiNode, let nodes = host.memory.nodes.value else { return [] }
        let (page, stated) = context.workload.pageSize(on: host)
        return host.selectedDevices.compactMap { d -> Finding? in
            // Bridges and the chipset are not driven by a workload.
            guard !d.isBridge, ChipsetCheck.role(d, host) == nil else { return nil }
            let s = Subject.device(d.address)
            let path = "/sys/bus/pci/devices/\(d.bdf)/numa_node"
            guard let n = d.numaNode else { return skipped(s, "numa_node could not be read") }
            if n < 0 {
                return finding(
                    .warn, s, "reports no NUMA node (-1) on a \(nodes.count)-node host: its local CPUs are all of them",
                    detail: "The firmware gives no proximity (_PXM) for it; DPDK then treats it as socket 0 or any socket.",
                    remedy: firmwareRemedy, evidence: [Evidence(path, "-1")])
            }
            guard let node = host.memory.node(n) else {
                return skipped(s, "numa_node says \(n), but /sys/devices/system/node/node\(n) is missing")
            }
            var ev = [Evidence(path, "\(n)"), Evidence("/sys/devices/system/node/node\(n)/cpulist", node.cpus ?? "unread")]
            let cpus = node.cpus.map { ", CPUs \($0)" } ?? ""
            guard page > Memory.basePage else {
                return finding(.pass, s, "NUMA node \(n)\(cpus); the workload maps 4 KiB pages, from any node", evidence: ev)
            }
            let free = node.pool(page)?.free ?? 0
            let dir = "/sys/devices/system/node/node\(n)/hugepages/\(HugePagePool.directory(ofSize: page))"
            ev.append(Evidence("\(dir)/free_hugepages", "\(free)"))
            let memory = context.workload.memory
            let needed = memory.map { DMABudget.pages($0, of: page) }
            let short = needed.map { free < $0 } ?? (free == 0)
            if !short {
                let of = memory.map { " for the \(ByteCount.text($0)) --memory states" } ?? ""
                return finding(.pass, s, "NUMA node \(n)\(cpus); \(free) free \(ByteCount.text(page)) hugepages on it\(of)", evidence: ev)
            }
            let others = nodes.filter { $0.id != n }.compactMap { o in o.pool(page).map { (o.id, $0) } }
            let elsewhere = others.filter { $0.1.free > 0 }.map { "node \($0.0) has \($0.1.free)" }
            // Without --memory, as many as the best-provisioned other node has.
            let want = needed.map { (node.pool(page)?.total ?? 0) + $0 - free } ?? Swift.max(1, others.map(\.1.total).max() ?? 1)
            let size = stated ? "" : " (the default hugepage size)"
            return finding(
                .warn, s,
                "NUMA node \(n) (CPUs \(node.cpus ?? "unread")) has \(free == 0 ? "no" : "only \(free)") free \(ByteCount.text(page)) hugepages\(size)\(elsewhere.isEmpty ? "" : "; \(elsewhere.joined(separator: ", "))"): \(free == 0 ? "the device's DMA memory would come from another node" : "not all of the \(ByteCount.text(memory ?? 0)) can be local")",
                remedy: "Reserve hugepages on node \(n): echo \(want) > \(dir)/nr_hugepages.", evidence: ev)
        }
    }
}
