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
