/// The kernel's isolation rule (6.12), from config space: which functions provide ACS
/// (`pci_acs_enabled` with the `pci_dev_acs_enabled` quirks), and so which functions
/// `pci_device_group` puts together.

/// ACS controls (PCI_ACS_SV ... PCI_ACS_DT, include/uapi/linux/pci_regs.h).
public struct ACSFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public static let sv = ACSFlags(rawValue: 0x01)
    public static let tb = ACSFlags(rawValue: 0x02)
    public static let rr = ACSFlags(rawValue: 0x04)
    public static let cr = ACSFlags(rawValue: 0x08)
    public static let uf = ACSFlags(rawValue: 0x10)
    public static let ec = ACSFlags(rawValue: 0x20)
    public static let dt = ACSFlags(rawValue: 0x40)
    /// REQ_ACS_FLAGS (drivers/iommu/iommu.c): what a port needs for the functions below it to
    /// get groups of their own.
    public static let required: ACSFlags = [.sv, .rr, .cr, .uf]

    /// "SV RR CR UF".
    public var names: String {
        let all: [(ACSFlags, String)] = [(.sv, "SV"), (.tb, "TB"), (.rr, "RR"), (.cr, "CR"), (.uf, "UF"), (.ec, "EC"), (.dt, "DT")]
        return all.filter { contains($0.0) }.map(\.1).joined(separator: " ")
    }
}

/// What `pci_acs_enabled(pdev, REQ_ACS_FLAGS)` answers for one function, and why.
public enum ACSState: Sendable, Equatable {
    /// A single-function endpoint (or upstream port): ACS does not apply, the answer is yes.
    case notApplicable
    /// The ACS capability has every required control on (or hard-wired: not in its capability word).
    case enabled
    /// A `pci_dev_acs_enabled` quirk vouches for it.
    case quirk(String)
    /// A `pci_dev_acs_enabled` quirk says it does not isolate.
    case quirkDenies(String)
    /// Conventional PCI or PCI-X: no ACS, ever (a shared bus).
    case conventional
    /// A PCIe-to-PCI/PCI-X bridge (or the reverse, or an RC event collector): never ACS.
    case pciBridge
    /// A root or downstream port, or a function of a multifunction device, without an ACS capability.
    case missing
    /// The ACS capability is there, but these required controls are off.
    case notEnabled(ACSFlags)
    /// Its config space could not be read far enough (64 bytes as a user who is not root).
    case unknown(String)

    public var isEnabled: Bool? {
        switch self {
        case .notApplicable, .enabled, .quirk: true
        case .quirkDenies, .conventional, .pciBridge, .missing, .notEnabled: false
        case .unknown: nil
        }
    }

    /// Why a multifunction function does not isolate, in a few words.
    var short: String {
        switch self {
        case .missing: "no ACS capability"
        case .notEnabled(let off): "\(off.names.split(separator: " ").joined(separator: " and ")) off"
        case .conventional: "conventional PCI"
        case .pciBridge: "a PCIe-to-PCI bridge"
        case .quirkDenies(let q): "\(q) says so"
        default: reason
        }
    }

    /// "has no ACS (SV RR CR UF needed; it has none)", as the reason line says it.
    public var reason: String {
        switch self {
        case .notApplicable: "needs no ACS (a single-function endpoint)"
        case .enabled: "has ACS \(ACSFlags.required.names) enabled"
        case .quirk(let q): "has no standard ACS, but the kernel's quirk \(q) vouches for its isolation"
        case .quirkDenies(let q): "is not isolated: the kernel's quirk \(q) says so"
        case .conventional: "is conventional PCI: a shared bus, which never has ACS"
        case .pciBridge: "is a PCIe-to-PCI bridge: conventional devices behind it share requester IDs"
        case .missing: "has no ACS (\(ACSFlags.required.names) needed; it has none)"
        case .notEnabled(let off):
            "lacks \(off.names.split(separator: " ").joined(separator: " and ")) enabled (its ACS capability has them, but they are off)"
        case .unknown(let why): "cannot be judged: \(why)"
        }
    }
}

/// `pcie_acs_override=` (the out-of-tree "ACS override" patch: Arch's linux-vfio, older Proxmox
/// kernels, Unraid): `downstream`, `multifunction`, `id:vvvv:dddd`, comma-separated. Its
/// `pcie_acs_overrides` sits in the `pci_dev_acs_enabled` table after the vendors' quirks and
/// answers "enabled" for a PCIe function without an ACS capability that it names.
public struct ACSOverride: Sendable, Equatable {
    public var value: String
    public var downstream = false
    public var multifunction = false
    public var ids: [PCIIDPair] = []

