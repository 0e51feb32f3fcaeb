/// Builds the `Host` from a `HostFS`: the reads are jobs (`ReadJob`) whose results are values,
/// run on all cores for a whole host (`ConcurrentMap`), and the host is assembled from them.
/// Reads only what the scope needs: with `.devices`, the named functions, the members of their
/// IOMMU groups and their PFs; never the whole bus.
public struct HostReader: Sendable {
    public let fs: HostFS
    /// Look up names in pci.ids (libpci). Off for the fastest `--device` start.
    public var lookUpNames: Bool

    public init(fs: HostFS, lookUpNames: Bool = true) {
        self.fs = fs
        self.lookUpNames = lookUpNames
    }

    static let pciDevices = "/sys/bus/pci/devices"
    static let iommuGroups = "/sys/kernel/iommu_groups"

    public func read(scope: Host.Scope) -> Host {
        let names = lookUpNames ? PCINames(root: fs.root) : nil
        var parts: Host.Parts
        switch scope {
        case .all: parts = readAll(names)
        case .devices(let list): parts = readDevices(list, names)
        }
        let pci = PCIConfigReader(root: fs.root)
        if let e = pci.openError { parts.readProblems.insert("libpci: \(e)", at: 0) }
        var resolver = ScopeResolver(fs: fs, pci: pci, devices: parts.devices)
        parts.firmware.identityMaps = identityMaps(parts.firmware, &resolver)
        parts.firmware.coverage = coverage(parts.firmware, &resolver)
        return Host(assembling: parts)
    }

    // MARK: the whole host

    /// One pass over every function and group, with the host-wide facts and pci.ids as two more
    /// jobs; then the devices are named and the groups given their members.
    func readAll(_ names: PCINames?) -> Host.Parts {
        let listings = ConcurrentMap.map([HostReader.pciDevices, HostReader.iommuGroups], minimum: 2) { fs.list($0) }
        var problems: [String] = []
        var listProblem: String?
        let functions: [PCIAddress]
        switch listings[0] {
        case .value(let entries): functions = entries.compactMap(PCIAddress.init).sorted()
        case .absent: functions = []
        case .unreadable(let why):
            (functions, listProblem) = ([], why.description)
            problems.append(why.description)
        }
        let groupNumbers = (listings[1].value ?? []).compactMap { Int($0) }.sorted()

        let jobs: [ReadJob] = [.hostWide] + functions.map { .function($0, listVFs: false) } + groupNumbers.map(ReadJob.group)
        let results = ConcurrentMap.map(jobs, worker: { ReadWorker(fs: fs) }, { worker, job in worker.run(job) }, finish: { _ in () })
            .results
        if let names {
            var identities: Set<PCIConfigReader.Identity> = []
            for case .function(let f) in results { if let d = f.device { identities.insert(.init(d)) } }
            names.load(identities)
        }

        var wide: HostWide?
        var devices: [PCIAddress: PCIDevice] = [:]
        var attributes: [Int: GroupAttributes] = [:]
        var pciMembers: [Int: [PCIAddress]] = [:]
        devices.reserveCapacity(functions.count)
        for r in results {
            switch r {
            case .hostWide(let w): wide = w
            case .function(let f):
                problems += f.problems
                guard var d = f.device else { continue }
                names?.name(&d)
                if let g = d.iommuGroup { pciMembers[g, default: []].append(d.address) }  // in address order
                devices[d.address] = d
            case .group(let id, let a): attributes[id] = a
            }
        }
        // Only groups no PCI function names (mdev instances, platform devices) have their devices
        // folder listed: a group never mixes the two.
        var groups: [Int: IOMMUGroup] = [:]
        for id in groupNumbers {
            guard let a = attributes[id] else { continue }
            groups[id] =
                pciMembers[id].map { IOMMUGroup(id: id, pciMembers: $0, a) }
                ?? IOMMUGroup(id: id, members: fs.list("\(HostReader.iommuGroups)/\(id)/devices").value ?? [], a)
        }
        return assemble(
            scope: .all, wide: wide ?? readHostWide(scope: .all), devices: devices, selected: functions, missing: [],
            groups: groups, groupCount: listings[1].map(\.count), problems: problems,
            listProblem: listProblem)
    }

    // MARK: named devices

