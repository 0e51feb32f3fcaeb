/// The device IDs the kernel's reset code treats specially (Linux 6.12, drivers/pci/quirks.c),
/// each table beside the kernel function it comes from, and the AMD GPUs the out-of-tree
/// vendor-reset module handles. Pure data: `ResetDerivation` and the reset checks read it.
public enum ResetQuirks {
    /// A vendor and a device; nil device: every device of the vendor (PCI_ANY_ID).
    public struct ID: Sendable, Hashable {
        public var vendor: UInt16
        public var device: UInt16?
        public init(_ vendor: UInt16, _ device: UInt16?) {
            self.vendor = vendor
            self.device = device
        }
        func matches(_ d: PCIDevice) -> Bool { d.vendorID == vendor && (device == nil || d.deviceID == device) }
    }

    /// quirk_no_flr (DECLARE_PCI_FIXUP_EARLY): PCI_DEV_FLAGS_NO_FLR_RESET, which pcie_reset_flr
    /// and pci_af_flr honour. AMD Starship/Matisse HD audio and USB, Intel 82579LM/V, MediaTek
    /// MT7922/MT7925.
    public static let noFLR: [ID] = [
        ID(0x1022, 0x1487), ID(0x1022, 0x148c), ID(0x1022, 0x149c), ID(0x1022, 0x7901),
        ID(0x8086, 0x1502), ID(0x8086, 0x1503), ID(0x14c3, 0x0616), ID(0x14c3, 0x7925),
    ]
    /// quirk_no_flr_snet: the SolidRun SNET DPU, revision 1 only.
    public static let noFLRRevision1: [ID] = [ID(0xd063, 0x1000)]

    /// quirk_no_bus_reset (DECLARE_PCI_FIXUP_HEADER): PCI_DEV_FLAGS_NO_BUS_RESET, which
    /// pci_parent_bus_reset, pci_dev_reset_slot_function and pci_bus_resettable honour. NVIDIA
    /// GB10 root ports, Atheros AR9xxx/QCA988x, Qualcomm WCN6855/WCN7850/SDX62, Cavium CN8xxx root
    /// port, TI KeyStone C667x, ASMedia ASM1164.
    public static let noBusReset: [ID] = [
        ID(0x10de, 0x22ce), ID(0x10de, 0x22d0),
        ID(0x168c, 0x0030), ID(0x168c, 0x0032), ID(0x168c, 0x003c), ID(0x168c, 0x0033), ID(0x168c, 0x0034), ID(0x168c, 0x003e),
        ID(0x17cb, 0x1103), ID(0x17cb, 0x1107), ID(0x17cb, 0x0308),
        ID(0x177d, 0xa100), ID(0x104c, 0xb005), ID(0x1b21, 0x1164),
    ]
    /// quirk_nvidia_no_bus_reset: every NVIDIA device with (device & 0xffc0) == 0x2340.
    public static func nvidiaNoBusReset(_ d: PCIDevice) -> Bool { d.vendorID == 0x10de && d.deviceID & 0xffc0 == 0x2340 }

    /// quirk_no_pm_reset: PCI_DEV_FLAGS_NO_PM_RESET, which pci_pm_reset honours, for every ATI VGA
    /// function (DECLARE_PCI_FIXUP_CLASS_HEADER, class 0x0300) and Mellanox Spectrum-1..4; the
    /// quirk is not applied to a device on the root bus ("an ineffective PM reset may be better
    /// than nothing").
    public static let noPMReset: [ID] = [ID(0x15b3, 0xcb84), ID(0x15b3, 0xcf6c), ID(0x15b3, 0xcf70), ID(0x15b3, 0xcf80)]
    public static let noPMResetVGAVendor: UInt16 = 0x1002

    /// What a pci_dev_reset_methods entry's probe (`probe == true`) asks beyond the ID.
    public enum SpecificProbe: Sendable {
        /// It answers 0: reset_intel_82599_sfp_virtfn, reset_ivb_igd, reset_hinic_vf_dev.
        case always
        /// delay_250ms_after_flr: pcie_reset_flr's probe.
        case flr
        /// nvme_disable_and_flr: class 010802, pcie_reset_flr's probe, and a BAR 0.
        case nvmeWithFLR
        /// reset_chelsio_generic_dev: only devices with (device & 0xf000) == 0x4000 (T4).
        case chelsioT4
    }
    /// pci_dev_reset_methods (quirks.c), the table pci_dev_specific_reset walks; its first
    /// matching entry decides.
    public static let deviceSpecific: [(id: ID, probe: SpecificProbe, function: String)] = [
        (ID(0x8086, 0x10ed), .always, "reset_intel_82599_sfp_virtfn"),
        (ID(0x8086, 0x0156), .always, "reset_ivb_igd"),
        (ID(0x8086, 0x0166), .always, "reset_ivb_igd"),
        (ID(0x144d, 0xa804), .nvmeWithFLR, "nvme_disable_and_flr"),
        (ID(0x8086, 0x0953), .flr, "delay_250ms_after_flr"),
        (ID(0x8086, 0x0a54), .flr, "delay_250ms_after_flr"),
        (ID(0x025e, 0xf1ac), .flr, "delay_250ms_after_flr"),
        (ID(0x1425, nil), .chelsioT4, "reset_chelsio_generic_dev"),
        (ID(0x19e5, 0x375e), .always, "reset_hinic_vf_dev"),
    ]

    /// AMD GPUs the out-of-tree vendor-reset module (github.com/gnif/vendor-reset, module
    /// `vendor_reset`) resets, as its src/device-db.h lists them (vendor_reset_devices, commit
    /// 03e525d): without it they do not come back from a reset (the "AMD reset bug"). Polaris
    /// 10/11/12, Vega 10/20 and Navi 10/12/14; the file's first entry for an ID names its family.
    public static let vendorReset: [(family: String, devices: [UInt16])] = [
        ("Polaris 10", [0x67c0, 0x67c1, 0x67c2, 0x67c4, 0x67c7, 0x67d0, 0x67df, 0x67c8, 0x67c9, 0x67ca, 0x67cc, 0x67cf, 0x6fdf]),
        ("Polaris 11", [0x67e0, 0x67e3, 0x67e8, 0x67eb, 0x67ef, 0x67ff, 0x67e1, 0x67e7, 0x67e9]),
        ("Polaris 12", [0x6980, 0x6981, 0x6985, 0x6986, 0x6987, 0x6995, 0x6997, 0x699f]),
        (
            "Vega 10",
            [0x6860, 0x6861, 0x6862, 0x6863, 0x6864, 0x6867, 0x6868, 0x6869, 0x686a, 0x686b, 0x686c, 0x686d, 0x686e, 0x686f, 0x687f]
        ),
        ("Vega 20", [0x66a0, 0x66a1, 0x66a2, 0x66a3, 0x66a4, 0x66a7, 0x66af, 0x164c]),
        ("Navi 10", [0x7310, 0x7312, 0x7318, 0x7319, 0x731a, 0x731b, 0x731e, 0x731f, 0x15bf, 0x15dd, 0x15de, 0x15e7, 0x1636, 0x1638]),
        ("Navi 14", [0x7340, 0x7341, 0x7347, 0x734f]),
        ("Navi 12", [0x7360, 0x7362]),
    ]

    /// The vendor-reset family of an AMD GPU, when the module knows it.
    public static func vendorResetFamily(_ d: PCIDevice) -> String? {
        guard d.vendorID == 0x1002 else { return nil }
        return vendorReset.first { $0.devices.contains(d.deviceID) }?.family
    }
}
