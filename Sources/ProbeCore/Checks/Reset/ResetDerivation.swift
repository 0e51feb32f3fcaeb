/// The reset methods of a function as Linux 6.12 derives them (drivers/pci/pci.c,
/// pci_init_reset_methods over pci_reset_fn_methods), from config space and the topology: for a
/// kernel without `reset_method` (before 5.15), and to explain an empty one. Pure.
///
/// What config space and sysfs cannot show is listed in `unseen`, not guessed: an ACPI _RST
/// method (pci_dev_acpi_reset), a hotplug slot's reset_slot (pci_dev_reset_slot_function), a CXL
/// port above (cxl_reset_bus_function, and the SBR-masked case of pci_reset_bus_function).
public struct ResetDerivation: Sendable, Equatable {
    /// The methods the kernel would list, in its order.
    public var methods: [ResetMethod]
    /// Why each method is not there, in the kernel's order ("flr: no FLR bit in Device Capabilities").
    public var reasons: [String]
    /// What the probe cannot see (the kernel may still find a method there).
    public var unseen: [String]
    /// False when config space could not be read past its header (not root): nothing is derived.
    public var complete: Bool

    /// The functions read, by the bus they are on and by every bus above them: made once per
    /// report, so a 4096-function host costs one pass, not one per function.
    public struct BusIndex: Sendable {
        struct Bus: Hashable {
            var domain: UInt32
            var bus: UInt8
        }
        /// On the bus itself, sorted.
        var on: [Bus: [PCIAddress]] = [:]
        /// On the bus or below it, sorted.
        var under: [Bus: [PCIAddress]] = [:]
        /// Buses with a PCI_DEV_FLAGS_NO_BUS_RESET function on or below them (pci_bus_resettable).
        var unresettable: Set<Bus> = []
        public init(_ host: Host) {
            for (a, d) in host.devices {
                let own = Bus(domain: a.domain, bus: a.bus)
                on[own, default: []].append(a)
                var buses: Set<Bus> = [own]
                for p in d.parents where p.domain == a.domain { buses.insert(Bus(domain: p.domain, bus: p.bus)) }
                let blocks = ResetDerivation.blocksBusReset(d)
                for b in buses {
                    under[b, default: []].append(a)
                    if blocks { unresettable.insert(b) }
                }
            }
            on = on.mapValues { $0.sorted() }
            under = under.mapValues { $0.sorted() }
        }
        func on(_ a: PCIAddress) -> [PCIAddress] { on[Bus(domain: a.domain, bus: a.bus)] ?? [] }
        func under(_ a: PCIAddress) -> [PCIAddress] { under[Bus(domain: a.domain, bus: a.bus)] ?? [] }
        func resettable(_ a: PCIAddress) -> Bool { !unresettable.contains(Bus(domain: a.domain, bus: a.bus)) }
    }

