extension HostReader {
    /// The CPU vendor, whether this is a guest, and of which hypervisor.
    func readPlatform() -> Platform {
        let cpuinfo = fs.read("/proc/cpuinfo", limit: 64 << 10).text
        var vendor: Reading<CPUVendor> = cpuinfo.map { _ in .other }
        var flag: Bool?
        var flags: Set<String>?
        var addressSizes: (physical: Int, virtual: Int)?
        if let text = cpuinfo.value {
            for line in text.split(separator: "\n") {
                if line.hasPrefix("vendor_id") {
                    vendor = .value(
                        line.contains("GenuineIntel")
                            ? .intel : line.contains("AuthenticAMD") || line.contains("HygonGenuine") ? .amd : .other)
                } else if line.hasPrefix("CPU implementer") {
                    vendor = .value(.arm)
                } else if line.hasPrefix("flags") {
                    flags = Set(line.split(separator: " ").dropFirst().map(String.init))
                    flag = flags?.contains("hypervisor")
                } else if line.hasPrefix("address sizes") {
                    addressSizes = Platform.parseAddressSizes(line)
                } else if line.isEmpty {
                    break  // the first processor's block is enough
                }
            }
        }
        var p = Platform(
            cpuVendor: vendor, hypervisorFlag: flag,
            systemVendor: fs.read("/sys/class/dmi/id/sys_vendor").text.value,
            productName: fs.read("/sys/class/dmi/id/product_name").text.value,
            hypervisorType: fs.read("/sys/hypervisor/type").text.value)
        p.cpuFlags = flags
        p.addressSizes = addressSizes
        // Cloud Hypervisor's PCI host bridge is 8086:0d57 (Firecracker's PCI support took the same
        // code); a KVM guest that shows it and no DMI vendor is one of the two.
        if flag == true, p.systemVendor == nil {
            let root = "\(HostReader.pciDevices)/0000:00:00.0"
            p.hostBridge = (fs.read("\(root)/vendor").hex.value, fs.read("\(root)/device").hex.value)
        }
        p.hypervisor = Platform.identify(p, hasVMBus: fs.presence("/sys/bus/vmbus/devices", directory: true).value == true)
        return p
    }

    func readVMBus() -> Reading<[VMBusDevice]> {
        fs.list("/sys/bus/vmbus/devices").map { ids in
            ids.map { id in
                let dir = "/sys/bus/vmbus/devices/\(id)"
                return VMBusDevice(
                    id: id, classID: fs.read("\(dir)/class_id").text.value, driver: fs.link("\(dir)/driver").lastComponent.value)
            }
        }
    }

    /// mdev instances and the parents that offer types (/sys/bus/mdev, /sys/class/mdev_bus).
    func readMdevs() -> (devices: Reading<[MdevDevice]>, parents: Reading<[MdevParent]>) {
        let devices = fs.list("/sys/bus/mdev/devices").map { uuids in
            uuids.map { uuid in
                let dir = "/sys/bus/mdev/devices/\(uuid)"
                let parts = (fs.link(dir).value ?? "").split(separator: "/")
                return MdevDevice(
                    uuid: uuid, parent: parts.count >= 2 ? String(parts[parts.count - 2]) : nil,
                    type: fs.link("\(dir)/mdev_type").lastComponent.value,
                    iommuGroup: fs.link("\(dir)/iommu_group").lastComponent.value.flatMap { Int($0) },
                    driver: fs.link("\(dir)/driver").lastComponent.value)
            }
        }
        let parents = fs.list("/sys/class/mdev_bus").map { names in
            names.map { name in
                let tdir = "/sys/class/mdev_bus/\(name)/mdev_supported_types"
                let types = (fs.list(tdir).value ?? []).map { t in
                    MdevType(
                        id: t, name: fs.read("\(tdir)/\(t)/name").text.value,
                        deviceAPI: fs.read("\(tdir)/\(t)/device_api").text.value,
                        availableInstances: fs.read("\(tdir)/\(t)/available_instances").text.value.flatMap { Int($0) },
                        instances: fs.list("\(tdir)/\(t)/devices").value ?? [])
                }
                return MdevParent(name: name, types: types)
            }
        }
        return (devices, parents)
    }
}

extension Platform {
    static func identify(_ p: Platform, hasVMBus: Bool) -> Hypervisor? {
        let vendor = (p.systemVendor ?? "").lowercased()
        let product = (p.productName ?? "").lowercased()
        if hasVMBus || (vendor.contains("microsoft") && product.contains("virtual")) { return .hyperV }
        if p.hypervisorType == "xen" || vendor.contains("xen") { return .xen }
        if vendor.contains("qemu") || product.contains("kvm") || vendor.contains("red hat") || product.contains("q35") { return .kvm }
        if vendor.contains("cloud hypervisor") { return .cloudHypervisor }
        if p.hypervisorFlag == true, p.systemVendor == nil, p.hostBridge.vendor == 0x8086, p.hostBridge.device == 0x0d57 {
            return .cloudHypervisorOrFirecracker
        }
        if vendor.contains("vmware") { return .vmware }
        if product.contains("virtualbox") || vendor.contains("innotek") { return .virtualBox }
        if p.hypervisorFlag == true { return .other }
        return nil
    }
}
