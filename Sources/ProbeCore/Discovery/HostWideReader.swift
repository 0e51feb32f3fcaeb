/// What the reader learns of the host apart from its PCI functions and groups: one job of the
/// whole-host pass.
struct HostWide: Sendable {
    var kernel: Kernel
    var modules: Modules
    var units: Reading<[IOMMUUnit]>
    var tables: FirmwareTables
    /// /dev/vfio's group nodes, listed once on a whole-host read; nil for named devices, whose
    /// groups' nodes are looked up one by one.
    var groupNodes: (nodes: [String: DeviceNode], readable: Bool)?
    /// /dev/vfio/devices, by name (whole-host reads).
    var cdevNodes: [String: DeviceNode]?
    var container: Reading<DeviceNode>
    var iommufd: Reading<DeviceNode>
    var process: ProcessFacts
    var platform: Platform
    var vmbus: Reading<[VMBusDevice]>
    var mdevs: (devices: Reading<[MdevDevice]>, parents: Reading<[MdevParent]>)
    var use: HostUse
    var boot: BootConfig
    var memory: Memory
    var kernelLog: (log: Reading<KernelLog>, dmesgRestrict: Reading<Int>) = (.absent, .absent)
    var confidential = ConfidentialComputing()
}

extension HostReader {
    func readHostWide(scope: Host.Scope) -> HostWide {
        let kernel = readKernel()
        var modules = readModules(release: kernel.release.value, config: kernel.config.value)
        modules.drivers = readDriverConfig(release: kernel.release.value)
        let iomem = fs.read("/proc/iomem").text
        return HostWide(
            kernel: kernel,
            modules: modules,
            units: readIOMMUUnits(countDevices: scope == .all),
            tables: readFirmwareTables(),
            groupNodes: scope == .all ? readGroupNodes() : nil,
            cdevNodes: scope == .all ? readNodes(in: "/dev/vfio/devices") : nil,
            container: fs.node("/dev/vfio/vfio"),
            iommufd: fs.node("/dev/iommu"),
            process: readProcess(),
            platform: readPlatform(),
            vmbus: readVMBus(),
            mdevs: readMdevs(),
            use: readHostUse(iomem: iomem),
            boot: readBootConfig(release: kernel.release.value),
            memory: readMemory(iomem: iomem),
            kernelLog: readKernelLog(),
            confidential: readConfidentialComputing())
    }
}
