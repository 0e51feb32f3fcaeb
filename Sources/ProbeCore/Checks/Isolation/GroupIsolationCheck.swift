/// Why a device's IOMMU group holds other functions: the exact port or function that merges it.
public struct GroupIsolationCheck: Check {
    public static let remedy =
        "Put the device in a slot behind a port with ACS (a CPU root port rather than a chipset one, or a switch whose downstream ports have ACS), turn ACS on in the firmware setup if it offers it, or, when the vendor documents that the port does no peer-to-peer, ask for a kernel ACS quirk (pci_dev_acs_enabled in drivers/pci/quirks.c). pcie_acs_override= isolates nothing: it only relabels the groups."

    /// For a group merged by a bridge's requester ID.
    public static let aliasRemedy =
        "Conventional PCI devices behind a bridge can never be told apart: move the device to a PCIe slot, or assign the whole group (bind every member to vfio-pci)."

    /// For the functions of one multifunction device without ACS.
    public static let multifunctionRemedy =
        "The functions of one device cannot be split without ACS in the device: assign them together (bind every function to vfio-pci), or, when the vendor documents that its functions do no peer-to-peer, ask for a kernel quirk (pci_quirk_mf_endpoint_acs in drivers/pci/quirks.c)."

    public static let descriptor = CheckDescriptor(
        id: "device.group-isolation",
        title: "Why the device's IOMMU group is as large as it is",
        category: .device,
        rationale:
            "The kernel puts functions in one group when the IOMMU cannot tell their DMA apart or cannot stop them reaching each other without it (pci_device_group): every function behind a PCIe-to-PCI bridge aliases to the bridge (pci_for_each_dma_alias); below a root or downstream port whose ACS lacks any of SV, RR, CR, UF (REQ_ACS_FLAGS; pci_acs_path_enabled, pci_acs_flags_enabled) everything shares the port's group; functions of a multifunction device without ACS share with their siblings (get_pci_function_alias_group). Quirks vouch for ports and devices that isolate without a standard ACS capability (pci_dev_specific_acs_enabled). The check names the function where the group was merged.",
        remedy: remedy,
        looksAt: [
            "config space of the device and every bridge above it (ACS extended capability: capability +4, control +6)",
            "the header type's multifunction bit", "/sys/kernel/iommu_groups/N/devices/*",
        ],
        examples: [
            .pass("intel-vfio-ready", device: "0000:01:00.0"), .warn("switch-no-acs", device: "0000:03:00.0"),
            .warn("bridge-group", device: "0000:01:01.0", remedy: aliasRemedy), .info("shared-group", device: "0000:01:00.0"),
            .skip("intel-nonroot", device: "0000:00:1f.2"),
        ],
        decides: false)

    public static func evaluate(_ context: CheckContext) -> [Finding] {
        let host = context.host
        // Worked out once per group: a group's members share the answer.
        var byGroup: [Int: [GroupMerge]] = [:]
        return host.selectedDevices.compactMap { d -> Finding? in
            guard let g = host.group(of: d), !g.isNoIOMMU else { return nil }
            let s = Subject.device(d.address)
            let own = ACSRule.path(of: d, host: host)
            let others = g.pciMembers.filter { $0 != d.address }
            let evidence = Self.evidence(own, host)
            if let (line, peers) = Self.switchPeers(of: d, host: host), !peers.isEmpty {
                // The group the kernel gave is smaller than what the switch lets through.
                let merges = others.isEmpty ? [] : byGroup[g.id] ?? Self.merges(of: g, host: host)
                byGroup[g.id] = merges
                let why = merges.map { ACSRule.describe($0, host) }
                return finding(
                    .warn, s,
                    (why.isEmpty
                        ? "alone in IOMMU group \(g.id), but " : "group \(g.id) is large because \(why.joined(separator: "; and ")); and ")
                        + line,
                    detail: (others.isEmpty
                        ? ""
                        : "\(others.count) other function\(others.count == 1 ? "" : "s") share\(others.count == 1 ? "s" : "") the group: \(Listing.some(others.map(\.description)).joined(separator: ", ")). ")
                        + "pci_device_group checks ACS only on the ports above each device, and a switch's downstream ports sit in different slots of its internal bus: the kernel gives the devices below them separate groups although a downstream port without ACS Request Redirect routes requests from below it straight to its sibling ports.",
                    remedy: remedy, evidence: evidence)
            }
            if others.isEmpty, !own.merges.isEmpty {
                let why = own.merges.map { ACSRule.describe($0, host) }.joined(separator: "; and ")
                return finding(
                    .info, s,
                    "alone in IOMMU group \(g.id), although the kernel's rule would not isolate it: \(why) (pcie_acs_override= or a quirk the probe does not know split it off)",
                    evidence: evidence)
            }
            if others.isEmpty {
                return finding(
                    .pass, s,
                    "alone in IOMMU group \(g.id)\(own.ports.isEmpty || !own.unknown.isEmpty || !own.merges.isEmpty ? "" : ": every port above it isolates it")",
                    evidence: evidence)
            }
            let merges = byGroup[g.id] ?? Self.merges(of: g, host: host)
            byGroup[g.id] = merges
            if merges.isEmpty {
                let unknown = ([own.unknown] + others.compactMap { host.device($0).map { ACSRule.path(of: $0, host: host).unknown } })
                    .flatMap { $0 }
                if !unknown.isEmpty {
                    return skipped(
                        s,
                        "config space of \(Set(unknown).sorted().map(\.description).joined(separator: ", ")) could not be read far enough (run as root)"
                    )
                }
                return finding(
                    .info, s,
                    "group \(g.id) holds \(others.count) other function\(others.count == 1 ? "" : "s"), but the kernel's PCI rule (pci_device_group) would give \(d.bdf) a group of its own: a DMA alias quirk or the IOMMU driver put them together",
                    evidence: evidence)
            }
            let reasons = merges.map { ACSRule.describe($0, host) }
            return finding(
                .warn, s, "group \(g.id) is large because \(reasons.joined(separator: "; and "))",
                detail:
                    "\(others.count) other function\(others.count == 1 ? "" : "s") share\(others.count == 1 ? "s" : "") the group: \(Listing.some(others.map(\.description)).joined(separator: ", ")). VFIO hands out whole groups.",
                remedy: Self.remedy(for: merges, host), evidence: evidence)
        }
    }

