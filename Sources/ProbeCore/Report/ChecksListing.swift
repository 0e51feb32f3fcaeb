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

    /// `vfio-probe checks --format json`: every descriptor, in the registry's order.
    public static func json() -> String {
        JSONValue.object([
            ("schema_version", .int(1)),
            (
                "checks",
                .array(
                    CheckRegistry.all.map { c -> JSONValue in
                        let d = c.descriptor
                        return .object([
                            ("id", .string(d.id)), ("title", .string(d.title)), ("category", .string(d.category.rawValue)),
                            ("category_title", .string(d.category.title)), ("rationale", .string(d.rationale)),
                            ("remedy", .string(d.remedy)), ("looks_at", JSONValue(d.looksAt)), ("decides", .bool(d.decides)),
                            ("aliases", JSONValue(d.aliases)),
                        ])
                    })
            ),
        ]).render() + "\n"
    }
}