    /// The named functions, the members of their groups and the PFs of all of them, one after
    /// the other: a handful of reads, whatever the size of the host.
    func readDevices(_ list: [PCIAddress], _ names: PCINames?) -> Host.Parts {
        var selected: [PCIAddress] = []
        var missing: [PCIAddress] = []
        var unreadableSelected: [PCIAddress: String] = [:]
        var otherDomains: [PCIAddress: [PCIAddress]] = [:]
        var listProblem: String?
        for a in Set(list).sorted() {
            switch fs.presence("\(HostReader.pciDevices)/\(a)") {
            case .value: selected.append(a)
            case .absent: missing.append(a)
            case .unreadable(let why):
                missing.append(a)
                unreadableSelected[a] = why.description
            }
        }
        // Only for an address that is not there: is the bus listable, and is the address in
        // another domain?
        if !missing.isEmpty {
            switch fs.list(HostReader.pciDevices) {
            case .value(let entries):
                let all = entries.compactMap(PCIAddress.init)
                for m in missing {
                    let near = all.filter { $0.bus == m.bus && $0.device == m.device && $0.function == m.function && $0.domain != m.domain }
                    if !near.isEmpty { otherDomains[m] = near.sorted() }
                }
            case .absent: break
            case .unreadable(let why): listProblem = why.description
            }
        }

        var worker = ReadWorker(fs: fs)
        var devices: [PCIAddress: PCIDevice] = [:]
        var problems: [String] = []
        let named = Set(selected)
        func load(_ a: PCIAddress) {
            guard devices[a] == nil else { return }
            let f = worker.readFunction(a, listVFs: named.contains(a))
            problems += f.problems
            if let d = f.device { devices[a] = d }
        }
        selected.forEach(load)
        // A named function that is there but could not be read is unknown, not absent.
        for a in selected where devices[a] == nil {
            unreadableSelected[a] = "\(HostReader.pciDevices)/\(a) could not be read"
        }
        missing = (missing + unreadableSelected.keys.filter { selected.contains($0) }).sorted()
        selected.removeAll { unreadableSelected[$0] != nil }
        var groups: [Int: IOMMUGroup] = [:]
        for g in Set(devices.values.compactMap(\.iommuGroup)).sorted() { groups[g] = worker.readGroup(g) }
        for g in groups.keys.sorted() { groups[g]!.pciMembers.forEach(load) }
        for pf in Set(devices.values.compactMap(\.physfn)).sorted() { load(pf) }
        // The isolation rule (pci_device_group) looks at the bridges above each function and at
        // the other functions of a multifunction slot: a few reads per level, never the bus.
        for a in Set(devices.values.flatMap(\.parents)).sorted() { load(a) }
        for a in devices.keys.sorted() where devices[a]?.multifunction == true {
            for f in UInt8(0)..<8 where f != a.function {
                let s = PCIAddress(domain: a.domain, bus: a.bus, device: a.device, function: f)
                if devices[s] == nil, fs.presence("\(HostReader.pciDevices)/\(s)").value != nil { load(s) }
            }
        }
        if let names {
            names.load(Set(devices.values.map(PCIConfigReader.Identity.init)))
            for a in Array(devices.keys) { names.name(&devices[a]!) }
        }
        var parts = assemble(
            scope: .devices(list), wide: readHostWide(scope: .devices(list)), devices: devices, selected: selected,
            missing: missing, groups: groups, groupCount: .absent, problems: problems,
            listProblem: listProblem)
        parts.unreadableSelected = unreadableSelected
        parts.otherDomains = otherDomains
        return parts
    }

    // MARK: assembly

    func assemble(
        scope: Host.Scope, wide w: HostWide, devices: [PCIAddress: PCIDevice], selected: [PCIAddress], missing: [PCIAddress],
        groups: [Int: IOMMUGroup], groupCount: Reading<Int>, problems: [String], listProblem: String?
    ) -> Host.Parts {
        Host.Parts(
            root: fs.root, scope: scope, devices: devices, selected: selected, missing: missing,
            groups: groups, groupCount: groupCount,
            iommuUnits: w.units,
            firmware: w.tables,
            kernel: w.kernel,
            modules: w.modules,
            devNodes: devNodes(w, groups: groups, devices: devices),
            process: w.process,
            platform: w.platform,
            vmbus: w.vmbus,
            mdevs: w.mdevs.devices,
            mdevParents: w.mdevs.parents,
            use: w.use,
            boot: w.boot,
            memory: w.memory,
            readProblems: problems, deviceListProblem: listProblem, kernelLog: w.kernelLog.log, dmesgRestrict: w.kernelLog.dmesgRestrict,
            confidential: w.confidential)
    }
}
