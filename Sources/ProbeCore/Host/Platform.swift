public enum CPUVendor: String, Sendable, Codable {
    case intel, amd, arm, other
}

/// What the machine is: CPU vendor and, in a guest, the hypervisor.
public struct Platform: Sendable {
    public var cpuVendor: Reading<CPUVendor>
    /// "hypervisor" flag in /proc/cpuinfo (x86).
    public var hypervisorFlag: Bool?
    /// DMI system vendor and product, e.g. "QEMU" / "Standard PC (Q35 + ICH9, 2009)".
    public var systemVendor: String?
    public var productName: String?
    /// /sys/hypervisor/type ("xen").
    public var hypervisorType: String?
    /// The hypervisor, when the evidence names one.
    public var hypervisor: Hypervisor?
    /// Vendor and device of 0000:00:00.0, which names some VMMs' PCI host bridge.
    public var hostBridge: (vendor: UInt64?, device: UInt64?) = (nil, nil)
    /// The first processor's "flags" in /proc/cpuinfo (x86); nil where the line is missing.
    public var cpuFlags: Set<String>?
    /// "address sizes : 46 bits physical, 48 bits virtual" (x86).
    public var addressSizes: (physical: Int, virtual: Int)?

    /// Whether the kernel runs with 5-level paging: x86 clears `la57` from the flags when it does
    /// not (early_identify_cpu: `if (!pgtable_l5_enabled()) setup_clear_cpu_cap(X86_FEATURE_LA57)`).
    public var la57: Bool? { cpuFlags.map { $0.contains("la57") } }

    /// The bits of a user virtual address an IOVA-as-VA mapping must cover: 47 (TASK_SIZE_MAX
    /// with 4-level paging, so a 48-bit IOMMU covers it), 56 with 5-level paging (a process that
    /// asks mmap for addresses above 47 bits gets them, arch_get_mmap_base). Nil off x86 or
    /// without cpuinfo.
    public var userAddressBits: Int? {
        guard let la57 else { return nil }
        return la57 ? 56 : 47
    }

    static func parseAddressSizes(_ line: Substring) -> (physical: Int, virtual: Int)? {
        // "address sizes	: 46 bits physical, 48 bits virtual"
        guard let colon = line.firstIndex(of: ":") else { return nil }
        let words = line[line.index(after: colon)...].split(whereSeparator: { $0 == " " || $0 == "," })
        var physical: Int?
        var virtual: Int?
        for (i, w) in words.enumerated() where i + 2 < words.count && words[i + 1] == "bits" {
            if words[i + 2] == "physical" { physical = Int(w) }
            if words[i + 2] == "virtual" { virtual = Int(w) }
        }
        guard let physical, let virtual else { return nil }
        return (physical, virtual)
    }
}

public enum Hypervisor: String, Sendable, Codable {
    case kvm = "KVM/QEMU"
    case cloudHypervisor = "Cloud Hypervisor"
    /// KVM with Cloud Hypervisor's PCI host bridge (8086:0d57) and no DMI: Cloud Hypervisor or
    /// Firecracker, which took its PCI code.
    case cloudHypervisorOrFirecracker = "KVM (Cloud Hypervisor or Firecracker)"
    case hyperV = "Microsoft Hyper-V"
    case vmware = "VMware"
    case xen = "Xen"
    case virtualBox = "VirtualBox"
    case other = "unidentified hypervisor"
}
