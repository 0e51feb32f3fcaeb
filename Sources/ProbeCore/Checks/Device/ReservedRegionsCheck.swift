/// Firmware-mandated identity mappings (RMRR) in the device's group.
public struct ReservedRegionsCheck: Check {
    public static let descriptor = CheckDescriptor(
        id: "device.reserved-regions",
        title: "No firmware RMRR pins the device",
        category: .device,
        rationale:
            "A `direct` reserved region is memory firmware insists the device can always reach 1:1 (an Intel RMRR, an AMD IVMD, an Arm RMR). Since 6.6 the kernel refuses to attach such a device to a VFIO domain on every IOMMU (require_direct in __iommu_device_set_domain, -EINVAL); before 6.6 only VT-d refused (device_is_rmrr_locked: \"ineligible for IOMMU domain attach due to platform RMRR requirement\"), and AMD-Vi and SMMU attached it, keeping the region out of the IOVA space. `direct-relaxable` regions (USB, graphics) are allowed.",
        remedy: Actions.Remedy.reservedRegions,
        looksAt: ["/sys/kernel/iommu_groups/N/reserved_regions"],
        examples: [
            .fail("rmrr-direct", device: "0000:01:00.0"), .pass("intel-vfio-ready", device: "0000:01:00.0"),
            // __iommu_device_set_domain's require_direct (6.6+) against 6.1's AMD-Vi, which attached it.
            .fail("amd-host-6.12", device: "0000:04:00.3"), .info("amd-host", device: "0000:04:00.3"),
        ])

    public static func evaluate(_ context: CheckContext) -> [Finding] {
        let host = context.host
        return host.selectedDevices.compactMap { d -> Finding? in
            guard let g = host.group(of: d), !g.isNoIOMMU else { return nil }
            let s = Subject.device(d.address)
            var path: String { "/sys/kernel/iommu_groups/\(g.id)/reserved_regions" }
            switch g.reservedRegions {
            case .unreadable(let why): return undecided(s, d, why.description)
            case .absent: return undecided(s, d, "\(path) does not exist (kernel before 4.11)")
            case .value(let regions):
                // Most groups have only an "msi" region or none: no lists are made for them.
                let anyDirect = regions.contains { $0.type.utf8.starts(with: "direct".utf8) }
                let direct = anyDirect ? regions.filter { $0.type == "direct" } : []
                let relaxable = anyDirect ? regions.filter { $0.type == "direct-relaxable" } : []
                func text(_ r: ReservedRegion) -> String { "0x\(hex(r.start, 16))-0x\(hex(r.end, 16)) \(r.type)" }
                let rule = host.directMappingRule
                if !direct.isEmpty && !rule.refuses {
                    return finding(
                        .info, s,
                        "group \(g.id) has \(direct.count) firmware direct-mapped region\(direct.count == 1 ? "" : "s"), which this kernel allows: \(rule.rule)",
                        evidence: direct.map { Evidence(path, text($0)) } + [
                            Evidence("/proc/sys/kernel/osrelease", host.kernel.release.value ?? "?")
                        ])
                }
                if !direct.isEmpty {
                    return finding(
                        .fail, s,
                        "group \(g.id) has \(direct.count) firmware direct-mapped region\(direct.count == 1 ? "" : "s") (RMRR): \(direct.map(text).joined(separator: ", "))",
                        detail: rule.rule,
                        evidence: direct.map { Evidence(path, text($0)) },
                        impacts: Impact.blocks(
                            Mode.iommuBacked,
                            "\(d.bdf) needs a firmware identity mapping (RMRR): the kernel refuses to attach it to a VFIO domain",
                            fix: [descriptor.remedy]))
                }
                if !relaxable.isEmpty {
                    return finding(
                        .info, s,
                        "group \(g.id) has relaxable direct regions (allowed for VFIO): \(relaxable.map(text).joined(separator: ", "))",
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
        f.impacts = Impact.undecided(
            Mode.iommuBacked, "cannot tell whether firmware pins \(d.bdf) with an identity mapping (\(why))",
            ["run vfio-probe as root on the host, with /sys mounted whole"])
        return f
    }
}
