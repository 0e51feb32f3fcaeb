/// A way the kernel can reset one PCI function, by the name `reset_method` shows it
/// (drivers/pci/pci.c, pci_reset_fn_methods). A struct, not an enum: a later kernel may add a
/// name, and the probe keeps it as read.
public struct ResetMethod: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    /// pci_dev_specific_reset: a reset in quirks.c's pci_dev_reset_methods table.
    public static let deviceSpecific = ResetMethod(rawValue: "device_specific")
    /// pci_dev_acpi_reset: the ACPI _RST method of the device's companion.
    public static let acpi = ResetMethod(rawValue: "acpi")
    /// pcie_reset_flr: PCIe Function Level Reset (Device Capabilities bit 28).
    public static let flr = ResetMethod(rawValue: "flr")
    /// pci_af_flr: FLR through the Advanced Features capability (conventional PCI).
    public static let afFLR = ResetMethod(rawValue: "af_flr")
    /// pci_pm_reset: D0 → D3hot → D0, which resets a function that clears NoSoftRst.
    public static let pm = ResetMethod(rawValue: "pm")
    /// pci_reset_bus_function: a hotplug slot reset, or a secondary bus reset of the parent bridge.
    public static let bus = ResetMethod(rawValue: "bus")
    /// cxl_reset_bus_function: a bus reset below a CXL port, SBR unmasked for it.
    public static let cxlBus = ResetMethod(rawValue: "cxl_bus")

    /// In the kernel's order of preference (pci_reset_fn_methods[1...]).
    public static let kernelOrder: [ResetMethod] = [.deviceSpecific, .acpi, .flr, .afFLR, .pm, .bus, .cxlBus]

    /// Resets this one function without touching any other (every method but the bus resets).
    public var isFunctionLevel: Bool { self != .bus && self != .cxlBus }

    /// `reset_method` as the kernel shows it: names separated by spaces, a newline at the end;
    /// nothing at all when a user wrote "" to it (every method disabled).
    public static func list(_ text: String) -> [ResetMethod] {
        text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }).map { ResetMethod(rawValue: String($0)) }
    }
}
