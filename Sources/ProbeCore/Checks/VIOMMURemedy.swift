extension Host {
    /// How a guest gets an IOMMU, for the VMM it runs under (nil on bare metal).
    public var vIOMMURemedy: String? {
        switch platform.hypervisor {
        case nil: return nil
        case .hyperV?: return IOMMUTableCheck.hyperVRemedy
        case .kvm?: return IOMMUTableCheck.qemuRemedy
        case .cloudHypervisor?:
            return
                "start the VM with an IOMMU: cloud-hypervisor --platform iommu_segments=[0] (or iommu=on on the --device it must cover); its virtio-iommu does not remap interrupts, so VFIO runs there without interrupt isolation"
        case .cloudHypervisorOrFirecracker?:
            return
                "under Cloud Hypervisor, start the VM with --platform iommu_segments=[0] (virtio-iommu: VFIO without interrupt isolation); Firecracker offers no vIOMMU at all: run the userspace driver on the host"
        case .vmware?: return "give the VM a virtual IOMMU (VMware: vvtd.enable = \"TRUE\", \"Expose IOMMU to the guest OS\")"
        case .xen?, .virtualBox?, .other?:
            return "give the guest a virtual IOMMU, if its hypervisor offers one, or run the userspace driver on the host"
        }
    }
}
