import SystemPackage

/// Turns the step where a live walk stopped into a cause, an exact action and what it does to the
/// mode. Pure: reads the walk and the host snapshot only.
public struct LiveDiagnosis: Sendable, Equatable {
    public var cause: String
    public var remedy: String
    public var impacts: [Impact]

    public static func of(_ walk: LiveWalk, device d: PCIDevice?, host: Host) -> LiveDiagnosis? {
        guard let step = walk.failure else { return nil }
        // The modes a failure on this path speaks for: the container serves both; iommufd is an
        // alternative to type1, so its failures are reported but decide nothing.
        let modes: [Mode] =
            switch walk.kind {
            case .container: Mode.usable
            case .noiommu: [.noiommu]
            case .type1: Mode.iommuBacked
            case .iommufd: []
            }
        let name = step.name
        let errText = step.errnoName.map { " with \($0)" } ?? ""
        let userFix = Actions.Remedy.devNodes
        func diag(_ cause: String, _ remedy: String, _ impacts: [Impact]) -> LiveDiagnosis {
            LiveDiagnosis(cause: "\(name) failed\(errText): \(cause)", remedy: remedy, impacts: impacts)
        }
        func requires(_ reason: String, _ actions: [String]) -> [Impact] {
            modes.map { .requires($0, reason, actions) }
        }
        func blocks(_ reason: String, _ fix: [String] = []) -> [Impact] {
            modes.map { .blocks($0, reason, fix: fix) }
        }
        let holders =
            walk.facts.holders.isEmpty
            ? "another process (its /proc/PID/fd is not readable by this user)" : walk.facts.holders.joined(separator: ", ")

        guard case .failed(let e) = step.outcome else {
            // Rejected: the call succeeded, its answer stopped the walk.
            switch step.id {
            case .groupGetStatus:
                let g = d.flatMap { host.group(of: $0.address) }
                let v = g.map { host.viability(of: $0, except: d?.address, nonPCI: false) }
                let (offenders, actions) = (v?.blockers ?? [], v?.actions ?? [])
                let who = offenders.isEmpty ? "a member is bound to a driver that does DMA" : offenders.joined(separator: ", ")
                return LiveDiagnosis(
                    cause: "VFIO_GROUP_GET_STATUS: group \(g.map { String($0.id) } ?? "?") is not viable: \(who)",
                    remedy: Actions.Remedy.groupViability,
                    impacts: requires("the kernel says the group is not viable (\(who))", actions))
            case .checkExtension where walk.kind == .noiommu:
                return LiveDiagnosis(
                    cause: "VFIO_CHECK_EXTENSION: NOIOMMU is not offered: no-IOMMU mode is off", remedy: Actions.enableNoIOMMU,
                    impacts: requires("no-IOMMU mode is off", [Actions.enableNoIOMMU]))
            case .checkExtension:
                return LiveDiagnosis(
                    cause: "VFIO_CHECK_EXTENSION: neither TYPE1v2 nor TYPE1: vfio_iommu_type1 is not loaded",
                    remedy: "modprobe vfio_iommu_type1",
                    impacts: requires("the type1 backend is not loaded", ["modprobe vfio_iommu_type1"]))
            default:
                return LiveDiagnosis(
                    cause: "\(name): \(step.detail)",
                    remedy: "Report this with `vfio-probe --format json` output: the kernel answered something unexpected.",
                    impacts: blocks("\(name): \(step.detail)"))
            }
        }

        switch (step.id, e) {
        case (.open(let node), .noSuchFileOrDirectory) where node == .container || node == .iommufd:
            return diag(
                "the node does not exist", "modprobe -a vfio-pci iommufd  # or, when /dev is not devtmpfs: mount -t devtmpfs devtmpfs /dev",
                blocks("\(node.path) does not exist", ["modprobe vfio-pci"]))
        case (.open, .permissionDenied),
            (.open, .notPermitted) where walk.kind != .noiommu:
            return diag("this user may not open it", userFix, requires("this user cannot \(name)", [userFix]))
        case (.open(.noIOMMUGroup), .notPermitted):
            let fix = Actions.Remedy.noIOMMUPrivileges
            return diag("no-IOMMU groups need CAP_SYS_RAWIO", fix, requires("opening a no-IOMMU group needs CAP_SYS_RAWIO", [fix]))
        case (.open(let node), .resourceBusy)
        where !walk.facts.holders.isEmpty && walk.facts.holders.allSatisfy({ $0.hasSuffix("(vfio-probe)") }):
            // Another probe run holds it for the length of one walk: nothing to fix, ask again.
            return diag(
                "another vfio-probe run holds it for a moment (\(holders))", "Run vfio-probe again in a moment.",
                modes.map { .undecided($0, "\(node.path) is busy: another vfio-probe run holds it", ["run vfio-probe again in a moment"]) })
        case (.open(let node), .resourceBusy):
            return diag(
                "it is in use by \(holders); vfio-probe leaves it alone",
                "Stop the process that holds it (\(holders)), or probe the device when it is idle.",
                requires("\(node.path) is held by \(holders)", ["stop \(holders)"]))
        // Where the kernel refuses a firmware direct mapping moved between releases: up to 5.18 at
        // VFIO_SET_IOMMU (EPERM), 5.19-6.1 at VFIO_GROUP_SET_CONTAINER (EPERM), 6.2-6.5 at
        // VFIO_SET_IOMMU (EPERM), since 6.6 at VFIO_GROUP_SET_CONTAINER (EINVAL, require_direct);
        // on the cdev path and iommufd's emulated container, when the device is bound (EINVAL).
        case (.groupSetContainer, .invalidArgument),
            (.groupGetDeviceFD, .invalidArgument) where host.containerBackend == .iommufd:
            return refusedDomain(diag, blocks, d, host, walk.kind)
        case (.deviceBindIOMMUFD, .invalidArgument):
            // vfio_df_open: EINVAL also when another cdev fd has the device bound (a running VMM).
            if let d, !host.directMappings(of: d).isEmpty { return refusedDomain(diag, blocks, d, host, walk.kind) }
            return diag(
                "the device is bound through another /dev/vfio/devices fd (a running VMM or driver), or the kernel refused it a domain (an IOMMU without cache coherency)",
                "Look for the process using \(d?.vfioDevice.map { "/dev/vfio/devices/\($0)" } ?? "the device's cdev"), and at the kernel log.",
                [])
        case (.deviceAttachIOMMUFDPT, .invalidArgument):
            // require_direct refuses at bind; an attach EINVAL is a domain the device cannot join.
            return diag(
                "the IOAS's domain is incompatible with this device", "Look at the kernel log (dmesg) for the IOMMU message at this time.",
                [])
        case (.groupSetContainer, .notPermitted) where rmrrAt(.setContainer, d, host):
            return refusedDomain(diag, blocks, d, host, walk.kind)
        case (.setIOMMU(.type1v2), .notPermitted), (.setIOMMU(.type1), .notPermitted):
            // vfio_iommu_type1_attach_group attaches the group (device_is_rmrr_locked) before it
            // looks at MSI isolation: an RMRR answers first.
            if rmrrAt(.setIOMMU, d, host) { return refusedDomain(diag, blocks, d, host, walk.kind) }
            if host.interruptIsolation.isolated == false {
                return unisolated(diag, host, "VFIO_SET_IOMMU")
            }
            // Not the interrupts: they are isolated (or cannot be told), and no RMRR explains it.
            return diag(
                "refused although MSIs are isolated, and no firmware RMRR of the group explains it on \(host.kernel.version.map { "Linux \($0)" } ?? "this kernel")",
                "Look at the kernel log (dmesg) for the VFIO or IOMMU message at this time.",
                blocks("VFIO_SET_IOMMU was refused with EPERM"))
        case (.groupGetDeviceFD, .notPermitted) where host.containerBackend == .iommufd:
            // iommufd's emulated container attaches and checks when the device is opened: before
            // 6.6 iommu_attach_group refuses an RMRR with EPERM there (device_is_rmrr_locked), and
            // iommufd checks isolated MSIs (at attach before 6.6, at iommufd_device_bind since).
            if let d, !host.directMappings(of: d).isEmpty, host.directMappingRule.refuses,
                (host.kernel.version ?? KernelVersion(6, 6)) < KernelVersion(6, 6)
            {
                return refusedDomain(diag, blocks, d, host, walk.kind)
            }
            if host.interruptIsolation.isolated == false { return unisolated(diag, host, "VFIO_GROUP_GET_DEVICE_FD") }
            return diag(
                "the group is not viable, or another DMA owner holds it (iommufd_device_bind)", Actions.Remedy.groupViability,
                blocks("VFIO_GROUP_GET_DEVICE_FD was refused with EPERM through iommufd's container"))
        case (.deviceBindIOMMUFD, .notPermitted):
            if host.interruptIsolation.isolated == false {
                return diag(
                    "MSIs are not isolated: iommufd refuses without iommufd.allow_unsafe_interrupts=1, which accepts that a device can forge MSIs",
                    "Enable interrupt remapping; only if a device forging MSIs is acceptable: \(Actions.allowUnsafeInterrupts("iommufd"))",
                    [])
            }
            return diag(
                "the group is not viable, or another DMA owner (a kernel driver, another iommufd) holds it",
                Actions.Remedy.groupViability, [])
        case (.deviceBindIOMMUFD, .resourceBusy):
            return diag(
                "the device's group is open through /dev/vfio/\(d.flatMap { host.group(of: $0) }.map { $0.nodeName } ?? "N") (the legacy path, by any process): the cdev cannot be bound meanwhile (vfio_device_block_group)",
                "Close the group's /dev/vfio node first, or use one path only.", [])
        case (.groupGetDeviceFD, .operationNotSupportedByDevice) where d.map({ DriverClass($0.driver) != .vfio }) == true:
            // The group is there (a companion is on vfio-pci), but this function is not a VFIO device.
            let bind = Actions.bindToVFIO(d!, on: host)
            return diag(
                "\(d!.bdf) is not bound to vfio-pci, so VFIO has no device by that name in the group", Actions.Remedy.deviceDriver,
                requires("\(d!.bdf) is not bound to vfio-pci", bind))
        case (.iommuMapDMA, .noMemory), (.ioasMap, .noMemory):
            let limit = host.process.memlockLimit.value.map { $0.map { MemlockCheck.bytes($0) } ?? "unlimited" } ?? "unknown"
            return diag(
                "RLIMIT_MEMLOCK is exceeded (the limit is \(limit)); pinned DMA memory is charged to it", Actions.Remedy.memlock,
                requires("mapping DMA exceeds RLIMIT_MEMLOCK (\(limit))", [Actions.Remedy.memlock]))
        case (.iommuMapDMA, .noSpace):
            return diag(
                "the container reached vfio_iommu_type1.dma_entry_limit", Actions.Remedy.dmaEntryLimit,
                requires("the container has no DMA mapping entries left (dma_entry_limit)", [Actions.Remedy.dmaEntryLimit]))
        case (.groupGetDeviceFD, .permissionDenied)
        where d?.physfn.flatMap({ host.device($0) }).map({ DriverClass($0.driver) == .vfio }) == true:
            return diag(
                "\"VF token required\": the PF is bound to vfio-pci, so the VF opens only with the PF owner's VF token",
                Actions.Remedy.sriovVFToken,
                requires(
                    "the VF needs the PF owner's VF token", ["open the VF with the PF owner's VF token: \(Actions.Remedy.sriovVFToken)"]))
        case (.groupGetDeviceFD, .permissionDenied) where (d?.sriov?.numVFs ?? 0) > 0 && DriverClass(d?.driver) == .vfio:
            // vfio_pci_validate_vf_token: a PF whose VFs are in use opens only with the token too.
            return diag(
                "\"VF token required\": this PF's VFs are in use through vfio-pci, so the PF opens only with the VF token they were opened with",
                Actions.Remedy.sriovVFToken,
                requires("the PF needs the VF token its VFs' users set", ["open the PF with its VF token: \(Actions.Remedy.sriovVFToken)"]))
        case (.groupGetDeviceFD, .resourceBusy):
            return diag(
                "the device is already open: \(holders)", "Stop the process that holds it (\(holders)).",
                requires("\(d.map { $0.address.description } ?? "the device") is already open elsewhere", ["stop \(holders)"]))
        default:
            return diag(
                "unexpected", "Look at the kernel log (dmesg) for the VFIO or IOMMU message at this time.",
                blocks("\(name) failed\(errText)"))
        }
    }
}

