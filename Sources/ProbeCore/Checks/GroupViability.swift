extension Host {
    /// Whether a group member leaves its group viable for VFIO, by this kernel's rule. Since 5.19
    /// a driver must say it manages DMA itself (`driver_managed_dma`: vfio-pci and its variants,
    /// pci-stub, pcieport — on any function, an RCEC included); before, `vfio_dev_driver_allowed`
    /// let any driver stay on a function that is not a normal (type 0) one, and allowed pci-stub
    /// on the rest. An unbound member is always fine. An unknown release takes the current rule.
    public func keepsGroupViable(_ m: PCIDevice) -> Bool {
        let cls = DriverClass(m.driver)
        if cls == .unbound || cls == .vfio || cls == .stub { return true }
        if let v = kernel.version, v < KernelVersion(5, 19) { return (m.headerType ?? 0) != 0 }
        return cls == .pcieport
    }

    /// The members that keep a device's group from being viable, with the commands that bind them.
    public func groupBlockers(of d: PCIDevice) -> (members: [String], actions: [String]) {
        guard let g = group(of: d) else { return ([], []) }
        var members: [String] = []
        var actions: [String] = []
        for a in g.pciMembers where a != d.address {
            guard let m = device(a), !keepsGroupViable(m) else { continue }
            members.append("\(a) on \(m.driver ?? "?")")
            actions += Actions.bindToVFIO(a, currentDriver: m.driver)
        }
        return (members, actions)
    }
}