    public struct PCIIDPair: Sendable, Equatable {
        public var vendor: UInt16
        public var device: UInt16
    }

    public init?(_ cmdline: KernelCommandLine?) {
        guard let c = cmdline, let v = c.value("pcie_acs_override") else { return nil }
        value = v
        for opt in c.options("pcie_acs_override") {
            if opt == "downstream" {
                downstream = true
            } else if opt == "multifunction" {
                multifunction = true
            } else if opt.hasPrefix("id:") {
                let parts = opt.dropFirst(3).split(separator: ":")
                if parts.count == 2, let vd = UInt16(parts[0], radix: 16), let dv = UInt16(parts[1], radix: 16) {
                    ids.append(PCIIDPair(vendor: vd, device: dv))
                }
            }
        }
    }

    /// `pcie_acs_overrides`: whether the patched kernel calls `d` ACS-enabled.
    public func covers(_ d: PCIDevice) -> Bool {
        // "Never override ACS for legacy devices or devices with ACS caps".
        guard let t = d.expressType, !d.capabilities.contains(where: ACSRule.isACS) else { return false }
        if ids.contains(where: { $0.vendor == d.vendorID && $0.device == d.deviceID }) { return true }
        switch t {
        case ACSRule.downstreamPort, ACSRule.rootPort: return downstream
        case ACSRule.endpoint, ACSRule.upstreamPort, ACSRule.legacyEndpoint, ACSRule.rcEndpoint: return multifunction && d.multifunction
        default: return false
        }
    }
}

/// Why a function's group is larger than itself: the function where `pci_device_group`
/// stopped being able to tell the functions apart.
public struct GroupMerge: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// Every function below `at` aliases to it: a PCIe-to-PCI bridge, or a conventional
        /// bridge (`pci_for_each_dma_alias`).
        case alias
        /// `at` is a root or downstream port whose ACS is not what REQ_ACS_FLAGS needs
        /// (`pci_acs_path_enabled` fails there), so everything below it shares its group.
        case port
        /// `at` is a function of a multifunction device without ACS: it shares with `siblings`
        /// (`get_pci_function_alias_group`).
        case multifunction(siblings: [PCIAddress])

        /// "alias", "port" or "multifunction", as the JSON report names it.
        public var name: String {
            switch self {
            case .alias: "alias"
            case .port: "port"
            case .multifunction: "multifunction"
            }
        }
    }
    public var at: PCIAddress
    public var kind: Kind
    public var state: ACSState
}

/// What the rule says about one function's group.
public struct IsolationPath: Sendable, Equatable {
    /// The function its group is anchored at (where `pci_device_group` ended its walk).
    public var anchor: PCIAddress
    /// Why the anchor is not the function itself, or why it shares the anchor with siblings.
    public var merges: [GroupMerge]
    /// Each bridge above it with its ACS state, nearest first.
    public var ports: [(PCIAddress, ACSState)]
    /// Functions whose config space could not be judged, so the answer is not known.
    public var unknown: [PCIAddress]

    public static func == (a: Self, b: Self) -> Bool {
        a.anchor == b.anchor && a.merges == b.merges && a.unknown == b.unknown
            && a.ports.map(\.0) == b.ports.map(\.0) && a.ports.map(\.1) == b.ports.map(\.1)
    }
}

public enum ACSRule {
    // PCI Express device/port types (PCI_EXP_TYPE_*).
    static let endpoint: UInt8 = 0x0, legacyEndpoint: UInt8 = 0x1, rootPort: UInt8 = 0x4, upstreamPort: UInt8 = 0x5
    static let downstreamPort: UInt8 = 0x6, pcieToPCIBridge: UInt8 = 0x7, pciToPCIeBridge: UInt8 = 0x8
    static let rcEndpoint: UInt8 = 0x9, rcEventCollector: UInt8 = 0xa

    static func isACS(_ c: PCICapability) -> Bool { c.space == .extended && c.id == PCICapability.acsExtended }