extension LiveDiagnosis {
    enum RefusalPoint { case setIOMMU, setContainer }

    /// Whether this kernel refuses a firmware RMRR at that ioctl with EPERM, and the device's group
    /// has one: up to 5.18 and 6.2-6.5 at VFIO_SET_IOMMU, 5.19-6.1 at VFIO_GROUP_SET_CONTAINER
    /// (device_is_rmrr_locked moved with the DMA ownership rework).
    static func rmrrAt(_ point: RefusalPoint, _ d: PCIDevice?, _ host: Host) -> Bool {
        guard let d, !host.directMappings(of: d).isEmpty, host.directMappingRule.refuses else { return false }
        guard let v = host.kernel.version else { return true }
        switch point {
        case .setIOMMU: return v < KernelVersion(5, 19) || (v >= KernelVersion(6, 2) && v < KernelVersion(6, 6))
        case .setContainer: return v >= KernelVersion(5, 19) && v < KernelVersion(6, 2)
        }
    }

    /// The kernel refused the device a VFIO domain: a firmware direct mapping when the group has
    /// one, otherwise a domain the device cannot join (cache coherency the IOMMU cannot enforce).
    static func refusedDomain(
        _ diag: (String, String, [Impact]) -> LiveDiagnosis, _ blocks: (String, [String]) -> [Impact],
        _ d: PCIDevice?, _ host: Host, _ kind: LiveWalk.Kind
    ) -> LiveDiagnosis {
        let who = d.map { $0.address.description } ?? "the device"
        let maps = d.map(host.directMappings(of:)) ?? []
        if !maps.isEmpty {
            return diag(
                "the kernel refused \(who) a VFIO domain for its firmware direct mapping (\(maps.joined(separator: ", "))): \(host.directMappingRule.rule)",
                Actions.Remedy.reservedRegions,
                blocks("the kernel refused to attach \(who) to a VFIO domain (firmware RMRR)", [Actions.Remedy.reservedRegions]))
        }
        return diag(
            "the kernel refused \(who) a VFIO domain, and no firmware direct mapping explains it: an IOMMU that cannot enforce cache coherency, or a domain the device cannot join",
            "Look at the kernel log (dmesg) for the IOMMU message at this time.",
            blocks("the kernel refused to attach \(who) to a VFIO domain", []))
    }

