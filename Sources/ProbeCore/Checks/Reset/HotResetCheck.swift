/// Which functions a hot (slot or secondary bus) reset of the function takes with it, and
/// whether they are where a reset needs them: on vfio-pci (vfio_pci_dev_set_resettable) and, for
/// VFIO_DEVICE_PCI_HOT_RESET, owned by the caller. Live, the kernel's own answer
/// (VFIO_DEVICE_GET_PCI_HOT_RESET_INFO); otherwise from the topology. Informs; decides nothing.
public struct HotResetCheck: Check {
    public static let descriptor = CheckDescriptor(
        id: "device.hot-reset",
        title: "Hot-reset domain",
        category: .device,
        rationale:
            "A secondary bus reset resets every function on the bus and below it (pci_walk_bus). vfio-pci falls back to one when a released function has no reset of its own (vfio_pci_dev_set_try_reset), and QEMU asks for one with VFIO_DEVICE_PCI_HOT_RESET; both run only when every affected function is bound to vfio-pci, and the ioctl only when the caller owns them all: every affected group's fd on the legacy path, the same iommufd for a cdev (VFIO_PCI_DEVID_NOT_OWNED otherwise). On the root bus there is no bus reset.",
        remedy: "Bind every function of the reset domain to vfio-pci and give the process all their groups.",
        looksAt: [
            "the functions on its bus and below it, and their drivers",
            "VFIO_DEVICE_GET_PCI_HOT_RESET_INFO on the open device (--device-open)",
        ],
        examples: [
            .info("reset-host", device: "0000:01:00.0"), .info("reset-host", device: "0000:02:00.0"),
            .warn("reset-host", device: "0000:03:01.0", remedy: bind([PCIAddress("0000:03:02.0")!: nil])),
        ],
        decides: false)

    /// Commands that bind `functions` (address → current driver) to vfio-pci.
    static func bind(_ functions: [PCIAddress: String?]) -> String {
        functions.keys.sorted().flatMap { Actions.bindToVFIO($0, currentDriver: functions[$0] ?? nil) }.joined(separator: "; ")
    }

    static func named(_ a: PCIAddress, _ host: Host) -> String {
        guard let d = host.devices[a] else { return a.description }
        return "\(a) (\(d.driver ?? "no driver"))"
    }

