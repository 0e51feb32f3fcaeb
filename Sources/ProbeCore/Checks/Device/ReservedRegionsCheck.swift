/// Firmware-mandated identity mappings (RMRR) in the device's group.
public struct ReservedRegionsCheck: Check {
    public static let descriptor = CheckDescriptor(
        id: "device.reserved-regions",
        title: "No firmware RMRR pins the device",
        category: .device,
        rationale: "A `direct` reserved region is memory firmware insists the device can always reach 1:1 (an Intel RMRR, an AMD IVMD). The kernel refuses to attach such a device to a VFIO domain (\"ineligible for IOMMU domain attach due to platform RMRR requirement\"); `direct-relaxable` regions (USB, graphics) are allowed.",
        remedy: "Turn off the firmware feature that needs the RMRR (on HP ProLiant: the \"HP Shared Memory\" / iLO NIC sharing for that slot, via conrep), move the card to a slot the RMRR does not cover, or update the firmware.",
        looksAt: ["/sys/kernel/iommu_groups/N/reserved_regions"],
        examples: [.fail("rmrr-direct", device: "0000:01:00.0"), .pass("intel-vfio-ready", device: "0000:01:00.0")])

    public static func evaluate(_ context: CheckContext) -> [Finding] {
        let host = context.host
        return host.selectedDevices.compactMap { d -> Finding? in
            guard let g = host.group(of: d), !g.isNoIOMMU else { return nil }
            let s = Subject.device(d.address)
            var path: String { "/sys/kernel/iommu_groups/\(g.id)/reserved_regions" }
            switch g.reservedRegions {
            case .unreadable(let why): return undecided(s, d, why)
            case .absent: return undecided(s, d, "\(path) does not exist (kernel before 4.11)")
            case .value(let regions):
                // Most groups have only an "msi" region or none: no lists are made for them.
                let anyDirect = regions.contains { $0.type.utf8.starts(with: "direct".utf8) }
                let direct = anyDirect ? regions.filter { $0.type == "direct" } : []
                let relaxable = anyDirect ? regions.filter { $0.type == "direct-relaxable" } : []
                @Sendable func text(_ r: ReservedRegion) -> String { "0x\(hex(r.start, 16))-0x\(hex(r.end, 16)) \(r.type)" }
                if !direct.isEmpty {
                    return finding(.fail, s, "group \(g.id) has \(direct.count) firmware direct-mapped region\(direct.count == 1 ? "" : "s") (RMRR): \(direct.map(text).joined(separator: ", "))",
                                   evidence: direct.map { Evidence(path, text($0)) },
                                   impacts: Impact.blocks(Mode.iommuBacked, "\(d.bdf) needs a firmware identity mapping (RMRR): the kernel refuses to attach it to a VFIO domain",
                                                     fix: [descriptor.remedy]))
                }
                if !relaxable.isEmpty {
                    return finding(.info, s, "group \(g.id) has relaxable direct regions (allowed for VFIO): \(relaxable.map(text).joined(separator: ", "))",
                                   evidence: relaxable.map { Evidence(path, text($0)) })
                }
                let types = regions.count == 1 ? regions[0].type : regions.map(\.type).joined(separator: ", ")
                return finding(.pass, s, "no firmware direct-mapped regions in group \(g.id)", evidence: [Evidence(path, types)])
            }
        }
    }

    /// Without the group's regions, a firmware identity mapping can be neither seen nor ruled out.
    static func undecided(_ s: Subject, _ d: PCIDevice, _ why: String) -> Finding {
        var f = skipped(s, why)
        f.impacts = Impact.undecided(Mode.iommuBacked, "cannot tell whether firmware pins \(d.bdf) with an identity mapping (\(why))",
                                     ["run vfio-probe as root on the host, with /sys mounted whole"])
        return f
    }
}
