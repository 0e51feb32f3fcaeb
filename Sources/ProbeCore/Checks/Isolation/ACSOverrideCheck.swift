/// `pcie_acs_override=`: groups the hardware does not isolate, split by an out-of-tree patch.
public struct ACSOverrideCheck: Check {
    public static let remedy =
        "Remove pcie_acs_override= from the kernel command line and give the device real isolation (a slot behind an ACS-capable port, ACS in the firmware setup, a vendor ACS quirk in the kernel); or accept that the group is not isolated with \(Acceptance.acsOverride.flag)."

    public static let descriptor = CheckDescriptor(
        id: "kernel.acs-override",
        title: "No pcie_acs_override= splitting groups the hardware does not isolate",
        category: .kernel,
        rationale:
            "pcie_acs_override= (downstream, multifunction, id:vvvv:dddd) comes from an out-of-tree patch some kernels ship (Arch's linux-vfio, older Proxmox kernels, Unraid): its pcie_acs_overrides answers pci_acs_enabled with yes for ports and functions that have no ACS capability. The groups are then fiction: a port without ACS still routes peer-to-peer requests between the devices below it straight across, and the IOMMU never sees them, so a device given to a guest can reach its former group companions. A device whose group the hardware would not give is not safe VFIO unless the user accepts it.",
        remedy: remedy,
        looksAt: [
            "/proc/cmdline (pcie_acs_override=)", "config space of every bridge above each device (ACS)", "/sys/kernel/iommu_groups",
        ],
        examples: [
            .pass("intel-vfio-ready"), .warn("acs-override", remedy: remedy),
            .fail("acs-override", device: "0000:03:00.0", remedy: remedy),
            .pass("acs-override", device: "0000:05:00.0"),
        ])

    public static func evaluate(_ context: CheckContext) -> [Finding] {
        let host = context.host
        guard let c = host.cmdline else {
            if case .unreadable(let why) = host.kernel.cmdline { return [skipped(why.description)] }
            return [skipped("/proc/cmdline does not exist")]
        }
        guard let o = ACSOverride(c) else { return [finding(.pass, "no pcie_acs_override= on the command line")] }
        let param = "pcie_acs_override=\(o.value)"
        let accepted = context.accepted.contains(.acsOverride)
        let ev = [Evidence("/proc/cmdline", param)]
        var out: [Finding] = []
        let predicted = host.scope == .all ? ACSRule.hardwareGroups(host) : nil
        var fictional = 0
        for d in host.selectedDevices {
            // A bridge does no DMA of its own: the devices below it carry the finding.
            guard let g = host.group(of: d), !g.isNoIOMMU, !d.isBridge else { continue }
            let s = Subject.device(d.address)
            // The functions the hardware would group with d: those below the same merging port
            // (or, reading only the named devices, every merge on its own path).
            let members = Set(g.pciMembers)
            let p = ACSRule.path(of: d, host: host)
            let split: [PCIAddress]
            let merges: [GroupMerge]
            if let predicted, let mine = predicted[d.address] {
                split = predicted.filter { $0.value == mine && !members.contains($0.key) }.map(\.key)
                    .filter { host.device($0).map { !$0.isBridge } ?? false }.sorted()
                merges = Self.mergesSplit(d, split, host)
            } else {
                split = []
                merges = p.merges
            }
            if split.isEmpty && merges.isEmpty {
                if !p.unknown.isEmpty {
                    var f = skipped(
                        s,
                        "config space of \(p.unknown.map(\.description).joined(separator: ", ")) could not be read, so whether \(param) split group \(g.id) is unknown"
                    )
                    if !accepted {
                        f.impacts = Impact.undecided(
                            Mode.iommuBacked,
                            "\(param) may have split IOMMU group \(g.id): the ACS of the ports above \(d.bdf) could not be read",
                            ["run vfio-probe as root"], liveCanLift: false)
                    }
                    out.append(f)
                } else if !p.merges.isEmpty {
                    out.append(
                        finding(
                            .pass, s,
                            "\(param) splits no other device from \(d.bdf): nothing else sits below the port without ACS above it",
                            evidence: ev))
                } else {
                    out.append(
                        finding(
                            .pass, s, "\(param) changes nothing for \(d.bdf): the hardware isolates group \(g.id) by itself", evidence: ev))
                }
                continue
            }
            fictional += 1
            let why = merges.map { ACSRule.describe($0, host) }.joined(separator: "; ")
            let peers = split.isEmpty ? "the devices below it" : Listing.some(split.map(\.description)).joined(separator: ", ")
            let reason =
                "\(param) splits group \(g.id): \(why.isEmpty ? "a port above it has no ACS" : why), so peer-to-peer DMA between \(d.bdf) and \(peers) is not translated by the IOMMU"
            if accepted {
                out.append(
                    finding(
                        .warn, s, "\(reason) (accepted with \(Acceptance.acsOverride.flag))",
                        detail: "The user accepted the override: the group is taken as it is, not as isolated.", evidence: ev))
            } else {
                out.append(
                    finding(
                        .fail, s, reason,
                        detail:
                            "The override relabels groups; it does not stop the port routing requests between its devices. \(host.scope == .all ? "" : "Reading only the named devices, every merge on the path counts: run without --device to see which devices it would share with.")",
                        evidence: ev,
                        impacts: Impact.blocks(
                            Mode.iommuBacked, reason, fix: [GroupIsolationCheck.remedy, "or accept it: \(Acceptance.acsOverride.flag)"],
                            liveCanLift: false)))
            }
        }
        let hostLine =
            fictional > 0
            ? "\(param) is on the command line: the groups it splits are not isolated by the hardware"
            : "\(param) is on the command line (an out-of-tree patch); it splits none of the groups of the devices probed"
        out.insert(
            finding(
                .warn, hostLine,
                detail:
                    "The override makes the kernel call ports and functions without ACS isolated (pcie_acs_overrides); only hardware ACS stops peer-to-peer DMA.",
                evidence: ev), at: 0)
        return out
    }

    /// The merges on the walks of `d` and of the functions it was split from.
    static func mergesSplit(_ d: PCIDevice, _ split: [PCIAddress], _ host: Host) -> [GroupMerge] {
        var out: [GroupMerge] = []
        for a in [d.address] + split {
            guard let x = host.device(a) else { continue }
            for m in ACSRule.path(of: x, host: host).merges where !out.contains(where: { GroupIsolationCheck.same($0, m) }) {
                out.append(m)
            }
        }
        return split.isEmpty ? [] : out
    }
}
