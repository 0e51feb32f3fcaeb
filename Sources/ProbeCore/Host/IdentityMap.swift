/// A firmware-mandated identity mapping and the devices it applies to.
public struct IdentityMap: Sendable, Equatable {
    public enum Source: String, Sendable { case rmrr = "RMRR", ivmd = "IVMD" }
    public var source: Source
    public var index: Int
    public var base: UInt64
    /// Inclusive.
    public var end: UInt64
    /// Applies to every device (IVMD type 20h).
    public var allDevices: Bool
    /// Functions named, resolved to addresses.
    public var devices: [PCIAddress]
    /// Bridges named (RMRR scope type 2): every function below them is covered
    /// (is_downstream_to_pci_bridge).
    public var bridges: [PCIAddress] = []
    /// The PCI segment of `ranges` (IVMD's pci_seg).
    public var segment: UInt32 = 0
    /// Requester-id ranges (IVMD type 22h), segment 0.
    public var ranges: [ClosedRange<UInt16>]
    /// Scope paths that did not resolve (a bridge on the path was not found).
    public var unresolved: [String]

    public func covers(_ d: PCIDevice) -> Bool {
        let a = d.address
        // An IVMD for all devices covers its segment (init_unity_map_range: 0..last_bdf of pci_seg).
        if allDevices && (source == .rmrr || a.domain == segment) { return true }
        if devices.contains(a) || bridges.contains(a) || d.parents.contains(where: bridges.contains) { return true }
        let rid = UInt16(a.bus) << 8 | UInt16(a.device) << 3 | UInt16(a.function)
        return a.domain == segment && ranges.contains { $0.contains(rid) }
    }

    public var description: String { "\(source.rawValue) \(index) 0x\(hex(base, 1))-0x\(hex(end, 1))" }
}
