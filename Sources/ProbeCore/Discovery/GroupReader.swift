/// What a group's folder says of it, apart from its members.
struct GroupAttributes: Sendable {
    var type: Reading<String>
    var name: String?
    var reservedRegions: Reading<[ReservedRegion]>
    /// The name could not be read (so no-IOMMU or not cannot be told).
    var problem: String?
}

extension ReadWorker {
    /// A group's attributes, read as "N/type" beneath the groups folder (group folders are real
    /// directories: none is opened per group).
    mutating func readGroupAttributes(_ id: Int) -> GroupAttributes {
        let groupsFolder = groups()
        guard let groups = groupsFolder.value else {
            let why = groupsFolder.failure ?? .missing(HostReader.iommuGroups)
            return GroupAttributes(type: .unreadable(why), name: nil, reservedRegions: .unreadable(why), problem: why.description)
        }
        let prefix = "\(id)/"
        let type = groups.read(prefix + "type").text
        // Only a group without a default domain (type "unknown") can be one VFIO made and named
        // vfio-noiommu; a group the IOMMU backs is not looked up for a name.
        let name: Reading<String> = type.value.map(IOMMUGroup.domainTypes.contains) == true ? .absent : groups.read(prefix + "name").text
        let regions = groups.read(prefix + "reserved_regions").trimmed.map(ReservedRegion.parse)
        var problem: String?
        if case .unreadable(let why) = name { problem = why.description }
        return GroupAttributes(type: type, name: name.value, reservedRegions: regions, problem: problem)
    }

    /// One group with its members listed from its devices folder (named devices), and the
    /// drivers of members that are not PCI functions.
    mutating func readGroup(_ id: Int) -> IOMMUGroup {
        let devices = "\(HostReader.iommuGroups)/\(id)/devices"
        let listing: Reading<[String]> =
            groups().value.map { $0.directory("\(id)").flatMap { $0.list("devices") } }
            ?? .unreadable(.permissionDenied(devices))
        var g = IOMMUGroup(id: id, members: listing.value ?? [], readGroupAttributes(id))
        if case .unreadable(let why) = listing { g.membersProblem = why.description }
        // Platform, AMBA and fsl-mc devices take the default domain too (platform_dma_configure)
        // unless their driver manages DMA: their drivers decide viability as PCI drivers do.
        for m in g.otherMembers where !IOMMUGroup.isMdevName(m) {
            if let drv = fs.link("\(devices)/\(m)/driver").lastComponent.value { g.otherDrivers[m] = drv }
        }
        return g
    }
}

extension IOMMUGroup {
    init(id: Int, members: [String], _ a: GroupAttributes) {
        self.init(id: id, members: members, type: a.type, name: a.name, reservedRegions: a.reservedRegions)
        nameProblem = a.problem
    }
    init(id: Int, pciMembers: [PCIAddress], _ a: GroupAttributes) {
        self.init(id: id, pciMembers: pciMembers, type: a.type, name: a.name, reservedRegions: a.reservedRegions)
        nameProblem = a.problem
    }
}
