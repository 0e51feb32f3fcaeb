extension ReadWorker {
    /// One function: its attributes read relative to its folder. Identity and driver come from
    /// `uevent` (the kernel's view, as lspci shows it: a VF's config space reads ffff for its
    /// vendor and device, and the kernel fixes up some classes), capabilities from one read of
    /// config space decoded by libpci. Optional attributes are simply tried: a failed open is
    /// cheaper than listing the folder.
    mutating func readFunction(_ a: PCIAddress, listVFs: Bool) -> FunctionReading {
        let name = a.description
        let path = "\(HostReader.pciDevices)/\(name)"
        var out = FunctionReading()
        // Its place in the hierarchy: the /sys/bus/pci/devices link names every bridge above it.
        var parents: [PCIAddress] = []
        let target = devices().flatMap({ $0.link(name) }).value
        if let target {
            // The kernel links each function to its own folder: a link to another one (a crafted
            // tree aliasing one folder thousands of times) names no function.
            let leaf = target.utf8.lastIndex(of: UInt8(ascii: "/")).map { target.utf8[target.utf8.index(after: $0)...] } ?? target.utf8[...]
            guard leaf.elementsEqual(name.utf8) else {
                out.problems.append("\(path): links to a folder that is not its own")
                return out
            }
            parents = PCIAddress.bridges(inDevicePath: target)
        }
        guard let dir = functionFolder(path, name: name, target: target).value else {
            out.problems.append("\(path): unreadable")
            return out
        }

        var info: PCIConfigInfo?
        var configProblem: String?
        // The header and capability list in one read; for a PCI Express function its extended
        // list, walked on the same descriptor.
        let pci = self.pci
        let config = dir.read("config", limit: PCIConfigReader.bytesRead) { head, more in
            pci.decode(a, config: head).map { i in
                var i = i
                if i.complete, i.expressType != nil { i.capabilities += PCIConfigReader.extendedCapabilities(more) }
                return i
            }
        }
        switch config {
        case .value(let decoded):
            switch decoded {
            case .success(let i): info = i
            case .failure(let e): configProblem = e.message
            }
        case .absent: configProblem = "\(path)/config: missing"
        case .unreadable(let why): configProblem = why.description
        }
        // Trees without a uevent fall back to the separate attributes, then to config space.
        let uevent = dir.read("uevent").trimmed.value.flatMap(PCIUevent.init)
        guard let vendor = uevent?.vendor ?? dir.read("vendor").hex.value.map({ UInt16(truncatingIfNeeded: $0) }) ?? info?.vendorID,
            let device = uevent?.device ?? dir.read("device").hex.value.map({ UInt16(truncatingIfNeeded: $0) }) ?? info?.deviceID,
            let cls = uevent?.classCode ?? dir.read("class").hex.value.map({ UInt32(truncatingIfNeeded: $0) }) ?? info?.classCode
        else {
            out.problems.append("\(path): vendor, device or class unreadable (\(configProblem ?? "no uevent"))")
            return out
        }
        if let configProblem { out.problems.append("\(path)/config: \(configProblem)") }

        // The fields are filled in and boxed once: a device is an immutable value.
        var d = PCIDevice.Fields(address: a, vendorID: vendor, deviceID: device, classCode: cls)
        if let info {
            d.headerType = info.headerType
            d.multifunction = info.multifunction
            d.capabilities = info.capabilities
            d.expressType = info.expressType
            d.secondaryBus = info.secondaryBus
            d.configComplete = info.complete
            d.revision = info.revision
            d.eetlpPrefix = info.eetlpPrefix
        }
        if let sub = uevent?.subsystem { (d.subsystemVendorID, d.subsystemDeviceID) = sub }
        d.parents = parents
        if let uevent {
            d.driver = uevent.driver
        } else {
            switch dir.link("driver").lastComponent {
            case .value(let v): d.driver = v
            case .absent: break
            case .unreadable: d.unreadable.append("driver")
            }
        }
        if let o = dir.read("driver_override").text.value, o != "(null)", !o.isEmpty { d.driverOverride = o }
        switch dir.link("iommu_group").lastComponent {
        case .value(let g): d.iommuGroup = Decode.decimal(g.utf8)
        case .absent: break
        case .unreadable: d.unreadable.append("iommu_group")
        }
        d.numaNode = dir.read("numa_node").decimal.value
        d.physfn = dir.link("physfn").lastComponent.value.flatMap(PCIAddress.init)
        // A VF is never a PF itself: only other functions may have sriov_* attributes.
        if d.physfn == nil, let total = dir.read("sriov_totalvfs").decimal.value {
            let num = dir.read("sriov_numvfs").decimal.value ?? 0
            // The VF list costs a readlink per VF; it is read only for a PF the user named.
            let vfs =
                !listVFs
                ? []
                : (dir.list().value ?? []).filter { $0.hasPrefix("virtfn") }
                    .compactMap { dir.link($0).lastComponent.value }.compactMap(PCIAddress.init).sorted()
            d.sriov = SRIOV(totalVFs: total, numVFs: num, vfs: vfs)
        }
        // vfio-dev/vfioN: only under a VFIO driver (vfio-pci and its variants: mlx5_vfio_pci, ...).
        if let drv = d.driver, DriverClass.namesVFIO(drv) { d.vfioDevice = dir.list("vfio-dev").value?.first { $0.hasPrefix("vfio") } }
        // pci_is_vga: class VGA (0x0300) or a pre-class-code VGA device (0x0001).
        if cls >> 8 == 0x0300 || cls >> 8 == 0x0001 { d.bootVGA = dir.read("boot_vga").decimal.value.map { $0 == 1 } }
        if d.vendorID == 0x1af4 {
            d.virtio = (dir.list().value ?? []).filter { $0.hasPrefix("virtio") && Int($0.dropFirst(6)) != nil }
                .map { readVirtio("\(path)/\($0)", name: $0) }
        }
        // Reset: the kernel's list (hidden when empty, 5.15+) and whether D3cold is allowed.
        d.resetMethod = dir.read("reset_method").text.map(ResetMethod.list)
        d.d3coldAllowed = dir.read("d3cold_allowed").decimal.value.map { $0 != 0 }
        out.device = PCIDevice(d)
        return out
    }

    func readVirtio(_ dir: String, name: String) -> VirtioDevice {
        VirtioDevice(
            name: name,
            deviceID: fs.read("\(dir)/device").hex.value.map { UInt32(truncatingIfNeeded: $0) },
            features: fs.read("\(dir)/features").text,
            driver: fs.link("\(dir)/driver").lastComponent.value)
    }
}