    /// The merges that explain a group: those of every member's walk, once each.
    public static func merges(of g: IOMMUGroup, host: Host) -> [GroupMerge] {
        var out: [GroupMerge] = []
        for m in g.pciMembers {
            guard let d = host.device(m) else { continue }
            for merge in ACSRule.path(of: d, host: host).merges where !out.contains(where: { Self.same($0, merge) }) {
                out.append(merge)
            }
        }
        return out
    }

    /// Peer-to-peer inside a switch that the kernel's groups do not show: for each downstream
    /// port on `d`'s path, its sibling ports under the same upstream port, where either lacks
    /// ACS (requests that enter a downstream port without Request Redirect are routed to the
    /// sibling ports, never upstream to the IOMMU), and the functions below them in other groups.
    static func switchPeers(of d: PCIDevice, host: Host) -> (String, [PCIAddress])? {
        guard !d.isBridge else { return nil }
        for (i, p) in d.parents.enumerated() {
            guard let port = host.device(p), port.expressType == ACSRule.downstreamPort, i + 1 < d.parents.count else { continue }
            let up = d.parents[i + 1]
            let portOK = ACSRule.state(of: port, host: host).isEnabled == true
            let siblings = host.devices.values.filter {
                $0.address != p && $0.expressType == ACSRule.downstreamPort && $0.parents.first == up
            }
            var peers: [PCIAddress] = []
            var open: [PCIAddress] = portOK ? [] : [p]
            for q in siblings {
                let qOK = ACSRule.state(of: q, host: host).isEnabled == true
                guard !(portOK && qOK) else { continue }
                if !qOK { open.append(q.address) }
                peers += host.devices.values.filter {
                    !$0.isBridge && $0.parents.contains(q.address) && $0.iommuGroup != d.iommuGroup
                }.map(\.address)
            }
            guard !peers.isEmpty else { continue }
            let sorted = peers.sorted()
            let noACS = Set(open).sorted().map(\.description).joined(separator: ", ")
            return (
                "in the switch below \(ACSRule.named(up, host)), \(noACS) \(open.count == 1 ? "has" : "have") no ACS Request Redirect, so requests entering \(open.count == 1 ? "it" : "them") from below go straight to the sibling ports: peer-to-peer DMA between \(d.bdf) and \(Listing.some(sorted.map(\.description)).joined(separator: ", ")) (in other groups) is not translated by the IOMMU",
                sorted
            )
        }
        return nil
    }

    /// The same merge: the same port or bridge, or functions of the same multifunction slot.
    static func same(_ a: GroupMerge, _ b: GroupMerge) -> Bool {
        switch (a.kind, b.kind) {
        case (.multifunction, .multifunction):
            a.at.domain == b.at.domain && a.at.bus == b.at.bus && a.at.device == b.at.device
        default: a.at == b.at && a.kind == b.kind
        }
    }

    static func evidence(_ p: IsolationPath, _ host: Host) -> [Evidence] {
        p.ports.prefix(6).map { a, st in
            Evidence("/sys/bus/pci/devices/\(a)/config", "\(a) \(st.reason)")
        }
    }

    /// What helps for the merges found.
    static func remedy(for merges: [GroupMerge], _ host: Host) -> String {
        if merges.allSatisfy({ $0.kind == .alias }) {
            return aliasRemedy
        }
        if merges.allSatisfy({ if case .multifunction = $0.kind { true } else { false } }) { return multifunctionRemedy }
        if merges.contains(where: { if case .notEnabled = $0.state { true } else { false } }) {
            let redir = (host.cmdline?.options("pci") ?? []).first { $0.hasPrefix("disable_acs_redir=") || $0.hasPrefix("config_acs=") }
            return
                "The port has the ACS controls but they are off: the kernel turns them on when an IOMMU is active (pci_std_enable_acs)\(redir.map { ", unless the command line says otherwise (pci=\($0)): drop it" } ?? "; look for pci=config_acs= or pci=disable_acs_redir= on the command line, or firmware that turns them off after boot"). \(remedy)"
        }
        return remedy
    }
}
