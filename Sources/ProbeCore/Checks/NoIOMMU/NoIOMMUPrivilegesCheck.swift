/// What no-IOMMU use needs from the process: CAP_SYS_RAWIO, and physical addresses from pagemap.
public struct NoIOMMUPrivilegesCheck: Check {
    public static let descriptor = CheckDescriptor(
        id: "noiommu.privileges",
        title: "Privileges for no-IOMMU use",
        category: .noiommu,
        rationale:
            "Opening /dev/vfio/noiommu-N needs CAP_SYS_RAWIO. With no IOMMU the device sees physical addresses, which /proc/self/pagemap reveals only with CAP_SYS_ADMIN (DPDK: \"Expecting 'PA' IOVA mode but current mode is 'VA'\").",
        remedy: Actions.Remedy.noIOMMUPrivileges,
        looksAt: ["/proc/self/status (CapEff bits 17 and 21)"],
        examples: [.pass("noiommu-enabled"), .fail("nonroot"), .info("intel-vfio-ready")])

    public static func evaluate(_ context: CheckContext) -> [Finding] {
        let host = context.host
        // A kernel without CONFIG_VFIO_NOIOMMU has no such mode to need privileges for
        // (noiommu.available says so): a FAIL here would be noise.
        if host.noIOMMUCompiledIn == false { return [] }
        // Not needed only where no-IOMMU cannot apply: an IOMMU is active and every selected
        // device is in a real group (no-IOMMU mode is for the devices outside every group).
        if host.iommuActive == true && !host.groups.values.contains(where: \.isNoIOMMU)
            && host.selectedDevices.allSatisfy({ host.group(of: $0) != nil })
        {
            return [finding(.info, "not needed: an IOMMU is active")]
        }
        guard case .value(let caps) = host.process.effectiveCapabilities else {
            var f = skipped("/proc/self/status gives no CapEff")
            f.impacts = [
                .undecided(
                    .noiommu, "cannot tell whether this process has CAP_SYS_RAWIO (/proc/self/status gives no CapEff)",
                    ["run vfio-probe with /proc mounted"])
            ]
            return [f]
        }
        let ev = [Evidence("/proc/self/status", "CapEff: \(hex(caps, 16))")]
        let rawio = caps & (1 << UInt64(ProcessFacts.capSysRawIO)) != 0
        let admin = caps & (1 << UInt64(ProcessFacts.capSysAdmin)) != 0
        var out: [Finding] = []
        if rawio && admin {
            out.append(
                finding(.pass, "CAP_SYS_RAWIO (open no-IOMMU groups) and CAP_SYS_ADMIN (physical addresses from pagemap)", evidence: ev))
        }
        if !rawio {
            out.append(
                finding(
                    .fail, "no CAP_SYS_RAWIO: opening /dev/vfio/noiommu-N will fail with EPERM", evidence: ev,
                    impacts: [.requires(.noiommu, "this process lacks CAP_SYS_RAWIO", [descriptor.remedy])]))
        }
        if !admin {
            out.append(
                finding(.warn, "no CAP_SYS_ADMIN: /proc/self/pagemap hides physical addresses, which no-IOMMU DMA needs", evidence: ev))
        }
        return out
    }
}