    public static func evaluate(_ context: CheckContext) -> [Finding] {
        let host = context.host
        let index = ResetDerivation.BusIndex(host)
        // The domain and its functions off vfio-pci are the same for every function of a bus
        // (64 VFs of a PF share one): worked out once per bus.
        var perBus: [PCIAddress: (domain: [PCIAddress], notVFIO: [PCIAddress])?] = [:]
        func domain(of d: PCIDevice) -> (domain: [PCIAddress], notVFIO: [PCIAddress])? {
            guard let bridge = d.parents.first else { return nil }
            if let known = perBus[bridge] { return known }
            let facts = ResetDerivation.hotResetDomain(of: d, on: host, index: index).map { all in
                (all, all.filter { DriverClass(host.devices[$0]?.driver) != .vfio })
            }
            perBus[bridge] = facts
            return facts
        }
        return DeviceResets.candidates(host).compactMap { d -> Finding? in
            let s = Subject.device(d.address)
            let functionReset = DeviceResets.methods(d, on: host, index: index)?.hasFunctionReset
            // Where the function has a reset of its own, the domain is for the record.
            let matters: Status = functionReset == false ? .warn : .info
            if let live = DeviceResets.liveAnswer(context.live, d.address) {
                let ev = [
                    Evidence(
                        "VFIO_DEVICE_GET_PCI_HOT_RESET_INFO (\(live.walk.kind.rawValue) walk)",
                        live.domain?.description ?? ErrnoName.of(live.errno ?? 0))
                ]
                guard let domain = live.domain else {
                    let e = live.errno ?? 0
                    return finding(
                        .info, s,
                        e == 19
                            ? "the kernel can do no slot or bus reset of it (VFIO_DEVICE_GET_PCI_HOT_RESET_INFO: ENODEV)"
                            : "VFIO_DEVICE_GET_PCI_HOT_RESET_INFO answered \(ErrnoName.of(e))",
                        evidence: ev)
                }
                let others = domain.members.filter { $0.address != d.address }
                let notOwned = domain.notOwned(openedGroup: d.iommuGroup).filter { $0.address != d.address }
                if notOwned.isEmpty {
                    return finding(
                        .info, s,
                        others.isEmpty
                            ? "a hot reset resets only this function (the kernel's answer)"
                            : "a hot reset also resets \(Listing.some(others.map(\.address))): all \(domain.usesDevIDs ? "owned through this iommufd" : "in this process's groups")",
                        evidence: ev)
                }
                let list = notOwned.map { m in domain.usesDevIDs ? named(m.address, host) : "\(named(m.address, host)) in group \(m.id)" }
                return finding(
                    matters, s,
                    "a hot reset also resets \(list.joined(separator: ", ")), not \(domain.usesDevIDs ? "owned through this iommufd" : "in this process's groups"): VFIO_DEVICE_PCI_HOT_RESET needs them all",
                    remedy: matters == .warn
                        ? "Give the process every group of the reset domain (or open every function's cdev in one iommufd)." : nil,
                    evidence: ev)
            }
            // A function with a reset of its own, on a whole-host run without the kernel's answer:
            // its bus-reset domain is in the JSON (devices[].reset), a finding per function of a
            // bus of VFs would repeat it.
            if functionReset == true, host.scope == .all { return nil }
            guard let (domain, offVFIO) = domain(of: d) else {
                return finding(
                    .info, s,
                    d.parents.isEmpty
                        ? "on the root bus: no bus reset exists for it"
                        : "a function on its bus or its bridge has PCI_DEV_FLAGS_NO_BUS_RESET (quirk_no_bus_reset): no bus reset")
            }
            let bus = "\(hex(d.address.domain, 4)):\(hex(d.address.bus, 2))"
            let partial = host.scope == .all ? "" : " (among the functions read: a --device run reads only the named ones and their groups)"
            let others = domain.filter { $0 != d.address }
            let notVFIO = offVFIO.filter { $0 != d.address }
            // The drivers that decide, at most eight of them: a bus of VFs has dozens.
            let ev = (notVFIO.isEmpty ? others : notVFIO).prefix(8).map {
                Evidence("/sys/bus/pci/devices/\($0)/driver", host.devices[$0]?.driver ?? "(none)")
            }
            if others.isEmpty {
                return finding(.info, s, "a bus reset of bus \(bus) resets only this function\(partial)", evidence: ev)
            }
            if notVFIO.isEmpty {
                return finding(
                    .info, s,
                    "a bus reset of bus \(bus) also resets \(Listing.some(others)), all on vfio-pci\(partial)",
                    evidence: ev)
            }
            let bridges = notVFIO.filter { host.devices[$0]?.isBridge == true }
            let summary =
                "a bus reset of bus \(bus) also resets \(Listing.some(notVFIO, as: { named($0, host) })), not on vfio-pci: vfio-pci's reset on release and VFIO_DEVICE_PCI_HOT_RESET need every one on vfio-pci\(partial)"
            // The commands only where they are the remedy (no reset of its own): a bus of VFs
            // would otherwise build them for every function.
            var fix: String? {
                bridges.isEmpty ? bind(Dictionary(uniqueKeysWithValues: notVFIO.map { ($0, host.devices[$0]?.driver) })) : nil
            }
            return finding(
                matters, s, summary,
                detail: bridges.isEmpty
                    ? nil
                    : "\(bridges.map(\.description).joined(separator: ", ")) is a bridge below the bus: it cannot be on vfio-pci, so no hot reset can run.",
                remedy: matters == .warn ? fix ?? "No hot reset can run: a bridge shares the bus." : nil, evidence: ev)
        }
    }
}
