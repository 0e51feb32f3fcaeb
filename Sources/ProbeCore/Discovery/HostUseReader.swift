extension HostReader {
    /// What the host runs on (`HostUse`): its mounts and swap (proc(5) mountinfo and swaps)
    /// traced to PCI functions through `/sys/dev/block` and `/sys/class/block` (dm, md and LVM
    /// stacks through `slaves/`), its interfaces with routes or global addresses, and its
    /// console (`boot_vga` is read with each display function; framebuffers from /proc/iomem).
    /// `iomem` is /proc/iomem, read once for this and for the top of RAM (readMemory).
    func readHostUse(iomem: Reading<String>) -> HostUse {
        var use = HostUse()
        let blocks = BlockTracer(fs: fs)

        // Interfaces and disks by function, for the names shown beside it.
        let netNames = fs.list("/sys/class/net").value ?? []
        var interfaceOf: [String: PCIAddress] = [:]
        for n in netNames {
            guard let a = fs.link("/sys/class/net/\(n)").value.flatMap(PCIAddress.function(inDevicePath:)) else { continue }
            interfaceOf[n] = a
            use.interfaces[a, default: []].append(n)
        }
        for (n, target) in blocks.targets where blocks.disk(of: target) == nil {
            if let a = PCIAddress.function(inDevicePath: target) { use.disks[a, default: []].append(n) }
        }

        // Mounts: each block-backed file system, by the device number the kernel gives it (or,
        // for btrfs and others with an anonymous st_dev, by its /dev source).
        var mountsOf: [String: [String]] = [:]
        switch fs.read("/proc/self/mountinfo").text {
        case .value(let text):
            for line in text.split(separator: "\n") {
                guard let m = MountInfoLine(line) else { continue }
                let name: String? =
                    m.major != 0
                    ? blocks.name(major: m.major, minor: m.minor)
                    : m.source.hasPrefix("/dev/") ? String(m.source.split(separator: "/").last ?? "") : nil
                guard let name, !name.isEmpty else { continue }
                if !(mountsOf[name]?.contains(m.mountPoint) ?? false) { mountsOf[name, default: []].append(m.mountPoint) }
            }
        case .absent: use.problems.append("/proc/self/mountinfo: missing (the mounts are not known)")
        case .unreadable(let why): use.problems.append(why.description)
        }
        for (name, points) in mountsOf.sorted(by: { $0.key < $1.key }) {
            for (a, member) in blocks.functions(of: name) {
                use.roles[a, default: []].append(.mounts(block: member, points: points))
            }
        }
        // Swap partitions (a swap file lives on a mounted file system, already counted).
        if let swaps = fs.read("/proc/swaps").text.value {
            for line in swaps.split(separator: "\n").dropFirst() {
                let f = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
                guard f.count >= 2, f[1] == "partition", let name = f[0].split(separator: "/").last else { continue }
                for (a, member) in blocks.functions(of: MountInfoLine.unescape(name)) {
                    use.roles[a, default: []].append(.swap(block: member))
                }
            }
        }

        // Network: interfaces with a default route, then those with any route or a global
        // IPv6 address (dpdk-devbind's *Active*: `ip route` names them).
        var defaults: [String] = []
        var active: [String] = []
        switch fs.read("/proc/net/route").text {
        case .value(let text):
            for r in NetRoutes.ipv4(text) { if r.isDefault { defaults.append(r.interface) } else { active.append(r.interface) } }
        case .absent: break
        case .unreadable(let why): use.problems.append(why.description)
        }
        defaults += fs.read("/proc/net/ipv6_route").text.value.map(NetRoutes.ipv6Defaults) ?? []
        active += fs.read("/proc/net/if_inet6").text.value.map(NetRoutes.ipv6Global) ?? []
        for i in unique(defaults) { if let a = interfaceOf[i] { use.roles[a, default: []].append(.defaultRoute(interface: i)) } }
        for i in unique(active) where !defaults.contains(i) {
            if let a = interfaceOf[i] { use.roles[a, default: []].append(.active(interface: i)) }
        }

        // Console framebuffers nested in a function's resources.
        switch iomem {
        case .value(let text):
            for (a, names) in IOMem.framebuffers(text) { use.roles[a, default: []] += names.map { .framebuffer(name: $0) } }
        case .absent: break
        case .unreadable(let why): use.problems.append(why.description)
        }
        use.roles = use.roles.mapValues { unique($0) }
        return use
    }
}

/// Follows a block device to the PCI functions under it: a disk or partition is below its
/// controller in /sys/devices; a dm or md device has its members in `slaves/`.
struct BlockTracer {
    let fs: HostFS
    /// Every block device and the target of its `/sys/class/block` link, in name order.
    let targets: [(name: String, target: String)]
    private let targetOf: [String: String]

    init(fs: HostFS) {
        self.fs = fs
        targets = (fs.list("/sys/class/block").value ?? []).compactMap { n in fs.link("/sys/class/block/\(n)").value.map { (n, $0) } }
        targetOf = Dictionary(targets.map { ($0.name, $0.target) }, uniquingKeysWith: { a, _ in a })
    }

    /// The kernel name of the block device MAJ:MIN (`/sys/dev/block/MAJ:MIN` links to it).
    func name(major: UInt32, minor: UInt32) -> String? {
        fs.link("/sys/dev/block/\(major):\(minor)").lastComponent.value
    }

    /// For a partition, its disk: a partition's folder is inside its disk's (".../sda/sda1",
    /// ".../nvme0n1/nvme0n1p1", ".../md0/md0p1").
    func disk(of target: String) -> String? {
        let parent = target.split(separator: "/").dropLast().last.map(String.init)
        return parent.flatMap { targetOf[$0] != nil ? $0 : nil }
    }

    /// The functions holding `name`, each with the member device on it (a dm device on two NVMe
    /// disks gives both); at most 16 levels of stacking, each device once.
    func functions(of name: String) -> [(PCIAddress, String)] {
        var seen: Set<String> = []
        var out: [(PCIAddress, String)] = []
        trace(name, depth: 0, seen: &seen, into: &out)
        return out
    }

    private func trace(_ name: String, depth: Int, seen: inout Set<String>, into out: inout [(PCIAddress, String)]) {
        guard depth < 16, !name.contains("/"), name != "." && name != "..", seen.insert(name).inserted else { return }
        guard let target = targetOf[name] ?? fs.link("/sys/class/block/\(name)").value else { return }
        if let a = PCIAddress.function(inDevicePath: target) {
            out.append((a, name))
            return
        }
        // A partition of a stacked device (dm-0p1, md0p1): its disk holds the members.
        let members = fs.list("/sys/class/block/\(name)/slaves").value ?? []
        if members.isEmpty, let disk = disk(of: target) { trace(disk, depth: depth + 1, seen: &seen, into: &out) }
        for m in members { trace(m, depth: depth + 1, seen: &seen, into: &out) }
    }
}

extension PCIAddress {
    /// The function a device path lies under: the last PCI address among its components
    /// ("../../devices/pci0000:00/0000:00:03.0/virtio0/net/eth0" is on 0000:00:03.0).
    static func function(inDevicePath target: String) -> PCIAddress? {
        target.utf8.split(separator: UInt8(ascii: "/")).reversed().lazy.compactMap { PCIAddress(utf8: $0) }.first
    }
}
