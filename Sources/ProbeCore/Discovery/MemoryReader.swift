extension HostReader {
    /// The hugepage pools, host-wide and per NUMA node, and the default hugepage size.
    func readMemory(iomem: Reading<String>) -> Memory {
        let pools = fs.list("/sys/kernel/mm/hugepages").map { names in
            names.compactMap { readPool(in: "/sys/kernel/mm/hugepages", $0, reserved: true) }.sorted { $0.size < $1.size }
        }
        let nodes = fs.list("/sys/devices/system/node").map { names in
            names.compactMap { name -> NUMANode? in
                guard name.hasPrefix("node"), let id = Int(name.dropFirst(4)) else { return nil }
                let dir = "/sys/devices/system/node/\(name)"
                let hp = (fs.list("\(dir)/hugepages").value ?? []).compactMap { readPool(in: "\(dir)/hugepages", $0, reserved: false) }
                return NUMANode(id: id, cpus: fs.read("\(dir)/cpulist").text.value, hugepages: hp.sorted { $0.size < $1.size })
            }.sorted { $0.id < $1.id }
        }
        let meminfo = fs.read("/proc/meminfo", limit: 16 << 10).text.value
        return Memory(
            pools: pools, nodes: nodes, defaultHugepageSize: meminfo.flatMap(Memory.parseHugepagesize),
            topOfRAM: iomem.value.flatMap(Memory.parseTopOfRAM))
    }

    private func readPool(in parent: String, _ name: String, reserved: Bool) -> HugePagePool? {
        guard let size = HugePagePool.size(ofDirectory: name) else { return nil }
        let dir = "\(parent)/\(name)"
        // Counts are unsigned in the kernel; a tree that says otherwise is not believed.
        guard let total = fs.read("\(dir)/nr_hugepages").decimal.value, let free = fs.read("\(dir)/free_hugepages").decimal.value,
            total >= 0, free >= 0
        else { return nil }
        let resv = reserved ? fs.read("\(dir)/resv_hugepages").decimal.value.flatMap { $0 >= 0 ? $0 : nil } : nil
        return HugePagePool(size: size, total: total, free: free, reserved: resv)
    }
}
