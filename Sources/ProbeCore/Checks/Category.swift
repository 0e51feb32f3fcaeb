public enum Category: String, Sendable, Codable, CaseIterable {
    case firmware, iommu, interrupts, kernel, vfio, noiommu, process, platform, device, live, site
    public var title: String {
        switch self {
        case .firmware: "Firmware"
        case .iommu: "IOMMU"
        case .interrupts: "Interrupts"
        case .kernel: "Kernel"
        case .vfio: "VFIO stack"
        case .noiommu: "No-IOMMU mode"
        case .process: "This process"
        case .platform: "Platform"
        case .device: "Devices"
        case .live: "Live proof (ioctls)"
        case .site: "Site checks"
        }
    }
}
