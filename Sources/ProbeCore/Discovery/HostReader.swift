import ACPI
import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Builds the immutable `Host` from a `HostFS`. Reads only what the scope needs: with
/// `.devices`, the named functions, the members of their IOMMU groups and their PFs; never the
/// whole bus.
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
        var problems: [String] = []
        let main = ReadWorker(root: fs.root)
        let pci = main.pci
        if let e = pci.openError { problems.append("libpci: \(e)") }

        // 1. Which devices.
        var selected: [PCIAddress]
        var missing: [PCIAddress] = []
        var listProblem: String?
        var unreadableSelected: [PCIAddress: String] = [:]
        var otherDomains: [PCIAddress: [PCIAddress]] = [:]
        var groupListing: Reading<[String]> = .absent
        switch scope {
        case .all:
            // The two long listings at once: a large host has thousands of functions and groups.
            var listings: (devices: Reading<[String]>, groups: Reading<[String]>) = (.absent, .absent)
            withUnsafeMutablePointer(to: &listings) { out in
                nonisolated(unsafe) let out = out
                DispatchQueue.concurrentPerform(iterations: 2) { i in
                    if i == 0 {
                        out.pointee.devices = Reading({ () throws(HostFSError) in try fs.directory(HostReader.pciDevices).names(sorted: false) })
                    } else {
                        out.pointee.groups = Reading({ () throws(HostFSError) in try fs.directory(HostReader.iommuGroups).names(sorted: false) })
                    }
                }
            }
            groupListing = listings.groups
            switch listings.devices {
            case .value(let names): selected = names.compactMap(PCIAddress.init).sorted()
            case .absent: selected = []
            case .unreadable(let why): selected = []; problems.append(why); listProblem = why
            }
        case .devices(let list):
            selected = []
            for a in Set(list).sorted() {
                switch fs.presence("\(HostReader.pciDevices)/\(a)") {
                case .value: selected.append(a)
                case .absent: missing.append(a)
                case .unreadable(let why):
                    missing.append(a)
                    unreadableSelected[a] = why
                }
            }
            // Only for an address that is not there: is the bus listable, and is the address
            // in another domain?
            if !missing.isEmpty {
                switch Reading({ () throws(HostFSError) in try fs.entries(HostReader.pciDevices) }) {
                case .value(let names):
                    let all = names.compactMap(PCIAddress.init)
                    for m in missing {
                        let near = all.filter { $0.bus == m.bus && $0.device == m.device && $0.function == m.function && $0.domain != m.domain }
                        if !near.isEmpty { otherDomains[m] = near.sorted() }
                    }
                case .absent: break
                case .unreadable(let why): listProblem = why
                }
            }
        }

        // 2. Devices and groups: everything in one pass (all scope), or the named devices, their
        // groups' companions and their PFs (device scope).
        var devices: [PCIAddress: PCIDevice] = [:]
        var groups: [Int: IOMMUGroup] = [:]
        var groupCount: Reading<Int> = .absent
        var wide: HostWide?
        let named: Set<PCIAddress> = scope == .all ? [] : Set(selected)
        func load(_ a: PCIAddress) {
            guard devices[a] == nil, let d = readDevice(a, main, listVFs: named.contains(a)) else { return }
            devices[a] = d
        }
        switch scope {
        case .all:
            let ids = groupListing
            groupCount = ids.map(\.count)
            let numbers = (ids.value ?? []).compactMap { Int($0) }.sorted()
            // A group's attributes do not depend on its members, so functions and groups are
            // read in the same pass on all cores; members come after, from each function's
            // iommu_group link.
            nonisolated(unsafe) let groupsDir = try? fs.directory(HostReader.iommuGroups)
            let attributes = UnsafeMutableBufferPointer<GroupAttributes?>.allocate(capacity: numbers.count)
            attributes.initialize(repeating: nil)
            defer {
                attributes.deinitialize()
                attributes.deallocate()
            }
            nonisolated(unsafe) let groupOut = attributes
            // Job 0 reads the host-wide facts, the next ones the functions, then the groups.
            let functions = selected
            let wideOut = UnsafeMutablePointer<HostWide?>.allocate(capacity: 1)
            wideOut.initialize(to: nil)
            defer {
                wideOut.deinitialize(count: 1)
                wideOut.deallocate()
            }
            nonisolated(unsafe) let wideSlot = wideOut
            let read = readInParallel(Array(0..<(1 + functions.count + numbers.count))) { job, worker -> PCIDevice? in
                if job == 0 {
                    wideSlot.pointee = readHostWide(scope: .all)
                    return nil
                }
                if job <= functions.count { return readDevice(functions[job - 1], worker, devicesDir: worker.devicesFolder(fs)) }
                let i = job - 1 - functions.count
                groupOut[i] = readGroupAttributes(numbers[i], in: worker.groupsFolder(fs))
                return nil
            }
            wide = wideOut.pointee
            problems += read.problems
            // The devices by address, named now that the host's identities are known, and the
            // groups with their members: at once on a large host.
            let results = read.results
            let (identities, lookUpNames) = (read.identities, lookUpNames)
            nonisolated(unsafe) let namesReader = pci  // used by the devices' side alone
            withUnsafeMutablePointer(to: &devices) { devicesOut in
                withUnsafeMutablePointer(to: &groups) { groupsOut in
                    nonisolated(unsafe) let (devicesOut, groupsOut) = (devicesOut, groupsOut)
                    @Sendable func indexDevices() {
                        let namer = lookUpNames ? Namer(namesReader, identities: identities) : nil
                        devicesOut.pointee.reserveCapacity(results.count)
                        for case var d? in results {
                            namer?.name(&d)
                            devicesOut.pointee[d.address] = d
                        }
                    }
                    @Sendable func assembleGroups() {
                        var pciMembers: [Int: [PCIAddress]] = [:]
                        pciMembers.reserveCapacity(numbers.count)
                        for case let d? in results {  // in address order
                            if let g = d.iommuGroup { pciMembers[g, default: []].append(d.address) }
                        }
                        // Only groups no PCI function names (mdev instances, platform devices) have
                        // their devices folder listed. A group never mixes the two.
                        groupsOut.pointee.reserveCapacity(numbers.count)
                        for (i, id) in numbers.enumerated() {
                            guard let a = groupOut[i] else { continue }
                            groupsOut.pointee[id] = pciMembers[id].map { IOMMUGroup(id: id, pciMembers: $0, a) }
                                ?? IOMMUGroup(id: id, members: (try? groupsDir?.subdirectory("\(id)/devices").names()) ?? [], a)
                        }
                    }
                    if results.count < HostReader.parallelThreshold {
                        indexDevices()
                        assembleGroups()
                    } else {
                        DispatchQueue.concurrentPerform(iterations: 2) { $0 == 0 ? indexDevices() : assembleGroups() }
                    }
                }
            }
        case .devices:
            selected.forEach(load)
            // A named function that is there but could not be read is unknown, not absent.
            for a in selected where devices[a] == nil {
                unreadableSelected[a] = "\(HostReader.pciDevices)/\(a) could not be read"
            }
            missing = (missing + unreadableSelected.keys.filter { selected.contains($0) }).sorted()
            selected.removeAll { unreadableSelected[$0] != nil }
            let groupsDir = try? fs.directory(HostReader.iommuGroups)
            for d in devices.values {
                if let g = d.iommuGroup, groups[g] == nil { groups[g] = readGroup(g, in: groupsDir) }
            }
            for g in groups.values { g.pciMembers.forEach(load) }
            for d in Array(devices.values) { if let pf = d.physfn { load(pf) } }
            if lookUpNames, !devices.isEmpty {
                let namer = Namer(pci, identities: Set(devices.values.map(PCIConfigReader.Identity.init)))
                for a in Array(devices.keys) { namer.name(&devices[a]!) }
            }
        }

        let w = wide ?? readHostWide(scope: scope)
        var firmware = w.tables
        var resolver = ScopeResolver(fs: fs, pci: pci, devices: devices)
        firmware.identityMaps = identityMaps(firmware, &resolver)
        firmware.coverage = coverage(firmware, &resolver)
        problems += main.problems
        var host = Host(
            root: fs.root, scope: scope, devices: devices, selected: selected, missing: missing,
            groups: groups, groupCount: groupCount,
            iommuUnits: w.units,
            firmware: firmware,
            kernel: w.kernel,
            modules: w.modules,
            devNodes: devNodes(w, scope: scope, groups: groups, devices: devices),
            process: w.process,
            platform: w.platform,
            vmbus: w.vmbus,
            mdevs: w.mdevs.devices,
            mdevParents: w.mdevs.parents,
            readProblems: problems, deviceListProblem: listProblem, unreadableSelected: unreadableSelected, otherDomains: otherDomains)
        host.seal()
        return host
    }

    // MARK: PCI

    /// Below this many items the reader stays on one thread.
    static let parallelThreshold = 64

    /// What one reading thread owns: a libpci handle (libpci is not thread-safe), the problems it
    /// met, and the folder of the bridge it last read a function under.
    final class ReadWorker {
        let pci: PCIConfigReader
        var problems: [String] = []
        /// The identities of the functions read (a few on most hosts), for the names.
        var identities: Set<PCIConfigReader.Identity> = []
        var parentFolder: (path: [UInt8], dir: HostDirectory)?
        /// The devices and groups folders, opened by this worker for itself: a descriptor that
        /// threads share has its reference count taken and dropped by every call made relative to
        /// it, and two cores then fight over that one cache line.
        private var devices: HostDirectory??, groups: HostDirectory??
        func devicesFolder(_ fs: HostFS) -> HostDirectory? { ReadWorker.opened(&devices, HostReader.pciDevices, fs) }
        func groupsFolder(_ fs: HostFS) -> HostDirectory? { ReadWorker.opened(&groups, HostReader.iommuGroups, fs) }
        /// The folder in `slot`, opened on first use (nil inside: it could not be).
        private static func opened(_ slot: inout HostDirectory??, _ path: String, _ fs: HostFS) -> HostDirectory? {
            if let d = slot { return d }
            let d = try? fs.directory(path)
            slot = .some(d)
            return d
        }
        init(root: String) { pci = PCIConfigReader(root: root) }
    }

    /// pci.ids names, looked up once every function is read, when the identities on the host are
    /// known: libpci is given only their lines of the database (`PCIConfigReader.loadNames`), and
    /// each identity (a large SR-IOV host repeats a few thousands of times) is looked up once.
    final class Namer {
        private let reader: PCIConfigReader
        private var known: [PCIConfigReader.Identity: PCIConfigReader.Names] = [:]
        /// Loads the names of `identities` into `reader` (the main worker's libpci handle, idle
        /// once the reads are done).
        init(_ reader: PCIConfigReader, identities: Set<PCIConfigReader.Identity>) {
            self.reader = reader
            _ = reader.loadNames(identities)  // without names the report shows the numbers
        }
        func name(_ d: inout PCIDevice) {
            let id = PCIConfigReader.Identity(d)
            let n = known[id] ?? reader.names(vendor: id.vendor, device: id.device, classCode: id.classCode)
            known[id] = n
            (d.vendorName, d.deviceName, d.className) = (n.vendor, n.device, n.cls)
        }
    }

    /// Runs `body` over `items` on a few reader threads (`onReaderThreads`), one `ReadWorker`
    /// each, keeping the items' order. HostFS is safe to share.
    func readInParallel<T: Sendable, R: Sendable>(_ items: [T], _ body: @escaping @Sendable (T, ReadWorker) -> R?)
        -> (results: [R?], problems: [String], identities: Set<PCIConfigReader.Identity>) {
        let cores = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        let workers = items.count < HostReader.parallelThreshold ? 1 : min(4, cores)
        let out = UnsafeMutableBufferPointer<R?>.allocate(capacity: items.count)
        out.initialize(repeating: nil)
        let notes = UnsafeMutableBufferPointer<(problems: [String], identities: Set<PCIConfigReader.Identity>)>.allocate(capacity: workers)
        notes.initialize(repeating: ([], []))
        defer {
            out.deinitialize()
            out.deallocate()
            notes.deinitialize()
            notes.deallocate()
        }
        nonisolated(unsafe) let results = out
        nonisolated(unsafe) let problems = notes
        let root = fs.root
        // Runs of consecutive items, taken as each worker gets free: functions under one bridge
        // stay together (its folder stays open), and no worker idles while another has a backlog.
        let next = Atomic<Int>(0)
        let run = 8
        // Each worker on a thread with a descriptor table of its own: every folder it opens (its
        // ReadWorker's) is closed before the thread ends; values come back, never descriptors.
        onReaderThreads(workers) { w in
            let worker = ReadWorker(root: root)
            while true {
                let start = next.add(run, ordering: .relaxed).oldValue
                if start >= items.count { break }
                for i in start..<min(start + run, items.count) { results[i] = body(items[i], worker) }
            }
            problems[w] = (worker.problems, worker.identities)
        }
        return (Array(out), notes.flatMap(\.problems), notes.reduce(into: []) { $0.formUnion($1.identities) })
    }

    /// A function's folder, from the target of its /sys/bus/pci/devices link, which the kernel
    /// writes as "../../../devices/pci0000:00/0000:00:1c.0/BDF": a view of it through its
    /// bridge's folder, which the worker keeps open for the next function under the same bridge,
    /// so neither the link nor the path above the bridge is walked again, and the function's
    /// folder is not opened at all. nil (the caller takes the bus path) for a link of any other
    /// shape, and when reads are recorded or filtered.
    func deviceFolder(link t: UnsafeRawBufferPointer, _ worker: ReadWorker) -> HostDirectory? {
        let prefix = "../../../".utf8
        guard fs.readsArePlain, t.starts(with: prefix), t.dropFirst(prefix.count).starts(with: "devices/".utf8),
              let slash = t.lastIndex(of: UInt8(ascii: "/")) else { return nil }
        let parent = t[prefix.count..<slash]
        let leaf = String(decoding: t[(slash + 1)...], as: UTF8.self)
        if let cached = worker.parentFolder, cached.path.elementsEqual(parent) { return cached.dir.view(leaf) }
        guard let dir = try? fs.directory("/sys/" + String(decoding: parent, as: UTF8.self)) else { return nil }
        worker.parentFolder = (Array(parent), dir)
        return dir.view(leaf)
    }

    /// One function: its attributes read relative to its folder, each with one read. Identity and
    /// driver come from `uevent` (the kernel's view), capabilities from one read of config space
    /// (decoded by libpci). Optional attributes are simply tried (a failed open is cheaper than
    /// listing the directory). Links are parsed as bytes: no string is made for what only a
    /// number or an address is drawn from.
    func readDevice(_ a: PCIAddress, _ worker: ReadWorker, listVFs: Bool = false, devicesDir: HostDirectory? = nil) -> PCIDevice? {
        let name = a.description
        var path: String { "\(HostReader.pciDevices)/\(name)" }
        // Its place in the hierarchy: the /sys/bus/pci/devices link names every bridge above it.
        var parents: [PCIAddress] = []
        var folder: HostDirectory?
        var alias = false
        func fromLink(_ t: UnsafeRawBufferPointer) {
            // The kernel links each function to its own folder: a link to another one (a crafted
            // tree aliasing one folder thousands of times) names no function.
            let leaf = t.lastIndex(of: UInt8(ascii: "/")).map { t[($0 + 1)...] } ?? t[...]
            if !leaf.elementsEqual(name.utf8) { alias = true; return }
            parents = PCIAddress.bridges(inDevicePath: t)
            folder = deviceFolder(link: t, worker)
        }
        if let devicesDir {
            _ = try? devicesDir.withLink(name, fromLink)
        } else if let t = try? fs.link(path) {
            Array(t.utf8).withUnsafeBytes(fromLink)
        }
        if alias {
            worker.problems.append("\(path): links to a folder that is not its own")
            return nil
        }
        guard var dir = folder ?? (try? fs.directory(path)) else {
            worker.problems.append("\(path): unreadable")
            return nil
        }
        let pci = worker.pci
        var bytes = Result { () throws(HostFSError) in try dir.bytes("config", limit: PCIConfigReader.bytesRead) }
        if case .failure = bytes, dir.isView {
            // Through the bridge's folder no link is followed: a function folder that is a link
            // (not what sysfs has) is opened the careful way instead, and read again.
            guard let opened = try? fs.directory(path) else {
                worker.problems.append("\(path): unreadable")
                return nil
            }
            dir = opened
            bytes = Result { () throws(HostFSError) in try dir.bytes("config", limit: PCIConfigReader.bytesRead) }
        }
        var info: PCIConfigInfo?
        var configProblem: String?
        switch bytes {
        case .success(let b):
            switch pci.decode(a, config: b) {
            case .success(let i): info = i
            case .failure(let e): configProblem = e.message
            }
        case .failure(let error): configProblem = error.description
        }
        // Identity and driver as the kernel sees them, as lspci shows them: a VF's config space
        // reads ffff for its vendor and device, and the kernel fixes up some classes. One read of
        // `uevent` (PCI_ID, PCI_CLASS, PCI_SUBSYS_ID, DRIVER) gives all of it; trees without
        // one fall back to the separate attributes, then to config space.
        let uevent = (try? dir.withAttribute("uevent", PCIUevent.init)) ?? nil
        func hexAttr(_ name: String) -> UInt64? { (try? dir.text(name)).flatMap { UInt64(hexText: $0) } }
        guard let vendor = uevent?.vendor ?? hexAttr("vendor").map({ UInt16(truncatingIfNeeded: $0) }) ?? info?.vendorID,
              let device = uevent?.device ?? hexAttr("device").map({ UInt16(truncatingIfNeeded: $0) }) ?? info?.deviceID,
              let cls = uevent?.classCode ?? hexAttr("class").map({ UInt32(truncatingIfNeeded: $0) }) ?? info?.classCode else {
            worker.problems.append("\(path): vendor, device or class unreadable (\(configProblem ?? "no uevent"))")
            return nil
        }
        if let configProblem { worker.problems.append("\(path)/config: \(configProblem)") }
        var d = PCIDevice(address: a, vendorID: vendor, deviceID: device, classCode: cls)
        if let info {
            d.headerType = info.headerType
            d.capabilities = info.capabilities
            d.expressType = info.expressType
            d.secondaryBus = info.secondaryBus
            d.configComplete = info.complete
        }
        if let sub = uevent?.subsystem { (d.subsystemVendorID, d.subsystemDeviceID) = sub }
        worker.identities.insert(PCIConfigReader.Identity(d))
        d.parents = parents
        if let uevent {
            d.driver = uevent.driver
        } else {
            switch Reading({ () throws(HostFSError) in try dir.linkName("driver") }) {
            case .value(let v): d.driver = v
            case .absent: break
            case .unreadable: d.unreadable.append("driver")
            }
        }
        if let o = try? dir.text("driver_override"), o != "(null)", !o.isEmpty { d.driverOverride = o }
        switch Reading({ () throws(HostFSError) in try dir.withLinkName("iommu_group", HostDirectory.decimal) }) {
        case .value(let g): d.iommuGroup = g
        case .absent: break
        case .unreadable: d.unreadable.append("iommu_group")
        }
        d.numaNode = (try? dir.integer("numa_node")) ?? nil
        d.physfn = (try? dir.withLinkName("physfn") { PCIAddress(utf8: $0) }) ?? nil
        // A VF is never a PF itself: only other functions may have sriov_* attributes.
        if d.physfn == nil, let total = (try? dir.integer("sriov_totalvfs")) ?? nil {
            let num = ((try? dir.integer("sriov_numvfs")) ?? nil) ?? 0
            // The VF list costs a readlink per VF; it is read only for a PF the user named.
            let vfs = !listVFs ? [] : ((try? dir.names()) ?? []).filter { $0.hasPrefix("virtfn") }
                .compactMap { try? dir.linkName($0) }.compactMap(PCIAddress.init).sorted()
            d.sriov = SRIOV(totalVFs: total, numVFs: num, vfs: vfs)
        }
        // vfio-dev/vfioN: only under a VFIO driver (vfio-pci and its variants: mlx5_vfio_pci, ...).
        if let drv = d.driver, DriverClass.namesVFIO(drv) { d.vfioDevice = dir.firstEntry(in: "vfio-dev", prefix: "vfio") }
        if d.vendorID == 0x1af4 {
            d.virtio = ((try? dir.names()) ?? []).filter { $0.hasPrefix("virtio") && Int($0.dropFirst(6)) != nil }.sorted()
                .map { readVirtio("\(path)/\($0)", name: $0) }
        }
        return d
    }

    func readVirtio(_ dir: String, name: String) -> VirtioDevice {
        VirtioDevice(
            name: name,
            deviceID: (try? fs.text("\(dir)/device")).flatMap { UInt64(hexText: $0) }.map { UInt32(truncatingIfNeeded: $0) },
            features: Reading({ () throws(HostFSError) in try fs.text("\(dir)/features") }),
            driver: try? fs.linkName("\(dir)/driver"))
    }

    /// What a group's folder says of it, apart from its members.
    struct GroupAttributes {
        var type: Reading<String>
        var name: String?
        var reservedRegions: Reading<[ReservedRegion]>
        /// The name could not be read (so no-IOMMU or not cannot be told).
        var problem: String?
    }

    /// A group's attributes, read beneath `groupsDir` as `N/type`: group folders are real
    /// directories, so no folder is opened per group.
    func readGroupAttributes(_ id: Int, in groupsDir: HostDirectory?) -> GroupAttributes {
        guard let groupsDir else {
            let why = "\(HostReader.iommuGroups)/\(id): unreadable"
            return GroupAttributes(type: .unreadable(why), name: nil, reservedRegions: .unreadable(why), problem: why)
        }
        let prefix = "\(id)/"
        func attribute(_ name: String) -> Reading<String> { Reading({ () throws(HostFSError) in try groupsDir.text(prefix + name) }) }
        let type = attribute("type")
        // Only a group without a default domain (type "unknown") can be one VFIO made and named
        // vfio-noiommu; a group the IOMMU backs is not looked up for a name.
        let name = type.value.map(IOMMUGroup.domainTypes.contains) == true ? .absent : attribute("name")
        let regions = Reading({ () throws(HostFSError) in try groupsDir.withAttribute(prefix + "reserved_regions", ReservedRegion.parse) })
        var problem: String?
        if case .unreadable(let why) = name { problem = why }
        return GroupAttributes(type: type, name: name.value, reservedRegions: regions, problem: problem)
    }

    /// One group, its members listed from its devices folder (device scope).
    func readGroup(_ id: Int, in groupsDir: HostDirectory?) -> IOMMUGroup {
        let listing = Reading({ () throws(HostFSError) in
            guard let groupsDir else { throw HostFSError.permissionDenied("\(HostReader.iommuGroups)/\(id)/devices") }
            return try groupsDir.subdirectory("\(id)/devices").names()
        })
        var g = IOMMUGroup(id: id, members: listing.value ?? [], readGroupAttributes(id, in: groupsDir))
        if case .unreadable(let why) = listing { g.membersProblem = why }
        // Platform, AMBA and fsl-mc devices take the default domain too (platform_dma_configure)
        // unless their driver manages DMA: their drivers decide viability as PCI drivers do.
        for m in g.otherMembers where !IOMMUGroup.isMdevName(m) {
            if let drv = try? fs.linkName("\(HostReader.iommuGroups)/\(id)/devices/\(m)/driver") { g.otherDrivers[m] = drv }
        }
        return g
    }

    // MARK: IOMMU units and firmware

    func readIOMMUUnits(countDevices: Bool) -> Reading<[IOMMUUnit]> {
        Reading({ () throws(HostFSError) in
            try fs.entries("/sys/class/iommu").map { name in
                let dir = "/sys/class/iommu/\(name)"
                let target = (try? fs.link(dir)) ?? ""
                var unit = IOMMUUnit(name: name, kind: .other)
                if let cap = (try? fs.text("\(dir)/intel-iommu/cap")).flatMap({ UInt64(hexText: $0) }) {
                    unit.kind = .intel
                    unit.intelCap = cap
                    unit.intelEcap = (try? fs.text("\(dir)/intel-iommu/ecap")).flatMap { UInt64(hexText: $0) }
                } else if fs.isDirectory("\(dir)/amd-iommu") {
                    unit.kind = .amd
                    // "features" is "EFR" on older kernels and "EFR:EFR2" on newer ones.
                    let f = (try? fs.text("\(dir)/amd-iommu/features")) ?? ""
                    unit.amdFeatures = UInt64(hexText: String(f.split(separator: ":").first ?? ""))
                } else if target.contains("virtio") || name.hasPrefix("virtio") {
                    unit.kind = .virtio
                } else if name.contains("smmu") || target.contains("smmu") {
                    unit.kind = .arm
                }
                if countDevices { unit.deviceCount = (try? fs.entries("\(dir)/devices"))?.count }
                return unit
            }
        })
    }

    /// The ACPI tables that describe IOMMUs, decoded (their scopes are resolved against the
    /// functions once those are read).
    func readFirmwareTables() -> FirmwareTables {
        let dir = "/sys/firmware/acpi/tables"
        let present = Reading({ () throws(HostFSError) in
            try fs.entries(dir).filter { FirmwareTables.iommuSignatures.contains($0) }
        })
        var t = FirmwareTables(present: present, contents: [:])
        for sig in present.value ?? [] {
            let bytes = Reading({ () throws(HostFSError) in try fs.bytes("\(dir)/\(sig)", limit: 1 << 20) })
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
            let bytes = try? fs.bytes("\(HostReader.pciDevices)/\(a)/config", limit: PCIConfigReader.bytesRead)
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
                var m = IdentityMap(source: .rmrr, index: i, base: r.base, end: r.limit, allDevices: false, devices: [], ranges: [], unresolved: [])
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
                var m = IdentityMap(source: .ivmd, index: i, base: v.start, end: v.length == 0 ? v.start : v.start &+ v.length &- 1,
                                    allDevices: v.type == 0x20, devices: [], ranges: [], unresolved: [])
                m.segment = UInt32(v.segment)
                if v.type == 0x21 {
                    m.devices.append(PCIAddress(domain: UInt32(v.segment), bus: UInt8(v.deviceID >> 8), device: UInt8((v.deviceID >> 3) & 0x1f), function: UInt8(v.deviceID & 7)))
                } else if v.type == 0x22, v.deviceID <= v.auxiliaryData {
                    m.ranges.append(v.deviceID...v.auxiliaryData)
                }
                out.append(m)
            }
        }
        return out
    }

    // MARK: kernel

    func readKernelConfig(release: String?) -> (Reading<KernelConfig>, String?) {
        switch Reading({ () throws(HostFSError) in try fs.bytes("/proc/config.gz", limit: 4 << 20) }) {
        case .value(let gz):
            if let text = Gzip.decompress(gz) { return (.value(KernelConfig(String(decoding: text, as: UTF8.self))), "/proc/config.gz") }
            return (.unreadable("/proc/config.gz: not a valid gzip stream"), "/proc/config.gz")
        case .unreadable(let why):
            if let r = release, let c = try? fs.text("/boot/config-\(r)") { return (.value(KernelConfig(c)), "/boot/config-\(r)") }
            return (.unreadable(why), nil)
        case .absent:
            guard let r = release else { return (.absent, nil) }
            let path = "/boot/config-\(r)"
            return (Reading({ () throws(HostFSError) in KernelConfig(try fs.text(path)) }), path)
        }
    }

    static func interruptChips(_ text: String) -> Set<String> {
        var chips: Set<String> = []
        for line in text.split(separator: "\n").dropFirst() {
            // "  24:   0   0  IR-PCI-MSIX-0000:00:02.0   0-edge   eth0": the chip is the first word
            // after the per-CPU counts.
            let words = line.split(separator: " ", omittingEmptySubsequences: true)
            guard words.count > 2 else { continue }
            if let chip = words.dropFirst().first(where: { UInt64($0) == nil }) { chips.insert(String(chip)) }
        }
        return chips
    }

    func readModules(release: String?, config: KernelConfig?) -> Modules {
        let builtin: Set<String> = {
            guard let r = release, let text = try? fs.text("/lib/modules/\(r)/modules.builtin", limit: 8 << 20) else { return [] }
            return Set(text.split(separator: "\n").compactMap { line in
                line.split(separator: "/").last.map { String($0.replacingOccurrences(".ko", "").map { $0 == "-" ? "_" : $0 }) }
            })
        }()
        var byName: [String: Module] = [:]
        for (name, symbol, params) in Modules.watched {
            let dir = "/sys/module/\(name)"
            let inSysfs = fs.isDirectory(dir)
            let state: ModuleState
            if inSysfs && fs.exists("\(dir)/initstate") { state = .loaded }
            else if builtin.contains(name) || config?.isBuiltIn(symbol) == true { state = .builtIn }
            else if inSysfs { state = .builtIn }  // built-in code with parameters, no modules.builtin to say so
            else if config?.isModule(symbol) == true { state = .available }
            else if let c = config, c[symbol] == nil || c[symbol] == "n" { state = .absent }
            else { state = .unknown }
            var values: [String: Reading<String>] = [:]
            for p in params {
                values[p] = Reading({ () throws(HostFSError) in try fs.text("\(dir)/parameters/\(p)") })
            }
            byName[name] = Module(name: name, state: state, parameters: values, configSymbol: symbol)
        }
        return Modules(byName: byName)
    }

    // MARK: /dev, process, platform

    /// The character devices in a /dev folder, by name (a whole-host read lists them once).
    func readNodes(in dir: String) -> [String: DeviceNode] {
        var nodes: [String: DeviceNode] = [:]
        for n in (try? fs.deviceNodes(in: dir)) ?? [] { nodes[String(n.path.dropFirst(dir.count + 1))] = n }
        return nodes
    }

    /// /dev/vfio's group nodes, when the whole host is read (listed once); nil for device scope,
    /// where each group's node is looked up.
    func readGroupNodes() -> (nodes: [String: DeviceNode], readable: Bool) {
        var nodes: [String: DeviceNode] = [:]
        do {
            for n in try fs.deviceNodes(in: "/dev/vfio") where n.path != "/dev/vfio/vfio" {
                nodes[String(n.path.dropFirst("/dev/vfio/".count))] = n
            }
        } catch .missing {
        } catch { return ([:], false) }
        return (nodes, true)
    }

    func devNodes(_ w: HostWide, scope: Host.Scope, groups: [Int: IOMMUGroup], devices: [PCIAddress: PCIDevice]) -> DevNodes {
        var groupNodes: [String: DeviceNode] = [:]
        var readable = true
        if let listed = w.groupNodes {
            (groupNodes, readable) = listed
        } else {
            for g in groups.values {
                let name = g.nodeName
                if let n = try? fs.deviceNode("/dev/vfio/\(name)") { groupNodes[name] = n }
            }
        }
        var cdevs: [String: DeviceNode] = [:]
        for d in devices.values {
            guard let v = d.vfioDevice else { continue }
            // Listed once on a whole-host read; looked up one by one for --device.
            if let n = w.cdevNodes.map({ $0[v] }) ?? (try? fs.deviceNode("/dev/vfio/devices/\(v)")) { cdevs[v] = n }
        }
        return DevNodes(container: w.container, iommufd: w.iommufd, groups: groupNodes, cdevs: cdevs, groupsReadable: readable)
    }

    /// What the reader learns of the host apart from its PCI functions and groups. On a whole-host
    /// read it is one more job of the parallel pass.
    struct HostWide: Sendable {
        var kernel: Kernel
        var modules: Modules
        var units: Reading<[IOMMUUnit]>
        var tables: FirmwareTables
        var groupNodes: (nodes: [String: DeviceNode], readable: Bool)?
        /// /dev/vfio/devices, by name (whole-host reads).
        var cdevNodes: [String: DeviceNode]?
        var container: Reading<DeviceNode>
        var iommufd: Reading<DeviceNode>
        var process: ProcessFacts
        var platform: Platform
        var vmbus: Reading<[VMBusDevice]>
        var mdevs: (devices: Reading<[MdevDevice]>, parents: Reading<[MdevParent]>)
    }

    func readHostWide(scope: Host.Scope) -> HostWide {
        let release = Reading({ () throws(HostFSError) in try fs.text("/proc/sys/kernel/osrelease") })
        let (config, configSource) = readKernelConfig(release: release.value)
        let kernel = Kernel(
            release: release,
            cmdline: Reading({ () throws(HostFSError) in KernelCommandLine(try fs.text("/proc/cmdline")) }),
            config: config,
            configSource: configSource,
            taint: Reading({ () throws(HostFSError) in UInt64(try fs.text("/proc/sys/kernel/tainted")) ?? 0 }),
            interruptChips: Reading({ () throws(HostFSError) in HostReader.interruptChips(try fs.text("/proc/interrupts")) }))
        return HostWide(
            kernel: kernel,
            modules: readModules(release: release.value, config: config.value),
            units: readIOMMUUnits(countDevices: scope == .all),
            tables: readFirmwareTables(),
            groupNodes: scope == .all ? readGroupNodes() : nil,
            cdevNodes: scope == .all ? readNodes(in: "/dev/vfio/devices") : nil,
            container: Reading({ () throws(HostFSError) in try fs.deviceNode("/dev/vfio/vfio") }),
            iommufd: Reading({ () throws(HostFSError) in try fs.deviceNode("/dev/iommu") }),
            process: readProcess(),
            platform: readPlatform(),
            vmbus: readVMBus(),
            mdevs: readMdevs())
    }

    func readProcess() -> ProcessFacts {
        let status = Reading({ () throws(HostFSError) in ProcessFacts.parseStatus(try fs.text("/proc/self/status")) })
        let limits = Reading({ () throws(HostFSError) in try fs.text("/proc/self/limits") })
        let memlock: Reading<UInt64?>
        switch limits {
        case .value(let t): memlock = ProcessFacts.parseMemlock(t).map { .value($0) } ?? .unreadable("/proc/self/limits: no \"Max locked memory\" line")
        case .absent: memlock = .absent
        case .unreadable(let w): memlock = .unreadable(w)
        }
        func field<T>(_ f: @escaping ((uid: UInt32?, capEff: UInt64?)) -> T?, _ what: String) -> Reading<T> {
            switch status {
            case .value(let s): f(s).map { .value($0) } ?? .unreadable("/proc/self/status: no \(what) line")
            case .absent: .absent
            case .unreadable(let w): .unreadable(w)
            }
        }
        return ProcessFacts(uid: field({ $0.uid }, "Uid:"), effectiveCapabilities: field({ $0.capEff }, "CapEff:"), memlockLimit: memlock)
    }

    func readPlatform() -> Platform {
        let cpuinfo = Reading({ () throws(HostFSError) in try fs.text("/proc/cpuinfo", limit: 64 << 10) })
        var vendor: Reading<CPUVendor> = cpuinfo.map { _ in .other }
        var flag: Bool?
        if let text = cpuinfo.value {
            for line in text.split(separator: "\n") {
                if line.hasPrefix("vendor_id") {
                    vendor = .value(line.contains("GenuineIntel") ? .intel : line.contains("AuthenticAMD") || line.contains("HygonGenuine") ? .amd : .other)
                } else if line.hasPrefix("CPU implementer") {
                    vendor = .value(.arm)
                } else if line.hasPrefix("flags") {
                    flag = line.split(separator: " ").contains("hypervisor")
                    break
                }
            }
        }
        var p = Platform(cpuVendor: vendor, hypervisorFlag: flag,
                         systemVendor: try? fs.text("/sys/class/dmi/id/sys_vendor"),
                         productName: try? fs.text("/sys/class/dmi/id/product_name"),
                         hypervisorType: try? fs.text("/sys/hypervisor/type"))
        // Cloud Hypervisor's PCI host bridge is 8086:0d57 (Firecracker's PCI support took the same
        // code); a KVM guest that shows it and no DMI vendor is one of the two.
        if flag == true, p.systemVendor == nil {
            let root = "\(HostReader.pciDevices)/0000:00:00.0"
            p.hostBridge = ((try? fs.text("\(root)/vendor")).flatMap { UInt64(hexText: $0) }, (try? fs.text("\(root)/device")).flatMap { UInt64(hexText: $0) })
        }
        p.hypervisor = Platform.identify(p, hasVMBus: fs.isDirectory("/sys/bus/vmbus/devices"))
        return p
    }

    func readVMBus() -> Reading<[VMBusDevice]> {
        Reading({ () throws(HostFSError) in
            try fs.entries("/sys/bus/vmbus/devices").map { id in
                let dir = "/sys/bus/vmbus/devices/\(id)"
                return VMBusDevice(id: id, classID: try? fs.text("\(dir)/class_id"), driver: try? fs.linkName("\(dir)/driver"))
            }
        })
    }

    func readMdevs() -> (devices: Reading<[MdevDevice]>, parents: Reading<[MdevParent]>) {
        let devices = Reading({ () throws(HostFSError) in
            try fs.entries("/sys/bus/mdev/devices").map { uuid in
                let dir = "/sys/bus/mdev/devices/\(uuid)"
                let parts = ((try? fs.link(dir)) ?? "").split(separator: "/")
                return MdevDevice(uuid: uuid, parent: parts.count >= 2 ? String(parts[parts.count - 2]) : nil,
                                  type: try? fs.linkName("\(dir)/mdev_type"),
                                  iommuGroup: (try? fs.linkName("\(dir)/iommu_group")).flatMap { Int($0) },
                                  driver: try? fs.linkName("\(dir)/driver"))
            }
        })
        let parents = Reading({ () throws(HostFSError) in
            try fs.entries("/sys/class/mdev_bus").map { name in
                let tdir = "/sys/class/mdev_bus/\(name)/mdev_supported_types"
                let types = ((try? fs.entries(tdir)) ?? []).map { t in
                    MdevType(id: t, name: try? fs.text("\(tdir)/\(t)/name"),
                             deviceAPI: try? fs.text("\(tdir)/\(t)/device_api"),
                             availableInstances: (try? fs.text("\(tdir)/\(t)/available_instances")).flatMap { Int($0) },
                             instances: (try? fs.entries("\(tdir)/\(t)/devices")) ?? [])
                }
                return MdevParent(name: name, types: types)
            }
        })
        return (devices, parents)
    }
}

