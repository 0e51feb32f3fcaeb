/// Which members of an IOMMU group keep it from going to userspace, member by member.
public struct GroupViability: Sendable {
    /// Members on a driver that does DMA of its own: "0000:01:00.1 on ixgbe", "ff000.dma (not PCI) on pl330".
    public var blockers: [String] = []
    /// The commands that bind (or unbind) them.
    public var actions: [String] = []
    /// Members that keep the group viable: "0000:00:01.0 (pcieport)", "ff000.dma (not PCI)".
    public var fine: [String] = []
    /// PCI members whose driver could not be read.
    public var unknown: [String] = []
    /// Each PCI member's driver, as read.
    public var evidence: [Evidence] = []
    public var isViable: Bool { blockers.isEmpty }
}

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

    /// The one group-blockers rule: `keepsGroupViable` for PCI functions and, with `nonPCI`, a
    /// platform device only on VFIO's own driver (vfio-platform, vfio-amba, vfio-fsl-mc,
    /// vfio-cdx) or none. `except` (the device asked about) is left out. The `groups` listing and
    /// the live diagnosis look at PCI functions only; the group-viability check at every member.
    public func viability(of g: IOMMUGroup, except: PCIAddress? = nil, nonPCI: Bool = true) -> GroupViability {
        var v = GroupViability()
        for member in nonPCI ? g.otherMembers : [] {
            if let drv = g.otherDrivers[member], !DriverClass.namesVFIO(drv) {
                v.blockers.append("\(member) (not PCI) on \(drv)")
                v.actions.append("echo \(member) > /sys/kernel/iommu_groups/\(g.id)/devices/\(member)/driver/unbind")
            } else {
                v.fine.append("\(member) (not PCI)")
            }
        }
        for a in g.pciMembers where a != except {
            guard let m = device(a), !m.unreadable.contains("driver") else { v.unknown.append(a.description); continue }
            v.evidence.append(Evidence("/sys/bus/pci/devices/\(a)/driver", m.driver ?? "(none)"))
            if keepsGroupViable(m) {
                v.fine.append("\(a) (\(m.driver ?? "no driver"))")
            } else {
                v.blockers.append("\(a) on \(m.driver ?? "?")")
                v.actions += Actions.bindToVFIO(m, on: self)  // to its variant driver when it has one
            }
        }
        return v
    }
}