    /// `pci_acs_enabled(pdev, REQ_ACS_FLAGS)` on the hardware (no override); `flags` asks for other
    /// controls (`pci_enable_pasid` asks for RR and UF). The quirks answer as they do for
    /// REQ_ACS_FLAGS: a quirk that vouches for those vouches for any subset of them.
    public static func state(of d: PCIDevice, host: Host, flags: ACSFlags = .required) -> ACSState {
        guard d.headerType != nil, d.configComplete else {
            return .unknown("only \(d.headerType == nil ? "no" : "64 bytes of its") config space could be read")
        }
        if let q = quirk(d, host: host) { return q.enabled ? .quirk(q.name) : .quirkDenies(q.name) }
        guard let type = d.expressType else { return .conventional }
        switch type {
        case pciToPCIeBridge, pcieToPCIBridge, rcEventCollector: return .pciBridge
        case downstreamPort, rootPort: return flagsEnabled(d, flags)
        case endpoint, upstreamPort, legacyEndpoint, rcEndpoint:
            return d.multifunction ? flagsEnabled(d, flags) : .notApplicable
        default: return .notApplicable
        }
    }

    /// `pci_acs_flags_enabled`: required controls missing from the capability word are
    /// hard-wired on; the rest must be on in the control word (+6).
    static func flagsEnabled(_ d: PCIDevice, _ flags: ACSFlags = .required) -> ACSState {
        guard let acs = d.capabilities.first(where: isACS) else { return .missing }
        guard let cap = acs.word(at: 4), let ctrl = acs.word(at: 6) else { return .unknown("its ACS capability is cut short") }
        let wanted = flags.intersection(ACSFlags(rawValue: cap | ACSFlags.ec.rawValue))
        let off = wanted.subtracting(ACSFlags(rawValue: ctrl))
        return off.isEmpty ? .enabled : .notEnabled(off)
    }

    /// `pci_dev_specific_acs_enabled`: the first quirk in `pci_dev_acs_enabled` that answers
    /// (drivers/pci/quirks.c), with the answer; nil when none does (-ENOTTY).
    static func quirk(_ d: PCIDevice, host: Host) -> (name: String, enabled: Bool)? {
        let (v, id, t) = (d.vendorID, d.deviceID, d.expressType)
        let yes = true
        switch v {
        case 0x1002 where [0x4385, 0x439c, 0x4383, 0x439d, 0x4384, 0x4399].contains(id),
            0x1022 where [0x780f, 0x7809].contains(id):
            // pci_quirk_amd_sb_acs: multifunction SB functions on the root bus, with an AMD IOMMU (IVRS).
            if d.multifunction, d.parents.isEmpty, (host.firmware.present.value ?? []).contains("IVRS") {
                return ("pci_quirk_amd_sb_acs", yes)
            }
            return nil
        default: break
        }
        if mfEndpoints[v]?.contains(id) == true { return ("pci_quirk_mf_endpoint_acs", yes) }
        switch v {
        case 0x8086:
            if t == rcEndpoint { return ("pci_quirk_rciep_acs", yes) }
            if t == rootPort, intelPCHRootPorts.contains(id) {
                // PCI_DEV_FLAGS_ACS_ENABLED_QUIRK: set at boot by pci_quirk_enable_intel_pch_acs
                // when an IOMMU asked for ACS (pci_acs_enable); without one it says no.
                return ("pci_quirk_intel_pch_acs", host.iommuActive != false)
            }
            if t == rootPort, intelSPTRootPort(id), let acs = d.capabilities.first(where: isACS) {
                // pci_quirk_intel_spt_pch_acs: dword capability at +4 and control at +8.
                guard let cap = acs.dword(at: 4), let ctrl = acs.dword(at: 8) else { return nil }
                let wanted = UInt32(ACSFlags.required.rawValue) & (cap | UInt32(ACSFlags.ec.rawValue))
                return ("pci_quirk_intel_spt_pch_acs", wanted & ctrl == wanted)
            }
        case 0x17cb where [0x0400, 0x0401, 0x0115, 0x0111, 0x0120].contains(id), 0x1dbf where id == 0x0401:
            return ("pci_quirk_qcom_rp_acs", yes)
        case 0x177d where t == rootPort && ((0xa000...0xa7ff).contains(id) || id == 0xaf84 || id == 0xb884):
            return ("pci_quirk_cavium_acs", yes)
        case 0x10e8 where id == 0xe004, 0x1def where (0xe005...0xe00c).contains(id):
            return ("pci_quirk_xgene_acs", yes)
        case 0x14e4 where id == 0xd714: return ("pci_quirk_brcm_acs", yes)
        case 0x0014 where [0x3c09, 0x3c19, 0x3c29, 0x7a09, 0x7a19, 0x7a29, 0x7a39, 0x7a49, 0x7a59, 0x7a69].contains(id):
            return ("pci_quirk_loongson_acs", yes)
        case 0x1c36 where id == 0x0031 && t == rootPort: return ("pci_quirk_al_acs", yes)
        case 0x1957 where nxpRootPorts.contains(id): return ("pci_quirk_nxp_rp_acs", yes)
        case 0x1d17 where t == rootPort || t == downstreamPort:
            let isolated = (0x0710...0x071e).contains(id) || id == 0x0721 || (0x0723...0x0752).contains(id)
            return ("pci_quirk_zhaoxin_pcie_ports_acs", isolated)
        case 0x8088:
            let isolated = (0x0100...0x010f).contains(id) || [0x1001, 0x2001, 0x5010, 0x5025, 0x5040, 0x5110, 0x5125, 0x5140].contains(id)
            return ("pci_quirk_wangxun_nic_acs", isolated)
        default: break
        }
        return nil
    }

