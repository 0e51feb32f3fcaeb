/// The devices the host itself runs on: giving one away takes `/`, the network or the console.
public struct HostUseCheck: Check {
    public static let descriptor = CheckDescriptor(
        id: "device.host-use",
        title: "The host does not run on the device",
        category: .device,
        rationale:
            "Binding a function to vfio-pci first unbinds it from its host driver. For the disk behind /, /boot, swap or any mount, the interface with the default route or an address, or the boot VGA device with the console's framebuffer, that takes the host's own file systems, network or screen away: hosts stop booting or drop off the network (dpdk-devbind refuses to unbind a routed interface, SPDK's setup.sh skips mounted disks for this reason). A device sharing an IOMMU group with such a function cannot be used either: VFIO takes a group only whole.",
        remedy: Actions.Remedy.hostUse,
        looksAt: [
            "/proc/self/mountinfo and /proc/swaps → /sys/dev/block/MAJ:MIN, /sys/class/block/NAME (dm/md members in slaves/)",
            "/proc/net/route, /proc/net/ipv6_route, /proc/net/if_inet6 → /sys/class/net/IF",
            "/sys/bus/pci/devices/BDF/boot_vga", "/proc/iomem (efifb, vesafb, BOOTFB, simpledrm nested in a BAR)",
        ],
        // The examples name their device (--device), which shows the consequence (warn); the
        // group mate of a disk that is not named stays blocked (fail).
        examples: [
            .pass("host-in-use", device: "0000:05:00.0"),
            .warn("host-in-use", device: "0000:01:00.0", remedy: Actions.Remedy.hostUseNamed),
            .warn("host-in-use", device: "0000:02:00.0", remedy: Actions.Remedy.hostUseNamed),
            .warn("host-in-use", device: "0000:00:02.0", remedy: Actions.Remedy.hostUseNamed),
            .warn("host-in-use", device: "0000:06:00.0", remedy: Actions.Remedy.hostUseNamed),
            .fail("host-in-use", device: "0000:03:00.1"),
        ])

    public static func evaluate(_ context: CheckContext) -> [Finding] {
        let host = context.host
        let named: Set<PCIAddress> = if case .devices(let list) = host.scope { Set(list) } else { [] }
        var ev: [Evidence] {
            host.use.problems.isEmpty ? [] : host.use.problems.map { Evidence("host use", $0) }
        }
        return host.selectedDevices.map { d in
            let s = Subject.device(d.address)
            // What the host keeps on the function, and on the functions that go with it: VFIO
            // takes a group whole, and a PF's VFs go when SR-IOV is disabled to bind it.
            let group = host.group(of: d).flatMap { $0.kind == .iommu ? $0 : nil }
            let vfs = (d.sriov?.numVFs ?? 0) > 0 ? host.vfs(of: d.address) : []
            let own = host.hostUse(of: d.address)
            let others = ((group?.pciMembers ?? []) + vfs).filter { $0 != d.address }.map { ($0, host.hostUse(of: $0)) }.filter {
                !$0.1.isEmpty
            }
            let names = host.use.names(of: d.address)
            let label = names.isEmpty ? "" : " (\(names.joined(separator: ", ")))"
            guard !own.isEmpty || !others.isEmpty else {
                let why = host.use.problems.isEmpty ? "" : " as far as could be read"
                return finding(.pass, s, "not in use by the host\(label)\(why)", evidence: ev)
            }
            var phrases = own.isEmpty ? [] : ["it " + HostUse.describe(own)]
            for (a, r) in others {
                let link = d.physfn == nil && vfs.contains(a) ? "its VF \(a)" : "it shares IOMMU group \(group?.id ?? 0) with \(a)"
                phrases.append("\(link), which \(HostUse.describe(r))")
            }
            let what = phrases.joined(separator: "; ")
            let reason = "\(d.bdf)\(label) is in use by the host: \(what)"
            let evidence = ev + ([(d.address, own)] + others).flatMap { a, rs in rs.map { Evidence(evidencePath($0, a), $0.summary) } }
            // Named with --device (with the functions it takes along), the user sees the
            // consequence and may go on; on a whole-host run its actions are not offered.
            let involved = (own.isEmpty ? [] : [d.address]) + others.map(\.0)
            if involved.allSatisfy(named.contains) {
                return finding(
                    .warn, s, "*in use by the host*: \(what); binding it to vfio-pci takes that from the host",
                    remedy: Actions.Remedy.hostUseNamed, evidence: evidence,
                    impacts: Impact.requires(
                        Mode.usable, "\(reason): binding it to vfio-pci takes that away from the host",
                        ["first move what the host keeps on \(involved.map(\.description).joined(separator: ", ")) to another device"],
                        liveCanLift: false))
            }
            return finding(
                .fail, s, "*in use by the host*: \(what)", evidence: evidence,
                impacts: Impact.blocks(Mode.usable, reason, fix: [Actions.Remedy.hostUse], liveCanLift: false))
        }
    }

    static func evidencePath(_ role: HostUse.Role, _ a: PCIAddress) -> String {
        switch role {
        case .mounts: "/proc/self/mountinfo"
        case .swap: "/proc/swaps"
        case .defaultRoute, .active: "/proc/net/route"
        case .bootVGA: "/sys/bus/pci/devices/\(a)/boot_vga"
        case .framebuffer: "/proc/iomem"
        }
    }
}
