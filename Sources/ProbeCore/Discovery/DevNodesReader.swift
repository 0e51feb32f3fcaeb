extension HostReader {
    /// The character devices in a /dev folder, by name (a whole-host read lists them once).
    func readNodes(in dir: String) -> [String: DeviceNode] {
        var nodes: [String: DeviceNode] = [:]
        for n in fs.nodes(in: dir).value ?? [] { nodes[String(n.path.dropFirst(dir.count + 1))] = n }
        return nodes
    }

    /// /dev/vfio's group nodes, listed once; not readable when /dev/vfio could not be listed.
    func readGroupNodes() -> (nodes: [String: DeviceNode], readable: Bool) {
        switch fs.nodes(in: "/dev/vfio") {
        case .value(let all):
            var nodes: [String: DeviceNode] = [:]
            for n in all where n.path != "/dev/vfio/vfio" { nodes[String(n.path.dropFirst("/dev/vfio/".count))] = n }
            return (nodes, true)
        case .absent: return ([:], true)
        case .unreadable: return ([:], false)
        }
    }

    func devNodes(_ w: HostWide, groups: [Int: IOMMUGroup], devices: [PCIAddress: PCIDevice]) -> DevNodes {
        var groupNodes: [String: DeviceNode] = [:]
        var readable = true
        if let listed = w.groupNodes {
            (groupNodes, readable) = listed
        } else {
            for g in groups.values {
                let name = g.nodeName
                if let n = fs.node("/dev/vfio/\(name)").value { groupNodes[name] = n }
            }
        }
        var cdevs: [String: DeviceNode] = [:]
        for d in devices.values {
            guard let v = d.vfioDevice else { continue }
            // Listed once on a whole-host read; looked up one by one for named devices.
            if let n = w.cdevNodes.map({ $0[v] }) ?? fs.node("/dev/vfio/devices/\(v)").value { cdevs[v] = n }
        }
        return DevNodes(container: w.container, iommufd: w.iommufd, groups: groupNodes, cdevs: cdevs, groupsReadable: readable)
    }
}
