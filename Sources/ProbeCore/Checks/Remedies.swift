/// Remedies that both a check and the live diagnosis give: the text lives here once.
extension Actions {
    public enum Remedy {
        /// Access to the /dev/vfio nodes (vfio.dev-nodes).
        public static let devNodes =
            "Run as root, or give the service's user the nodes with a udev rule (SERVICE_USER: the user the service runs as): printf 'SUBSYSTEM==\"vfio\", OWNER=\"SERVICE_USER\", MODE=\"0660\"\\n' > /etc/udev/rules.d/90-vfio.rules && udevadm control --reload && udevadm trigger --subsystem-match=vfio"
        /// A group that is not viable: its companions (device.group-viability).
        public static let groupViability =
            "Bind every companion in the group to vfio-pci (or unbind it); companions cannot be split off without ACS in the hardware."
        /// The capabilities a no-IOMMU group needs (noiommu.privileges).
        public static let noIOMMUPrivileges =
            "Run as root, or grant the capabilities (systemd: AmbientCapabilities=CAP_SYS_RAWIO CAP_SYS_ADMIN)."
        /// A function the host runs on (device.host-use).
        public static let hostUse =
            "Leave it to the host. To give it away anyway, first move what the host keeps on it (the file systems, swap, routes or console it names) to another device, then name it with --device to see the consequence."
        /// A function the host runs on, named with --device (device.host-use).
        public static let hostUseNamed =
            "Before binding it, move what the host keeps on it (the file systems, swap, routes or console it names) to another device, or the host loses them."
        /// A function not on vfio-pci (device.driver).
        public static let deviceDriver = "Bind the function to vfio-pci through driver_override (the actions list the exact commands)."
        /// RLIMIT_MEMLOCK, which pinned DMA memory is charged to (process.memlock).
        public static let memlock =
            "Raise it where the service starts: in its systemd unit, LimitMEMLOCK=infinity under [Service] (then systemctl daemon-reload and restart it); for a login session, \"SERVICE_USER - memlock unlimited\" in /etc/security/limits.conf (SERVICE_USER: the user it runs as). A process without CAP_SYS_RESOURCE cannot raise its own hard limit (ulimit -l only lowers it)."
        /// vfio_iommu_type1.dma_entry_limit (vfio.dma-entry-limit).
        public static let dmaEntryLimit =
            "Use hugepages, or raise it: echo 1048576 > /sys/module/vfio_iommu_type1/parameters/dma_entry_limit (or vfio_iommu_type1.dma_entry_limit= on the command line)."
        /// The VF token a VF (or a PF with VFs in use) opens with (device.sriov).
        public static let sriovVFToken =
            "Pass the PF owner's VF token when opening the VF (DPDK: --vfio-vf-token=UUID; QEMU: -device vfio-pci,host=VF,vf-token=UUID)."
        /// A firmware RMRR the kernel refuses a VFIO domain for (device.reserved-regions).
        public static let reservedRegions =
            "Turn off the firmware feature that needs the RMRR (on HP ProLiant: the \"HP Shared Memory\" / iLO NIC sharing for that slot, via conrep), move the card to a slot the RMRR does not cover, or update the firmware."
        /// Interrupt remapping, which isolates MSIs (iommu.irq-remapping).
        public static let interruptRemapping =
            "Enable interrupt remapping: VT-d/x2APIC in the firmware setup, remove intremap=off from the kernel command line; in QEMU, -device intel-iommu,intremap=on with -machine kernel-irqchip=split."
    }
}