    /// pci_quirk_mf_endpoint_acs: multifunction devices their vendors vouch do no peer-to-peer
    /// between functions.
    static let mfEndpoints: [UInt16: Set<UInt16>] = [
        0x1924: [0x0903, 0x0923, 0x0a03],
        0x8086: [
            0x10c6, 0x10db, 0x10dd, 0x10e1, 0x10f1, 0x10f7, 0x10f8, 0x10f9, 0x10fa, 0x10fb, 0x10fc, 0x1507, 0x1514, 0x151c,
            0x1529, 0x152a, 0x154d, 0x154f, 0x1551, 0x1558, 0x1509, 0x150e, 0x150f, 0x1510, 0x1511, 0x1516, 0x1527, 0x10c9,
            0x10e6, 0x10e7, 0x10e8, 0x150a, 0x150d, 0x1518, 0x1526, 0x10a7, 0x10a9, 0x10d6, 0x1521, 0x1522, 0x1523, 0x1524,
            0x105e, 0x105f, 0x1060, 0x10d9, 0x15b7, 0x15b8,
        ],
        0x19a2: [0x0710], 0x10df: [0x0720], 0x177d: [0xa026, 0xa059, 0xa060],
        0x14e4: [0x16d7, 0x1750, 0x1751, 0x1752, 0x1760, 0x1761, 0x1762, 0x1763], 0x1d17: [0x3038, 0x3104, 0x9083],
    ]

    /// pci_quirk_intel_pch_acs_ids: PCH root ports with ACS-like controls but no capability.
    static let intelPCHRootPorts: Set<UInt16> = {
        var s: Set<UInt16> = []
        for base: UInt16 in [0x3b40, 0x1c10, 0x1e10, 0x8c10] {
            for i: UInt16 in 0..<16 where base != 0x3b40 || i >= 2 { s.insert(base + i) }
        }
        for i: UInt16 in 0...1 { s.insert(0x3b50 + i) }
        for i: UInt16 in 0..<12 {
            s.insert(0x9c10 + i)
            s.insert(0x9c90 + i)
        }
        for i: UInt16 in 0..<8 {
            s.insert(0x1d10 + 2 * i)
            s.insert(0x8c90 + 2 * i)
        }
        for i: UInt16 in 0..<15 { s.insert(0x8d10 + i) }
        return s
    }()

    /// pci_quirk_intel_spt_pch_acs_match: Sunrise Point, Union Point, 7th/8th gen mobile.
    static func intelSPTRootPort(_ id: UInt16) -> Bool {
        (0xa110...0xa11f).contains(id) || (0xa167...0xa16a).contains(id) || (0xa290...0xa29f).contains(id)
            || (0xa2e7...0xa2ee).contains(id) || (0x9d10...0x9d1b).contains(id)
    }

    static let nxpRootPorts: Set<UInt16> = [
        0x8d81, 0x8da1, 0x8d83, 0x8d80, 0x8da0, 0x8d82, 0x8d90, 0x8db0, 0x8d92, 0x8d91, 0x8db1, 0x8d93,
        0x8d89, 0x8da9, 0x8d8b, 0x8d88, 0x8da8, 0x8d8a, 0x8d98, 0x8db8, 0x8d9a, 0x8d99, 0x8db9, 0x8d9b,
    ]

