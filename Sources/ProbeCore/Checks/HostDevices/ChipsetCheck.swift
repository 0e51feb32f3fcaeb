/// Functions of the chipset itself: listed, never offered for assignment.
public struct ChipsetCheck: Check {
    public static let descriptor = CheckDescriptor(
        id: "device.chipset",
        title: "An assignment candidate, not a chipset function",
        category: .device,
        rationale:
            "Host bridges, the LPC/ISA bridge, the SMBus controller, the platform's memory and power controllers, the IOMMU's own PCI function and root complex event collectors are the chipset: the host's firmware, sensors, RAS and the IOMMU itself work through them. vfio-pci would bind some of them, but no workload can use them and the host loses what they do; they are not counted as bindable.",
        remedy: "None: leave it to the host.",
        looksAt: ["/sys/bus/pci/devices/BDF/class", "config space: the PCI Express device/port type (RCEC)"],
        examples: [
            .fail("intel-vfio-ready", device: "0000:00:00.0", remedy: "None: leave it to the host."),
            .fail("host-in-use", device: "0000:00:1f.4", remedy: "None: leave it to the host."),
            .fail(
                "intel-vfio-ready", device: "0000:00:1f.2",
                remedy:
                    "None in software: VFIO takes the group whole, and the chipset function cannot leave its driver. A slot whose group holds no chipset function (behind an ACS-capable port) can be assigned."
            ),
        ],
        decides: true)

    /// The chipset's classes (PCI Code and ID Assignment, as include/linux/pci_ids.h names
    /// them), by class and subclass.
    static let classes: [UInt16: String] = [
        0x0600: "host bridge",  // PCI_CLASS_BRIDGE_HOST
        0x0601: "ISA/LPC bridge",  // PCI_CLASS_BRIDGE_ISA
        0x0c05: "SMBus controller",  // PCI_CLASS_SERIAL_SMBUS
        0x0500: "memory controller",  // PCI_CLASS_MEMORY_RAM
        0x0501: "flash memory controller",  // PCI_CLASS_MEMORY_FLASH
        0x0580: "memory controller",  // PCI_CLASS_MEMORY_OTHER (PCH shared SRAM, PMC)
        0x0806: "IOMMU",  // PCI_CLASS_SYSTEM_IOMMU (the AMD-Vi function)
        0x0807: "root complex event collector",  // PCI_CLASS_SYSTEM_RCEC
    ]

    /// What the function is, when it is part of the chipset.
    static func role(_ d: PCIDevice, _ host: Host) -> String? {
        // The IOMMU's own function, whatever its class (virtio-iommu's is 0x00ff).
        if let unit = host.units.first(where: { $0.pciFunction == d.address }) { return "the IOMMU \(unit.name)" }
        // PCI_EXP_TYPE_RC_EC (10): an RCEC whatever its class says.
        if d.expressType == 10 { return "root complex event collector" }
        return classes[UInt16(d.classCode >> 8)]
    }

    public static func evaluate(_ context: CheckContext) -> [Finding] {
        let host = context.host
        return host.selectedDevices.compactMap { d -> Finding? in
            let s = Subject.device(d.address)
            let ev = [Evidence("/sys/bus/pci/devices/\(d.bdf)/class", "0x\(hex(d.classCode, 6))")]
            if let role = role(d, host) {
                return finding(
                    .fail, s, "a chipset function (\(role)): not an assignment candidate", evidence: ev,
                    impacts: Impact.blocks(
                        Mode.usable, "\(d.bdf) is a chipset function (\(role)), not a device to assign", liveCanLift: false))
            }
            // VFIO takes a group whole: a chipset function on a driver of its own in the group
            // would have to leave its driver too (an unbound one, like most host bridges, is fine).
            let g = host.group(of: d).flatMap { $0.kind == .iommu ? $0 : nil }
            let mates = (g?.pciMembers ?? []).filter { $0 != d.address }.compactMap { host.devices[$0] }.compactMap { m -> String? in
                guard let role = role(m, host), !host.keepsGroupViable(m) else { return nil }
                return "\(m.bdf) (\(role), on \(m.driver ?? "?"))"
            }
            // An assignment candidate: nothing to say.
            guard let g, !mates.isEmpty else { return nil }
            let list = mates.joined(separator: ", ")
            return finding(
                .fail, s, "shares IOMMU group \(g.id) with the chipset: \(list)",
                remedy:
                    "None in software: VFIO takes the group whole, and the chipset function cannot leave its driver. A slot whose group holds no chipset function (behind an ACS-capable port) can be assigned.",
                evidence: ev,
                impacts: Impact.blocks(
                    Mode.usable, "\(d.bdf) shares IOMMU group \(g.id) with the chipset (\(list)), which cannot be given away with it",
                    liveCanLift: false))
        }
    }
}
