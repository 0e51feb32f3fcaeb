/// Each group's default DMA domain type.
public struct DefaultDomainCheck: Check {
    public static let descriptor = CheckDescriptor(
        id: "iommu.default-domain",
        title: "Default domain type of the groups",
        category: .iommu,
        rationale:
            "A group's type says how the kernel's own DMA is translated: DMA (strict), DMA-FQ (lazy flush), identity (passthrough, iommu=pt), blocked. VFIO attaches its own domain in every case, so identity does not stop VFIO; it does mean host-driver DMA is not isolated.",
        remedy: "Nothing is needed for VFIO. For isolation of host drivers too, drop iommu=pt / iommu.passthrough=1.",
        looksAt: ["/sys/kernel/iommu_groups/*/type"],
        examples: [.pass("intel-vfio-ready"), .info("amd-host")], decides: false)

    public static func evaluate(_ context: CheckContext) -> [Finding] {
        var byType: [String: [Int]] = [:]
        var unreadable: [Int] = []
        for (id, g) in context.host.groups where g.kind == .iommu {
            switch g.type {
            case .value(let t): byType[t, default: []].append(id)
            case .absent: byType["(no type file)", default: []].append(id)
            case .unreadable: unreadable.append(id)
            }
        }
        if byType.isEmpty { return unreadable.isEmpty ? [] : [skipped("the groups' type files are unreadable")] }
        let summary = byType.keys.sorted().map { "\($0) ×\(byType[$0]!.count)" }.joined(separator: ", ")
        let evidence = byType.keys.sorted().map { Evidence("/sys/kernel/iommu_groups/{\(idRanges(byType[$0]!))}/type", $0) }
        if byType.keys.contains("identity") {
            return [
                finding(
                    .info,
                    "default domains: \(summary); identity groups pass host DMA through untranslated (VFIO still attaches its own domain)",
                    evidence: evidence)
            ]
        }
        if byType.keys.contains("blocked") {
            return [
                finding(
                    .warn, "default domains: \(summary); blocked groups allow no DMA until a driver attaches a domain",
                    remedy: "Check the kernel log for why the default domain could not be allocated.", evidence: evidence)
            ]
        }
        return [finding(.pass, "default domains: \(summary)", evidence: evidence)]
    }
}