    /// Refused for MSIs that are not isolated: safe VFIO is out, and the parameter is the action
    /// of the unsafe answer only.
    static func unisolated(_ diag: (String, String, [Impact]) -> LiveDiagnosis, _ host: Host, _ ioctl: String) -> LiveDiagnosis {
        let unsafe = host.unsafeInterruptsParameter
        return diag(
            "MSIs are not isolated (\(host.interruptIsolation.cause)): \(unsafe.module) refuses without \(unsafe.module).allow_unsafe_interrupts=1, which accepts that a device can forge MSIs",
            Actions.Remedy.interruptRemapping,
            [
                .blocks(.vfio, "\(ioctl) was refused: MSIs are not isolated, so VFIO is not safe here", liveCanLift: false),
                .requires(.unsafeInterrupts, "\(ioctl) was refused: MSIs are not isolated", [Actions.allowUnsafeInterrupts(unsafe.module)]),
            ])
    }
}

extension LiveWalk {
    /// The steps as evidence: what was called and what came back.
    var evidence: [Evidence] {
        steps.map { s in
            let outcome: String
            switch s.outcome {
            case .ok: outcome = "ok"
            case .failed: outcome = s.errnoName ?? "failed"
            case .rejected: outcome = "rejected"
            case .skipped: outcome = "skipped"
            }
            return Evidence(s.name, s.detail.isEmpty ? outcome : "\(outcome): \(s.detail)")
        }
    }
}
