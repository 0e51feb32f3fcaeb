/// What the reset checks share: which functions they look at and where each one's reset
/// methods come from (the kernel's `reset_method`, or the derivation where it has none).
enum DeviceResets {
    /// Functions that can be given to userspace: not bridges of any kind (host, ISA, PCI-PCI,
    /// CardBus: base class 06, or a bridge header), which vfio-pci does not take.
    static func candidates(_ host: Host) -> [PCIDevice] {
        host.selectedDevices.filter { !$0.isBridge && $0.baseClass != 0x06 }
    }

    /// Where a function's reset methods come from.
    enum Source: Equatable {
        /// `reset_method` as read (empty: a user wrote "" to it, disabling every method).
        case sysfs
        /// 5.15+ with no `reset_method`: the kernel hides it when it found no method.
        case hidden
        /// Before 5.15 (or an unknown version) with no `reset_method`: derived from config space.
        case derived
    }

    /// Since 5.15 (commit "PCI: Add pci_reset_fn_methods" and the `reset_method` attribute).
    static let resetMethodSince = KernelVersion(5, 15)

    struct Methods {
        var methods: [ResetMethod]
        var source: Source
        var derivation: ResetDerivation
        var hasFunctionReset: Bool { methods.contains { $0.isFunctionLevel } }
    }

    /// The methods of `d`, or nil when they cannot be told (reset_method unreadable, or derived
    /// from config space the probe could not read).
    static func methods(_ d: PCIDevice, on host: Host, index: ResetDerivation.BusIndex? = nil) -> Methods? {
        let derivation = ResetDerivation.derive(d, on: host, index: index)
        switch d.resetMethod {
        case .value(let m): return Methods(methods: m, source: .sysfs, derivation: derivation)
        case .unreadable: return nil
        case .absent:
            if let v = host.kernel.version, v >= resetMethodSince {
                return Methods(methods: [], source: .hidden, derivation: derivation)
            }
            guard derivation.complete else { return nil }
            return Methods(methods: derivation.methods, source: .derived, derivation: derivation)
        }
    }

    static func path(_ d: PCIDevice, _ attribute: String) -> String { "/sys/bus/pci/devices/\(d.bdf)/\(attribute)" }

    static func evidence(_ d: PCIDevice) -> [Evidence] {
        var ev: [Evidence] = []
        switch d.resetMethod {
        case .value(let m): ev.append(Evidence(path(d, "reset_method"), m.isEmpty ? "(empty)" : m.map(\.rawValue).joined(separator: " ")))
        case .absent: ev.append(Evidence(path(d, "reset_method"), "(absent)"))
        case .unreadable(let why): ev.append(Evidence(path(d, "reset_method"), "unreadable: \(why)"))
        }
        if let a = d.d3coldAllowed { ev.append(Evidence(path(d, "d3cold_allowed"), a ? "1" : "0")) }
        return ev
    }

    /// The live walks' answer to VFIO_DEVICE_GET_PCI_HOT_RESET_INFO for `a`: the legacy group
    /// path's first (it names groups), else the cdev's.
    static func liveAnswer(_ live: LiveReport?, _ a: PCIAddress) -> (walk: LiveWalk, domain: HotResetDomain?, errno: Int32?)? {
        guard let walks = live?.devices[a] else { return nil }
        for w in walks.sorted(by: { ($0.kind == .iommufd ? 1 : 0) < ($1.kind == .iommufd ? 1 : 0) }) {
            if w.facts.hotReset != nil || w.facts.hotResetErrno != nil { return (w, w.facts.hotReset, w.facts.hotResetErrno) }
        }
        return nil
    }
}
