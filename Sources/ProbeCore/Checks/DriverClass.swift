/// Driver families, by the kernel's rules for DMA ownership.
public enum DriverClass: String, Sendable {
    /// vfio-pci and vendor variant drivers (mlx5_vfio_pci, hisi_acc_vfio_pci, …).
    case vfio
    /// pci-stub: claims the device, does no DMA (driver_managed_dma).
    case stub
    /// pcieport: PCIe port services on bridges (driver_managed_dma).
    case pcieport
    /// uio_pci_generic, igb_uio, uio_hv_generic: userspace gets the device with no isolation.
    case unsafeUserspace
    /// Any other kernel driver: does DMA on its own behalf.
    case kernel
    /// No driver bound.
    case unbound = "none"

    public init(_ driver: String?) {
        guard let d = driver else { self = .unbound; return }
        switch d {
        case "pci-stub": self = .stub
        case "pcieport": self = .pcieport
        case "uio_pci_generic", "igb_uio", "uio_hv_generic": self = .unsafeUserspace
        default: self = DriverClass.namesVFIO(d) ? .vfio : .kernel
        }
    }

    /// vfio-pci and its variants all carry "vfio" in their names (a byte search: it runs for
    /// every function, in the reader and in several checks).
    static func namesVFIO(_ driver: String) -> Bool {
        var window: UInt32 = 0  // the last four bytes
        for c in driver.utf8 {
            window = window << 8 | UInt32(c)
            if window == 0x7666_696f { return true }  // "vfio"
        }
        return false
    }

}