    public static func derive(_ d: PCIDevice, on host: Host, index: BusIndex? = nil) -> ResetDerivation {
        var methods: [ResetMethod] = []
        var reasons: [String] = []
        let unseen = [
            "acpi (an ACPI _RST method)", "a hotplug slot's reset (bus, through pci_dev_reset_slot_function)",
            "cxl_bus (a CXL port above it)",
        ]
        guard d.configComplete else {
            return ResetDerivation(
                methods: [], reasons: ["config space past its header is unreadable (not root)"], unseen: unseen, complete: false)
        }
        let onRootBus = d.parents.isEmpty
        let noFLR =
            ResetQuirks.noFLR.contains { $0.matches(d) } || (ResetQuirks.noFLRRevision1.contains { $0.matches(d) } && d.revision == 1)
        let express = d.capabilities.first { $0.space == .normal && $0.id == PCICapability.express }
        // pcie_reset_flr: PCI_EXP_DEVCAP_FLR (bit 28 of Device Capabilities, cap + 4).
        let devcapFLR = express?.dword(at: 4).map { $0 & (1 << 28) != 0 } ?? false
        let flr = !noFLR && devcapFLR

        // pci_dev_specific_reset: the first pci_dev_reset_methods entry for the ID decides.
        if let entry = ResetQuirks.deviceSpecific.first(where: { $0.id.matches(d) }) {
            let ok: Bool
            switch entry.probe {
            case .always: ok = true
            case .flr: ok = flr
            // nvme_disable_and_flr also needs a BAR 0 (pci_resource_start); an NVMe function has one.
            case .nvmeWithFLR: ok = d.classCode == 0x010802 && flr
            case .chelsioT4: ok = d.deviceID & 0xf000 == 0x4000
            }
            if ok { methods.append(.deviceSpecific) } else { reasons.append("device_specific: \(entry.function)'s probe refuses it") }
        } else {
            reasons.append("device_specific: not in quirks.c's pci_dev_reset_methods")
        }
        // pcie_reset_flr
        if flr {
            methods.append(.flr)
        } else {
            reasons.append(
                noFLR
                    ? "flr: quirk_no_flr (PCI_DEV_FLAGS_NO_FLR_RESET: FLR hangs this device)"
                    : express == nil ? "flr: not a PCI Express function" : "flr: no FLR bit in Device Capabilities")
        }
        // pci_af_flr: the AF capability's TP and FLR bits (PCI_AF_CAP, cap + 3).
        if let af = d.capabilities.first(where: { $0.space == .normal && $0.id == PCICapability.advancedFeatures }) {
            let cap = af.registers.count > 3 ? af.registers[3] : 0
            if noFLR {
                reasons.append("af_flr: quirk_no_flr (PCI_DEV_FLAGS_NO_FLR_RESET)")
            } else if cap & 0x01 != 0 && cap & 0x02 != 0 {
                methods.append(.afFLR)
            } else {
                reasons.append("af_flr: the Advanced Features capability lacks TP or FLR")
            }
        } else {
            reasons.append("af_flr: no Advanced Features capability")
        }
        // pci_pm_reset: a PM capability pci_pm_init accepted (version <= 3), no
        // PCI_DEV_FLAGS_NO_PM_RESET, NoSoftRst (PMCSR bit 3) clear. The reset itself goes
        // D0 -> D3hot -> D0 and runs only from D0; the kernel does not probe D3hot support.
        if let pm = d.capabilities.first(where: { $0.space == .normal && $0.id == PCICapability.powerManagement }),
            let pmc = pm.word(at: 2), let pmcsr = pm.word(at: 4)
        {
            let quirk =
                !onRootBus
                && (ResetQuirks.noPMReset.contains { $0.matches(d) }
                    || (d.vendorID == ResetQuirks.noPMResetVGAVendor && d.classCode >> 8 == 0x0300))
            if pmc & 0x7 > 3 {
                reasons.append("pm: PM capability version \(pmc & 0x7) (pci_pm_init ignores it)")
            } else if quirk {
                reasons.append("pm: quirk_no_pm_reset (its D3hot->D0 transition does not reset it)")
            } else if pmcsr & 0x8 != 0 {
                reasons.append("pm: NoSoftRst+ (D3hot->D0 keeps its state)")
            } else {
                methods.append(.pm)
            }
        } else {
            reasons.append("pm: no Power Management capability")
        }
        // pci_reset_bus_function -> pci_parent_bus_reset: not on the root bus, not a bridge with
        // a subordinate bus, no PCI_DEV_FLAGS_NO_BUS_RESET, and alone on its bus.
        let peers = busPeers(of: d, on: host, index: index)
        if onRootBus {
            reasons.append("bus: it is on the root bus (no bridge above it to reset)")
        } else if d.headerType == 1 || d.headerType == 2 {
            reasons.append("bus: a bridge with a subordinate bus")
        } else if ResetQuirks.noBusReset.contains(where: { $0.matches(d) }) || ResetQuirks.nvidiaNoBusReset(d) {
            reasons.append("bus: quirk_no_bus_reset (PCI_DEV_FLAGS_NO_BUS_RESET)")
        } else if !peers.isEmpty {
            reasons.append("bus: other functions share its bus (\(Listing.some(peers)))")
        } else if host.scope != .all {
            reasons.append("bus: cannot tell whether other functions share its bus (only the named functions were read)")
        } else {
            methods.append(.bus)
        }
        return ResetDerivation(methods: methods, reasons: reasons, unseen: unseen, complete: true)
    }

    /// The other functions on `d`'s bus, among those read (all of them on a whole-host read).
    public static func busPeers(of d: PCIDevice, on host: Host, index: BusIndex? = nil) -> [PCIAddress] {
        (index ?? BusIndex(host)).on(d.address).filter { $0 != d.address }
    }

    /// PCI_DEV_FLAGS_NO_BUS_RESET (quirk_no_bus_reset, and NVIDIA's GPUs with it).
    static func blocksBusReset(_ x: PCIDevice) -> Bool {
        ResetQuirks.noBusReset.contains { $0.matches(x) } || ResetQuirks.nvidiaNoBusReset(x)
    }

    /// The functions a secondary bus reset of `d`'s bus resets, `d` included: every function on
    /// the bus and below it (vfio_pci_for_each_slot_or_bus walks pdev->bus with pci_walk_bus).
    /// nil when the kernel can do no bus reset there (pci_probe_reset_bus: no bridge above the
    /// bus, or a PCI_DEV_FLAGS_NO_BUS_RESET device on or below it, or on the bridge).
    public static func hotResetDomain(of d: PCIDevice, on host: Host, index: BusIndex? = nil) -> [PCIAddress]? {
        guard let bridge = d.parents.first else { return nil }
        let index = index ?? BusIndex(host)
        // pci_bus_resettable: the bridge and every function on or below the bus.
        if let b = host.devices[bridge], blocksBusReset(b) { return nil }
        return index.resettable(d.address) ? index.under(d.address) : nil
    }
}
