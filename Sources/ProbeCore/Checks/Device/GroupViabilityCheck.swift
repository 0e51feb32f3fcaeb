/// Every device of the group must be harmless to VFIO for the group to be viable.
public struct GroupViabilityCheck: Check {
    public static let descriptor = CheckDescriptor(
        id: "device.group-viability",
        title: "The device's IOMMU group is viable",
        category: .device,
        rationale:
            "VFIO gives userspace a whole IOMMU group. It is viable only when every member is unbound or on a driver that promises no DMA of its own: since 5.19 vfio-pci (or a variant), pci-stub or pcieport, on any function (driver_managed_dma); before 5.19 pci-stub, or any driver on a function that is not a normal (type 0) one (vfio_dev_driver_allowed). One member on a kernel or uio driver makes the group not viable, and VFIO_GROUP_GET_STATUS says so.",
        remedy: Actions.Remedy.groupViability,
        looksAt: ["/sys/kernel/iommu_groups/N/devices/*", "each member's driver (uevent DRIVER)"],
        examples: [
            .pass("intel-vfio-ready", device: "0000:01:00.0"), .warn("shared-group", device: "0000:01:00.0"),
            .pass("amd-host", device: "0000:03:00.0"),
        ])

    public static func evaluate(_ context: CheckContext) -> [Finding] {
        let host = context.host
        return host.selectedDevices.compactMap { d -> Finding? in
            guard let g = host.group(of: d), !g.isNoIOMMU else { return nil }
            let s = Subject.device(d.address)
            let v = host.viability(of: g, except: d.address)
            let (blockers, actions, fine, ev) = (v.blockers, v.actions, v.fine, v.evidence)
            var unknown: [String] = []
            if let why = g.membersProblem { unknown.append("the members (\(why))") }
            if host.scope != .all, g.membersProblem == nil, !g.pciMembers.contains(d.address) {
                unknown.append("the members (the group's listing does not name \(d.bdf))")
            }
            unknown += v.unknown
            if !unknown.isEmpty && blockers.isEmpty {
                let unread = unknown.joined(separator: ", ")
                var f = skipped(s, "members \(unread) of group \(g.id) could not be read")
                f.impacts = Impact.undecided(
                    Mode.iommuBacked, "cannot tell whether IOMMU group \(g.id) is viable: \(unread) could not be read",
                    ["run vfio-probe as root on the host, with /sys mounted whole"])
                return f
            }
            // Fixed for the deferred summary and evidence; a large group is named in part (the
            // list per member would grow with the square of its size).
            let many = blockers.count > 8
            let loop =
                "for d in /sys/kernel/iommu_groups/\(g.id)/devices/*; do b=${d##*/}; [ \"$b\" = \(d.bdf) ] && continue; echo vfio-pci > $d/driver_override; [ -e $d/driver ] && echo $b > $d/driver/unbind; echo $b > /sys/bus/pci/drivers_probe; done"
            let (viable, sharing, evidence, binds) = (
                Listing.some(fine), Listing.some(blockers), Array(ev.prefix(8)), many ? [loop] : actions
            )
            if sharing.isEmpty {
                return finding(
                    .pass, s,
                    viable.isEmpty ? "alone in IOMMU group \(g.id)" : "group \(g.id) is viable: \(viable.joined(separator: ", "))",
                    evidence: evidence)
            }
            let uio = sharing.contains { $0.contains("uio") }
            return finding(
                .warn, s, "group \(g.id) is not viable: \(sharing.joined(separator: ", "))\(uio ? " (uio: unsafe userspace access)" : "")",
                detail: "VFIO hands out whole groups; every member must be on vfio-pci, pci-stub, pcieport (bridges) or no driver.",
                evidence: evidence,
                impacts: Impact.requires(Mode.iommuBacked, "IOMMU group \(g.id) is shared with \(sharing.joined(separator: ", "))", binds))
        }
    }
}
