/// Every check vfio-probe runs, in report order. A literal list: adding a check means adding it
/// here, and a test fails if a check type is left out.
public enum CheckRegistry {
    public static let all: [any Check.Type] = [
        // firmware and IOMMU
        IOMMUTableCheck.self,
        TablesDecodeCheck.self,
        FirmwareInterruptRemappingCheck.self,
        DMAProtectionCheck.self,
        FirmwareAddressWidthCheck.self,
        IOMMUUnitsCheck.self,
        IOMMUGroupsCheck.self,
        DefaultDomainCheck.self,
        InterruptRemappingCheck.self,
        AddressWidthCheck.self,
        // kernel
        CommandLineCheck.self,
        TaintCheck.self,
        NextBootCheck.self,
        KernelLogCheck.self,
        // VFIO stack
        ModulesCheck.self,
        DevNodesCheck.self,
        DMAEntryLimitCheck.self,
        DMABudgetCheck.self,
        MdevCheck.self,
        // no-IOMMU
        NoIOMMUAvailableCheck.self,
        NoIOMMUPrivilegesCheck.self,
        // this process
        PrivilegesCheck.self,
        MemlockCheck.self,
        // platform
        PCIBusCheck.self,
        HypervisorCheck.self,
        VMBusCheck.self,
        ConfidentialComputingCheck.self,
        // devices
        DeviceIOMMUGroupCheck.self,
        DeviceDriverCheck.self,
        NUMANodeCheck.self,
        GroupViabilityCheck.self,
        GroupIsolationCheck.self,
        ACSOverrideCheck.self,
        ATSCheck.self,
        DriverOverrideCheck.self,
        VariantDriverCheck.self,
        BootBindingCheck.self,
        SRIOVCheck.self,
        ReservedRegionsCheck.self,
        VirtioAccessPlatformCheck.self,
        FirmwareIdentityMapCheck.self,
        IOMMUCoverageCheck.self,
        HostUseCheck.self,
        ChipsetCheck.self,
        DeviceKernelLogCheck.self,
        // reset
        ResetMethodCheck.self,
        HotResetCheck.self,
        VendorResetCheck.self,
        // PASID and scalable devices
        ScalableModeCheck.self,
        DevicePASIDCheck.self,
        ScalableFunctionsCheck.self,
        // the live proof (runs only on this host, without --no-live)
        LiveContainerCheck.self,
        LiveType1Check.self,
        LiveNoIOMMUCheck.self,
        LiveIOMMUFDCheck.self,
    ]

    public enum SelectionError: Error, Equatable, CustomStringConvertible {
        case unknownID(String)
        case duplicateID(String)
        public var description: String {
            switch self {
            case .unknownID(let id): "no check has the id \"\(id)\" (vfio-probe checks lists them)"
            case .duplicateID(let id): "two checks share the id \"\(id)\""
            }
        }
    }

    /// The registry, refusing duplicate ids or aliases.
    public static func validated(_ checks: [any Check.Type] = all) throws(SelectionError) -> [any Check.Type] {
        var seen: Set<String> = []
        for c in checks {
            for id in [c.descriptor.id] + c.descriptor.aliases {
                if !seen.insert(id).inserted { throw .duplicateID(id) }
            }
        }
        return checks
    }

    /// The checks `--only` and `--skip` leave. An id may also name a family: a category or an id
    /// prefix, with or without its "." — "iommu" and "iommu." both select the IOMMU category and
    /// every "iommu.*" id (iommu.irq-remapping is filed under Interrupts).
    public static func select(
        only: [String], skip: [String], from checks: [any Check.Type] = all
    ) throws(SelectionError) -> [any Check.Type] {
        func matches(_ c: any Check.Type, _ id: String) -> Bool {
            let d = c.descriptor
            if d.id == id || d.aliases.contains(id) { return true }
            let family = id.hasSuffix(".") ? String(id.dropLast()) : id
            return !family.isEmpty && (d.category.rawValue == family || d.id.hasPrefix(family + "."))
        }
        for id in only + skip where !checks.contains(where: { matches($0, id) }) { throw .unknownID(id) }
        return checks.filter { c in
            (only.isEmpty || only.contains { matches(c, $0) }) && !skip.contains { matches(c, $0) }
        }
    }

    /// Runs checks in order, on one core: on the 4096-function bench host running them in
    /// parallel saved nothing.
    public static func run(_ checks: [any Check.Type], _ context: CheckContext) -> [Finding] {
        ConcurrentMap.map(checks, minimum: context.host.selected.count >= 256 ? 2 : .max) { $0.evaluate(context) }.flatMap { $0 }
    }

    public static func descriptor(for id: String) -> CheckDescriptor? {
        all.first { $0.descriptor.id == id }?.descriptor
    }
}