    /// `pci_device_group` for `d` on the hardware: the DMA alias walk (`pci_for_each_dma_alias`),
    /// then upstream while `pci_acs_path_enabled` fails, then the non-isolated functions of the
    /// anchor's slot (`get_pci_function_alias_group`). DMA alias quirks (`pci_add_dma_alias`)
    /// are not in config space and are not modelled.
    public static func path(of d: PCIDevice, host: Host) -> IsolationPath {
        var unknown: [PCIAddress] = []
        var merges: [GroupMerge] = []
        var states: [PCIAddress: ACSState] = [:]
        func state(_ a: PCIAddress) -> ACSState {
            if let s = states[a] { return s }
            let s = host.device(a).map { Self.state(of: $0, host: host) } ?? .unknown("it was not read")
            states[a] = s
            if s.isEnabled == nil, !unknown.contains(a) { unknown.append(a) }
            return s
        }
        let ports = d.parents.map { ($0, state($0)) }
        // pci_for_each_dma_alias: a PCIe-to-PCI bridge or a conventional bridge takes the
        // requester ID of what is below it; the last one met (the topmost) is the alias.
        var anchor = d.address
        var anchorIndex = -1  // index in d.parents of the anchor (-1: d itself)
        for (i, b) in d.parents.enumerated() {
            guard let bridge = host.device(b), bridge.configComplete else {
                if !unknown.contains(b) { unknown.append(b) }
                continue
            }
            let type = bridge.expressType
            if type == nil || type == pcieToPCIBridge || type == pciToPCIeBridge {
                anchor = b
                anchorIndex = i
            }
        }
        if anchorIndex >= 0 {
            merges.append(GroupMerge(at: anchor, kind: .alias, state: state(anchor)))
        }
        // Upstream from the alias while the path above is not ACS-isolated.
        let above = Array(d.parents.dropFirst(anchorIndex + 1))
        for (i, b) in above.enumerated() {
            let path = above[i...]
            if path.allSatisfy({ state($0).isEnabled == true }) { break }
            if path.contains(where: { state($0).isEnabled == nil }), path.allSatisfy({ state($0).isEnabled != false }) { break }
            anchor = b
        }
        if above.contains(anchor) { merges.append(GroupMerge(at: anchor, kind: .port, state: state(anchor))) }
        // get_pci_function_alias_group on the anchor's slot.
        if let a = host.device(anchor), a.multifunction, state(anchor).isEnabled == false {
            let siblings = (0..<8).map { PCIAddress(domain: anchor.domain, bus: anchor.bus, device: anchor.device, function: UInt8($0)) }
                .filter { $0 != anchor && host.device($0) != nil && state($0).isEnabled != true }
            if !siblings.isEmpty {
                merges.append(GroupMerge(at: anchor, kind: .multifunction(siblings: siblings), state: state(anchor)))
            }
        }
        return IsolationPath(anchor: anchor, merges: merges, ports: ports, unknown: unknown)
    }

    /// The groups the hardware gives (no override): each function with its anchor and the
    /// anchor's non-isolated siblings, joined. Only over the functions read.
    public static func hardwareGroups(_ host: Host) -> [PCIAddress: Int] {
        var parent: [PCIAddress: PCIAddress] = [:]
        func find(_ a: PCIAddress) -> PCIAddress {
            var x = a
            while let p = parent[x], p != x { x = p }
            return x
        }
        func union(_ a: PCIAddress, _ b: PCIAddress) {
            let (ra, rb) = (find(a), find(b))
            if ra != rb { parent[max(ra, rb)] = min(ra, rb) }
        }
        for a in host.devices.keys { parent[a] = a }
        for d in host.devices.values where d.iommuGroup != nil {
            let p = path(of: d, host: host)
            if host.devices[p.anchor] != nil { union(d.address, p.anchor) }
            for m in p.merges {
                if case .multifunction(let s) = m.kind { s.forEach { union(m.at, $0) } }
            }
        }
        var ids: [PCIAddress: Int] = [:]
        var out: [PCIAddress: Int] = [:]
        for a in host.devices.keys.sorted() {
            let r = find(a)
            let id = ids[r] ?? ids.count
            ids[r] = id
            out[a] = id
        }
        return out
    }

    /// "0000:00:1c.0 (Intel Corporation … Root Port)".
    static func named(_ a: PCIAddress, _ host: Host) -> String {
        host.device(a).map { "\(a) (\($0.displayName))" } ?? a.description
    }

    /// The reason line for one merge: "0000:00:1c.0 (…) has no ACS (SV RR CR UF needed; it has none)".
    static func describe(_ m: GroupMerge, _ host: Host) -> String {
        let who = named(m.at, host)
        switch m.kind {
        case .alias:
            return
                "\(who) is a \(host.device(m.at)?.expressType == nil ? "conventional PCI bridge" : "PCIe-to-PCI bridge"): the devices behind it share its requester ID"
        case .port: return "\(who) \(m.state.reason)"
        case .multifunction(let s):
            return
                "\(who) is a function of a multifunction device without ACS (\(m.state.short)): it shares with \(s.map(\.description).joined(separator: ", "))"
        }
    }
}
