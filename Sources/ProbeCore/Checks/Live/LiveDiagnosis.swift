/// Turns the step where a live walk stopped into a cause, an exact action and what it does to the
/// mode. Pure: reads the walk and the host snapshot only.
public struct LiveDiagnosis: Sendable, Equatable {
    public var cause: String
    public var remedy: String
    public var impacts: [Impact]

    static let EPERM: Int32 = 1, ENOENT: Int32 = 2, ENOMEM: Int32 = 12, EACCES: Int32 = 13, EBUSY: Int32 = 16
    static let EEXIST: Int32 = 17, ENODEV: Int32 = 19, EINVAL: Int32 = 22, ENOSPC: Int32 = 28, ENOTTY: Int32 = 25

    public static func of(_ walk: LiveWalk, device d: PCIDevice?, host: Host) -> LiveDiagnosis? {
        guard let step = walk.failure else { return nil }
        // The modes a failure on this path speaks for: the container serves both; iommufd is an
        // alternative to type1, so its failures are reported but decide nothing.
        let modes: [Mode] = switch walk.kind {
        case .container: Mode.usable
        case .noiommu: [.noiommu]
        case .type1: Mode.iommuBacked
        case .iommufd: []
        }
        let e = step.errno
        let name = step.name
        let errText = step.errnoName.map { " with \($0)" } ?? ""
        let userFix = DevNodesCheck.descriptor.remedy
        func diag(_ cause: String, _ remedy: String, _ impacts: [Impact]) -> LiveDiagnosis {
            LiveDiagnosis(cause: "\(name) failed\(errText): \(cause)", remedy: remedy, impacts: impacts)
        }
        func requires(_ reason: String, _ actions: [String]) -> [Impact] {
            modes.map { .requires($0, reason, actions) }
        }
        func blocks(_ reason: String, _ fix: [String] = []) -> [Impact] {
            modes.map { .blocks($0, reason, fix: fix) }
        }
        let holders = walk.facts.holders.isEmpty ? "another process (its /proc/PID/fd is not readable by this user)" : walk.facts.holders.joined(separator: ", ")

        if step.outcome == .rejected {
            switch name {
            case "VFIO_GROUP_GET_STATUS":
                let g = d.flatMap { host.group(of: $0.address) }
                var offenders: [String] = []
                var actions: [String] = []
                for m in g?.pciMembers ?? [] where m != d?.address {
                    guard let md = host.device(m), !DriverClass(md.driver).keepsGroupViable else { continue }
                    offenders.append("\(m) on \(md.driver!)")
                    actions += Actions.bindToVFIO(m, currentDriver: md.driver)
                }
                let who = offenders.isEmpty ? "a member is bound to a driver that does DMA" : offenders.joined(separator: ", ")
                return LiveDiagnosis(cause: "VFIO_GROUP_GET_STATUS: group \(g.map { String($0.id) } ?? "?") is not viable: \(who)",
                                     remedy: GroupViabilityCheck.descriptor.remedy,
                                     impacts: requires("the kernel says the group is not viable (\(who))", actions))
            case "VFIO_CHECK_EXTENSION" where walk.kind == .noiommu:
                return LiveDiagnosis(cause: "VFIO_CHECK_EXTENSION: NOIOMMU is not offered: no-IOMMU mode is off", remedy: Actions.enableNoIOMMU,
                                     impacts: requires("no-IOMMU mode is off", [Actions.enableNoIOMMU]))
            case "VFIO_CHECK_EXTENSION":
                return LiveDiagnosis(cause: "VFIO_CHECK_EXTENSION: neither TYPE1v2 nor TYPE1: vfio_iommu_type1 is not loaded", remedy: "modprobe vfio_iommu_type1",
                                     impacts: requires("the type1 backend is not loaded", ["modprobe vfio_iommu_type1"]))
            default:
                return LiveDiagnosis(cause: "\(name): \(step.detail)", remedy: "Report this with `vfio-probe --format json` output: the kernel answered something unexpected.",
                                     impacts: blocks("\(name): \(step.detail)"))
            }
        }

        switch (name, e) {
        case ("open /dev/vfio/vfio", ENOENT), ("open /dev/iommu", ENOENT):
            return diag("the node does not exist", "modprobe vfio-pci (and iommufd), or mount devtmpfs on /dev",
                        blocks("\(name.dropFirst(5)) does not exist", ["modprobe vfio-pci"]))
        case (_, EACCES) where name.hasPrefix("open"), (_, EPERM) where name.hasPrefix("open") && walk.kind != .noiommu:
            return diag("this user may not open it", userFix, requires("this user cannot \(name)", [userFix]))
        case (_, EPERM) where name.hasPrefix("open /dev/vfio/noiommu"):
            let fix = NoIOMMUPrivilegesCheck.descriptor.remedy
            return diag("no-IOMMU groups need CAP_SYS_RAWIO", fix, requires("opening a no-IOMMU group needs CAP_SYS_RAWIO", [fix]))
        case (_, EBUSY) where name.hasPrefix("open"):
            return diag("it is in use by \(holders); vfio-probe leaves it alone", "Stop the process that holds it (\(holders)), or probe the device when it is idle.",
                        requires("\(name.dropFirst(5)) is held by \(holders)", ["stop \(holders)"]))
        case ("VFIO_GROUP_SET_CONTAINER", EINVAL), ("VFIO_DEVICE_ATTACH_IOMMUFD_PT", EINVAL):
            return diag("the kernel refused to attach the group to a VFIO domain, which is what a firmware RMRR (\"ineligible for IOMMU domain attach due to platform RMRR requirement\") causes",
                        ReservedRegionsCheck.descriptor.remedy,
                        blocks("the kernel refused to attach \(d.map { $0.address.description } ?? "the device") to a VFIO domain (firmware RMRR)", [ReservedRegionsCheck.descriptor.remedy]))
        case ("VFIO_SET_IOMMU(TYPE1v2)", EPERM), ("VFIO_SET_IOMMU(TYPE1)", EPERM):
            if host.kernel.interruptRemappingActive == true {
                // Not the interrupts: they are remapped. Kernels up to 5.18 and 6.2-6.5 refuse an
                // Intel RMRR device here too (device_is_rmrr_locked).
                return diag("refused although interrupts are remapped: a firmware RMRR on a device of the group, or a kernel security policy",
                            ReservedRegionsCheck.descriptor.remedy,
                            blocks("VFIO_SET_IOMMU was refused with EPERM although interrupts are remapped"))
            }
            let unsafe = host.unsafeInterruptsParameter
            return diag("no interrupt remapping: type1 refuses without vfio_iommu_type1.allow_unsafe_interrupts=1, which accepts that a device can forge MSIs",
                        InterruptRemappingCheck.descriptor.remedy,
                        [.blocks(.vfio, "VFIO_SET_IOMMU was refused: no interrupt remapping, so VFIO is not safe here", liveCanLift: false),
                         .requires(.unsafeInterrupts, "VFIO_SET_IOMMU was refused: no interrupt remapping", [Actions.allowUnsafeInterrupts(unsafe.module)])])
        case ("VFIO_DEVICE_BIND_IOMMUFD", EPERM):
            return diag("no interrupt remapping, or the group is not viable; iommufd refuses without iommufd.allow_unsafe_interrupts=1",
                        "Enable interrupt remapping; only if a device forging MSIs is acceptable: \(Actions.allowUnsafeInterrupts("iommufd"))", [])
        case ("VFIO_GROUP_GET_DEVICE_FD", ENODEV) where d.map({ DriverClass($0.driver) != .vfio }) == true:
            // The group is there (a companion is on vfio-pci), but this function is not a VFIO device.
            let bind = Actions.bindToVFIO(d!.address, currentDriver: d!.driver)
            return diag("\(d!.bdf) is not bound to vfio-pci, so VFIO has no device by that name in the group", DeviceDriverCheck.descriptor.remedy,
                        requires("\(d!.bdf) is not bound to vfio-pci", bind))
        case ("VFIO_IOMMU_MAP_DMA", ENOMEM), ("IOMMU_IOAS_MAP", ENOMEM):
            let limit = host.process.memlockLimit.value.map { $0.map { MemlockCheck.bytes($0) } ?? "unlimited" } ?? "unknown"
            return diag("RLIMIT_MEMLOCK is exceeded (the limit is \(limit)); pinned DMA memory is charged to it", MemlockCheck.descriptor.remedy,
                        requires("mapping DMA exceeds RLIMIT_MEMLOCK (\(limit))", [MemlockCheck.descriptor.remedy]))
        case ("VFIO_IOMMU_MAP_DMA", ENOSPC):
            return diag("the container reached vfio_iommu_type1.dma_entry_limit", DMAEntryLimitCheck.descriptor.remedy,
                        requires("the container has no DMA mapping entries left (dma_entry_limit)", [DMAEntryLimitCheck.descriptor.remedy]))
        case ("VFIO_GROUP_GET_DEVICE_FD", EACCES) where d?.physfn.flatMap({ host.device($0) }).map({ DriverClass($0.driver) == .vfio }) == true:
            return diag("\"VF token required\": the PF is bound to vfio-pci, so the VF opens only with the PF owner's VF token", SRIOVCheck.descriptor.remedy,
                        requires("the VF needs the PF owner's VF token", ["open the VF with the PF owner's VF token: \(SRIOVCheck.descriptor.remedy)"]))
        case ("VFIO_GROUP_GET_DEVICE_FD", EBUSY):
            return diag("the device is already open (through its cdev or another group fd): \(holders)", "Stop the process that holds it (\(holders)).",
                        requires("\(d.map { $0.address.description } ?? "the device") is already open elsewhere", ["stop \(holders)"]))
        default:
            return diag("unexpected", "Look at the kernel log (dmesg) for the VFIO or IOMMU message at this time.",
                        blocks("\(name) failed\(errText)"))
        }
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
