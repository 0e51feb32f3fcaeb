/// `vfio-probe checks`: the registry, as documentation.
public enum ChecksListing {
    public static func render(verbose: Bool) -> String {
        var out: [String] = []
        for cat in Category.allCases {
            let checks = CheckRegistry.all.map { $0.descriptor }.filter { $0.category == cat }
            if checks.isEmpty { continue }
            out.append(cat.title)
            for d in checks {
                out.append("  \(d.id)\(String(repeating: " ", count: max(1, 30 - d.id.count)))\(d.title)")
                out.append("      looks at: \(d.looksAt.joined(separator: "; "))")
                if verbose {
                    out.append("      why: \(d.rationale)")
                    out.append("      fix: \(d.remedy)")
                    if !d.decides { out.append("      informs only: --skip leaves the verdict whole") }
                }
            }
            out.append("")
        }
        return out.joined(separator: "\n")
    }
}