extension Platform {
    static func identify(_ p: Platform, hasVMBus: Bool) -> Hypervisor? {
        let vendor = (p.systemVendor ?? "").lowercased()
        let product = (p.productName ?? "").lowercased()
        if hasVMBus || (vendor.contains("microsoft") && product.contains("virtual")) { return .hyperV }
        if p.hypervisorType == "xen" || vendor.contains("xen") { return .xen }
        if vendor.contains("qemu") || product.contains("kvm") || vendor.contains("red hat") || product.contains("q35") { return .kvm }
        if vendor.contains("cloud hypervisor") { return .cloudHypervisor }
        if p.hypervisorFlag == true, p.systemVendor == nil, p.hostBridge.vendor == 0x8086, p.hostBridge.device == 0x0d57 {
            return .cloudHypervisorOrFirecracker
        }
        if vendor.contains("vmware") { return .vmware }
        if product.contains("virtualbox") || vendor.contains("innotek") { return .virtualBox }
        if p.hypervisorFlag == true { return .other }
        return nil
    }
}

extension StringProtocol {
    func replacingOccurrences(_ target: String, _ replacement: String) -> String {
        let t = Array(target)
        let chars = Array(self)
        var out = ""
        var i = 0
        while i < chars.count {
            if !t.isEmpty, i + t.count <= chars.count, Array(chars[i..<(i + t.count)]) == t {
                out += replacement
                i += t.count
            } else {
                out.append(chars[i])
                i += 1
            }
        }
        return out
    }
}

extension IOMMUGroup {
    init(id: Int, members: [String], _ a: HostReader.GroupAttributes) {
        self.init(id: id, members: members, type: a.type, name: a.name, reservedRegions: a.reservedRegions)
        nameProblem = a.problem
    }
    init(id: Int, pciMembers: [PCIAddress], _ a: HostReader.GroupAttributes) {
        self.init(id: id, pciMembers: pciMembers, type: a.type, name: a.name, reservedRegions: a.reservedRegions)
        nameProblem = a.problem
    }
}
