/// `vfio-probe groups`: every IOMMU group, its type, its members and whether it can go to
/// userspace — what ls-iommu scripts print, but right about sparse group numbers, no-IOMMU
/// groups and mdevs.
public enum GroupsReporter {
    public struct Group: Sendable {
        public var id: Int
        public var type: String?
        public var kind: IOMMUGroup.Kind
        public var viable: Bool
        public var readiness: Readiness
        public var members: [Member]
    }

    public struct Member: Sendable {
        public var name: String
        public var device: PCIDevice?
        public var mdev: MdevDevice?
        public var readiness: Readiness?
    }

    public static func groups(_ r: Report) -> [Group] {
        let h = r.host
        let mdevs = Dictionary((h.mdevs.value ?? []).map { ($0.uuid, $0) }, uniquingKeysWith: { a, _ in a })
        let readinessOf = Dictionary(r.verdict.devices.map { ($0.address, $0.readiness) }, uniquingKeysWith: { a, _ in a })
        return h.groups.values.sorted { $0.id < $1.id }.map { g in
            let members = g.members.map { name -> Member in
                let a = PCIAddress(name)
                return Member(name: name, device: a.flatMap { h.device($0) }, mdev: mdevs[name], readiness: a.flatMap { readinessOf[$0] })
            }
            // An mdev instance's driver is its parent's VFIO driver (mtty, i915, nvidia,
            // vfio_ccw, ...): bound or not, it keeps its group viable; so only PCI functions count.
            let viable = h.viability(of: g, nonPCI: false).isViable
            // Bridges on pcieport are companions, not candidates; the group is as ready as its endpoints.
            let states = members.filter { !($0.device?.isBridge ?? false) }.compactMap(\.readiness)
            let onlyBridges = !members.isEmpty && members.allSatisfy { $0.device?.isBridge == true }
            let readiness: Readiness =
                onlyBridges || states.contains(.blocked)
                ? .blocked
                : states.contains(.unknown)
                    ? .unknown
                    : (states.contains(.bindable) || !viable) ? .bindable : .ready
            return Group(id: g.id, type: g.type.value, kind: g.kind, viable: viable, readiness: readiness, members: members)
        }
    }

    public static func text(_ r: Report, color: Bool) -> String {
        let tr = TextReporter(color: color)
        var out: [String] = []
        let gs = groups(r)
        let safe = Escaping.terminal
        /// A function as lspci and dpdk-devbind show it: class, name, ids, driver, NUMA node,
        /// interfaces and disks, and whether the host runs on it.
        func line(_ d: PCIDevice) -> String {
            let cls = d.className.map { "\($0) [\(hex(d.classCode >> 8, 4))]" } ?? "[\(hex(d.classCode >> 8, 4))]"
            let names = r.host.use.names(of: d.address).map { "  \(safe($0))" }.joined()
            let inUse = r.host.hostUse(of: d.address).isEmpty ? "" : "  *in use by the host*"
            return
                "  \(d.address)  \(cls): \(d.vendorName == nil ? "" : d.displayName + " ")[\(hex(d.vendorID, 4)):\(hex(d.deviceID, 4))]  driver \(safe(d.driver ?? "none"))  numa \(d.numaNode.map(String.init) ?? "?")\(names)\(inUse)"
        }
        let loose = r.verdict.devices.filter { r.host.device($0.address)?.iommuGroup == nil }
        if gs.isEmpty && loose.isEmpty {
            out.append("no IOMMU groups\(r.host.iommuActive == true ? "" : " (no IOMMU is active)")")
        }
        for g in gs {
            let kind =
                switch g.kind {
                case .iommu: safe(g.type ?? "?")
                case .noIOMMU: "no-IOMMU"
                case .emulatedIOMMU: "mdev, emulated IOMMU"
                }
            out.append(tr.bold("IOMMU group \(g.id)") + " (\(kind)) \(g.viable ? "viable" : "not viable"), \(tr.readiness(g.readiness))")
            for m in g.members {
                if let d = m.device {
                    out.append(line(d))
                } else if let md = m.mdev {
                    out.append(
                        "  \(safe(md.uuid))  mdev \(safe(md.type ?? "?")) on \(safe(md.parent ?? "?"))  driver \(safe(md.driver ?? "none"))"
                    )
                } else {
                    out.append("  \(safe(m.name))")
                }
            }
        }
        if !loose.isEmpty {
            // One heading: "no IOMMU groups" above "No IOMMU group" said the same twice.
            let why = gs.isEmpty && r.host.iommuActive != true ? " (no IOMMU is active)" : ""
            out.append(tr.bold("Not in an IOMMU group\(why): \(loose.count) function\(loose.count == 1 ? "" : "s")"))
            for dv in loose { if let d = r.host.device(dv.address) { out.append(line(d)) } }
        }
        return out.joined(separator: "\n") + "\n"
    }

    public static func json(_ r: Report) -> String {
        JSONValue.object([
            ("schema_version", .int(1)),
            (
                "groups",
                .array(
                    groups(r).map { g in
                        .object([
                            ("id", .int(Int64(g.id))), ("type", JSONValue(g.type)), ("kind", .string(g.kind.rawValue)),
                            ("noiommu", .bool(g.kind == .noIOMMU)),
                            ("viable", .bool(g.viable)), ("readiness", .string(g.readiness.rawValue)),
                            (
                                "devices",
                                .array(
                                    g.members.map { m in
                                        if let d = m.device {
                                            return .object([
                                                ("bdf", .string(d.address.description)), ("class", .string(hex(d.classCode, 6))),
                                                ("class_name", JSONValue(d.className)), ("vendor_id", .string(hex(d.vendorID, 4))),
                                                ("device_id", .string(hex(d.deviceID, 4))), ("name", .string(d.displayName)),
                                                ("driver", JSONValue(d.driver)), ("numa_node", JSONValue(d.numaNode)),
                                                ("readiness", JSONValue(m.readiness?.rawValue)),
                                            ])
                                        }
                                        if let md = m.mdev {
                                            return .object([
                                                ("mdev", .string(md.uuid)), ("type", JSONValue(md.type)), ("parent", JSONValue(md.parent)),
                                                ("driver", JSONValue(md.driver)),
                                            ])
                                        }
                                        return .object([("name", .string(m.name))])
                                    })
                            ),
                        ])
                    })
            ),
            (
                "devices_without_group",
                JSONValue(r.verdict.devices.filter { r.host.device($0.address)?.iommuGroup == nil }.map(\.address.description))
            ),
        ]).render() + "\n"
    }
}
