import ACPI

extension HostReader {
    func readIOMMUUnits(countDevices: Bool) -> Reading<[IOMMUUnit]> {
        fs.list("/sys/class/iommu").map { names in
            names.map { name in
                let dir = "/sys/class/iommu/\(name)"
                let target = fs.link(dir).value ?? ""
                var unit = IOMMUUnit(name: name, kind: .other)
                unit.pciFunction = PCIAddress.function(inDevicePath: target)
                if let cap = fs.read("\(dir)/intel-iommu/cap").hex.value {
                    unit.kind = .intel
                    unit.intelCap = cap
                    unit.intelEcap = fs.read("\(dir)/intel-iommu/ecap").hex.value
                } else if fs.presence("\(dir)/amd-iommu", directory: true).value == true {
                    unit.kind = .amd
                    // "features" is "EFR" on older kernels and "EFR:EFR2" on newer ones.
                    let f = fs.read("\(dir)/amd-iommu/features").text.value ?? ""
                    unit.amdFeatures = UInt64(hexText: String(f.split(separator: ":").first ?? ""))
                } else if target.contains("virtio") || name.hasPrefix("virtio") {
                    unit.kind = .virtio
                } else if name.contains("smmu") || target.contains("smmu") {
                    unit.kind = .arm
                }
                let listed = fs.list("\(dir)/devices").value
                if countDevices { unit.deviceCount = listed?.count }
                unit.members = listed?.compactMap(PCIAddress.init)
                return unit
            }
        }
    }

    /// The ACPI tables that describe IOMMUs, decoded (their scopes are resolved against the
    /// functions once those are read).
    func readFirmwareTables() -> FirmwareTables {
        let dir = "/sys/firmware/acpi/tables"
        let present = fs.list(dir).map { $0.filter(FirmwareTables.iommuSignatures.contains) }
        var t = FirmwareTables(present: present, contents: [:])
        for sig in present.value ?? [] {
            let bytes = fs.read("\(dir)/\(sig)", limit: 1 << 20)
            t.contents[sig] = bytes
            if let b = bytes.value {
                do { t.decoded[sig] = .success(try ACPI.decode(b)) } catch { t.decoded[sig] = .failure(error) }
            }
        }
        return t
    }

    /// Walks DMAR scope paths hop by hop: the first hop is on the start bus; each further hop is
    /// on the secondary bus of the bridge before it (config space via libpci, read only for the
    /// bridges a path names).
    struct ScopeResolver {
        let fs: HostFS
        let pci: PCIConfigReader
        let devices: [PCIAddress: PCIDevice]
        var secondary: [PCIAddress: UInt8?] = [:]

        mutating func secondaryBus(_ a: PCIAddress) -> UInt8? {
            if let known = devices[a]?.secondaryBus { return known }
            if let cached = secondary[a] { return cached }
            let bytes = fs.read("\(HostReader.pciDevices)/\(a)/config", limit: PCIConfigReader.headerBytes).value
            let bus: UInt8? = bytes.flatMap { try? pci.decode(a, config: $0).get() }?.secondaryBus
            secondary[a] = bus
            return bus
        }

        mutating func resolve(_ s: DeviceScope, segment: UInt16) -> PCIAddress? {
            var bus: UInt8? = s.startBus
            var addr: PCIAddress?
            for (h, hop) in s.path.enumerated() {
                guard let b = bus else { return nil }
                addr = PCIAddress(domain: UInt32(segment), bus: b, device: hop.device & 0x1f, function: hop.function & 0x7)
                if h < s.path.count - 1 { bus = secondaryBus(addr!) }
            }
            return bus == nil ? nil : addr
        }
    }

    func coverage(_ t: FirmwareTables, _ r: inout ScopeResolver) -> IOMMUCoverage? {
        if let dmar = t.dmar {
            var c = IOMMUCoverage(source: "DMAR")
            for u in dmar.units {
                if u.includePCIAll { c.wholeSegments.insert(UInt32(u.segment)) }
                for s in u.scopes {
                    guard let a = r.resolve(s, segment: u.segment) else { continue }
                    if s.type == 1 { c.endpoints.insert(a) } else if s.type == 2 { c.bridges.insert(a) }
                }
            }
            return c
        }
        if let ivrs = t.ivrs {
            var c = IOMMUCoverage(source: "IVRS")
            for h in ivrs.hardware {
                let seg = UInt32(h.segment)
                var start: UInt16?
                for e in h.entries {
                    switch e.kind {
                    case .all: c.wholeSegments.insert(seg)
                    case .select, .alias, .extendedSelect: c.ranges[seg, default: []].append(e.deviceID...e.deviceID)
                    case .rangeStart, .aliasRangeStart, .extendedRangeStart: start = e.deviceID
                    case .rangeEnd:
                        if let s = start, s <= e.deviceID { c.ranges[seg, default: []].append(s...e.deviceID) }
                        start = nil
                    default: break
                    }
                }
            }
            return c
        }
        return nil
    }

    /// RMRRs and IVMDs, with the devices they name.
    func identityMaps(_ t: FirmwareTables, _ resolver: inout ScopeResolver) -> [IdentityMap] {
        var out: [IdentityMap] = []
        if let dmar = t.dmar {
            for (i, r) in dmar.reservedMemory.enumerated() {
                var m = IdentityMap(
                    source: .rmrr, index: i, base: r.base, end: r.limit, allDevices: false, devices: [], ranges: [], unresolved: [])
                for s in r.scopes where s.type == 1 || s.type == 2 {
                    guard let a = resolver.resolve(s, segment: r.segment) else { m.unresolved.append(s.pathText); continue }
                    if s.type == 2 { m.bridges.append(a) } else { m.devices.append(a) }
                }
                out.append(m)
            }
        }
        if let ivrs = t.ivrs {
            // init_memory_definitions: only exclusion ranges and unity maps are made direct regions.
            for (i, v) in ivrs.memory.enumerated() where v.countsForTheKernel {
                var m = IdentityMap(
                    source: .ivmd, index: i, base: v.start, end: v.length == 0 ? v.start : v.start &+ v.length &- 1,
                    allDevices: v.type == 0x20, devices: [], ranges: [], unresolved: [])
                m.segment = UInt32(v.segment)
                if v.type == 0x21 {
                    m.devices.append(
                        PCIAddress(
                            domain: UInt32(v.segment), bus: UInt8(v.deviceID >> 8), device: UInt8((v.deviceID >> 3) & 0x1f),
                            function: UInt8(v.deviceID & 7)))
                } else if v.type == 0x22, v.deviceID <= v.auxiliaryData {
                    m.ranges.append(v.deviceID...v.auxiliaryData)
                }
                out.append(m)
            }
        }
        return out
    }
}
