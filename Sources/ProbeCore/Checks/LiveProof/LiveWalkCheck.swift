/// Shared by the three per-device walk checks.
enum LiveWalkFindings {
    /// The walk checks' own remedy: each finding carries the diagnosis's action for its step.
    static let remedy = "Follow the action for the step that failed."

    static func evaluate(
        _ c: any Check.Type, kind: LiveWalk.Kind, _ context: CheckContext, success: (LiveWalk, PCIDevice) -> (String, String)
    ) -> [Finding] {
        guard let live = context.live, live.notRun == nil else { return [] }
        let host = context.host
        return host.selectedDevices.compactMap { d -> Finding? in
            guard let walk = live.walk(kind, for: d.address) else { return nil }
            let s = Subject.device(d.address)
            if let diag = LiveDiagnosis.of(walk, device: d, host: host) {
                var detail = ""
                if !walk.facts.holders.isEmpty { detail = "held by: " + walk.facts.holders.joined(separator: ", ") }
                return Finding(
                    c.descriptor.id, kind == .iommufd ? .warn : .fail, s, diag.cause, detail: detail.isEmpty ? nil : detail,
                    remedy: diag.remedy, evidence: walk.evidence, impacts: diag.impacts)
            }
            let (summary, detail) = success(walk, d)
            return Finding(c.descriptor.id, .pass, s, summary, detail: detail, evidence: walk.evidence)
        }
    }

    static func deviceLines(_ f: LiveFacts, _ d: PCIDevice, deviceOpened: Bool) -> [String] {
        guard deviceOpened, let flags = f.deviceFlags else { return ["device fd not opened (--no-device-open)"] }
        var lines = ["device: flags 0x\(hex(flags, 1)), \(f.numRegions ?? 0) regions, \(f.numIRQs ?? 0) IRQ indexes"]
        if let v = f.configVendorID, let dev = f.configDeviceID {
            lines.append("config space through VFIO: \(hex(v, 4)):\(hex(dev, 4)), as sysfs says")
        }
        if !f.irqCounts.isEmpty {
            lines.append(
                "IRQs: " + ["INTx", "MSI", "MSI-X"].compactMap { n in f.irqCounts[n].map { "\(n) \($0)" } }.joined(separator: ", "))
        }
        return lines
    }
}

/// The legacy container + type1 path, end to end.
public struct LiveType1Check: Check {
    public static let descriptor = CheckDescriptor(
        id: "live.type1",
        title: "The type1 path works end to end",
        category: .live,
        rationale:
            "The walk a DPDK or QEMU start-up makes: open the group, VFIO_GROUP_GET_STATUS (viable), VFIO_GROUP_SET_CONTAINER, VFIO_SET_IOMMU(TYPE1v2), VFIO_IOMMU_GET_INFO, VFIO_IOMMU_MAP_DMA and UNMAP_DMA of a real buffer, VFIO_GROUP_GET_DEVICE_FD, device, config-space region and IRQ info. Where it stops, and with which errno, is the answer.",
        remedy: LiveWalkFindings.remedy,
        looksAt: ["/dev/vfio/vfio", "/dev/vfio/GROUP", "VFIO_* ioctls"],
        examples: [
            .pass("intel-vfio-ready", device: "0000:01:00.0"),
            .fail("intel-vfio-ready", device: "0000:01:00.0", at: .iommuMapDMA, .noMemory, remedy: Actions.Remedy.memlock),
            .fail("intel-no-ir", device: "0000:00:02.0", at: .setIOMMU(.type1v2), .notPermitted, remedy: Actions.Remedy.interruptRemapping),
        ])

    public static func evaluate(_ context: CheckContext) -> [Finding] {
        device(context) + mdevs(context)
    }

    /// mdev instances are not PCI functions of the verdict: their walks are reported, and decide
    /// nothing.
    static func mdevs(_ context: CheckContext) -> [Finding] {
        guard let live = context.live, live.notRun == nil else { return [] }
        return live.mdevs.keys.sorted().compactMap { uuid -> Finding? in
            guard let w = live.mdevs[uuid]?.first else { return nil }
            if let diag = LiveDiagnosis.of(w, device: nil, host: context.host) {
                return Finding(descriptor.id, .warn, .host, "mdev \(uuid): \(diag.cause)", remedy: diag.remedy, evidence: w.evidence)
            }
            let f = w.facts
            let map =
                f.mappedIOVA.map { "mapped 0x\(hex(f.mappedSize ?? 0, 1)) bytes at IOVA 0x\(hex($0, 1)) and unmapped them" }
                ?? "mapped and unmapped DMA"
            var detail = [
                "config space through VFIO: \(f.configVendorID.map { hex($0, 4) } ?? "?"):\(f.configDeviceID.map { hex($0, 4) } ?? "?")"
            ]
            if !f.irqCounts.isEmpty {
                detail.append("IRQs: " + f.irqCounts.keys.sorted().map { "\($0) \(f.irqCounts[$0]!)" }.joined(separator: ", "))
            }
            return Finding(
                descriptor.id, .pass, .host, "mdev \(uuid): type1 (\(f.iommuType ?? "?")) works: \(map)",
                detail: detail.joined(separator: "\n"), evidence: w.evidence)
        }
    }

    static func device(_ context: CheckContext) -> [Finding] {
        LiveWalkFindings.evaluate(Self.self, kind: .type1, context) { w, d in
            let f = w.facts
            var lines = [
                "IOVA page sizes 0x\(hex(f.iovaPageSizes ?? 0, 1)); IOVA ranges \(f.iovaRanges.map(\.description).joined(separator: " "))"
            ]
            if let a = f.dmaAvailable { lines.append("\(a) DMA mappings left in this container") }
            lines += LiveWalkFindings.deviceLines(f, d, deviceOpened: context.live?.deviceOpen == true)
            let map =
                f.mappedIOVA.map { "mapped 0x\(hex(f.mappedSize ?? 0, 1)) bytes at IOVA 0x\(hex($0, 1)) and unmapped them" }
                ?? "mapped and unmapped DMA"
            return ("type1 (\(f.iommuType ?? "?")) works: \(map)", lines.joined(separator: "\n"))
        }
    }
}

/// The no-IOMMU path.
public struct LiveNoIOMMUCheck: Check {
    public static let descriptor = CheckDescriptor(
        id: "live.noiommu",
        title: "The no-IOMMU path works",
        category: .live,
        rationale:
            "In no-IOMMU mode a userspace driver opens /dev/vfio/noiommu-N, sets VFIO_NOIOMMU_IOMMU on the container and opens the device. There is no DMA mapping at all: the application must hand the device physical addresses.",
        remedy: LiveWalkFindings.remedy,
        looksAt: ["/dev/vfio/noiommu-N", "VFIO_* ioctls"],
        // The scripted kernel offers no NOIOMMU extension: the walk stops at VFIO_CHECK_EXTENSION.
        examples: [.fail("noiommu-enabled", device: "0000:00:03.0", remedy: Actions.enableNoIOMMU)])

    public static func evaluate(_ context: CheckContext) -> [Finding] {
        LiveWalkFindings.evaluate(Self.self, kind: .noiommu, context) { w, d in
            let lines =
                LiveWalkFindings.deviceLines(w.facts, d, deviceOpened: context.live?.deviceOpen == true)
                + ["no-IOMMU has no DMA mapping: the application must use physical addresses (DPDK --iova-mode=pa)"]
            return ("no-IOMMU works: the container accepted VFIO_NOIOMMU_IOMMU and the device opened", lines.joined(separator: "\n"))
        }
    }
}

/// iommufd and the vfio device cdev.
public struct LiveIOMMUFDCheck: Check {
    public static let descriptor = CheckDescriptor(
        id: "live.iommufd",
        title: "The iommufd + cdev path works",
        category: .live,
        rationale:
            "Newer VMMs and drivers use /dev/iommu and /dev/vfio/devices/vfioN: IOMMU_IOAS_ALLOC, VFIO_DEVICE_BIND_IOMMUFD, VFIO_DEVICE_ATTACH_IOMMUFD_PT, IOMMU_IOAS_MAP/UNMAP, IOMMU_GET_HW_INFO. A failure here does not affect the legacy path.",
        remedy: LiveWalkFindings.remedy,
        looksAt: ["/dev/iommu", "/dev/vfio/devices/vfioN", "IOMMU_* and VFIO_DEVICE_* ioctls"],
        examples: [
            .pass("intel-vfio-ready", device: "0000:01:00.0"),
            .warn("intel-vfio-ready", device: "0000:01:00.0", at: .deviceBindIOMMUFD, .notPermitted, remedy: Actions.Remedy.groupViability),
        ])

    public static func evaluate(_ context: CheckContext) -> [Finding] {
        LiveWalkFindings.evaluate(Self.self, kind: .iommufd, context) { w, d in
            let f = w.facts
            var lines = [
                "IOAS \(f.ioasID.map(String.init) ?? "?"), device id \(f.devID.map(String.init) ?? "?"); IOVA ranges \(f.iovaRanges.map(\.description).joined(separator: " ")), alignment 0x\(hex(f.iovaAlignment ?? 0, 1))"
            ]
            if let t = f.hwInfoType {
                if t == 1, let cap = f.hwIntelCap, let ecap = f.hwIntelEcap {
                    let u = IOMMUUnit(name: "", kind: .intel, intelCap: cap, intelEcap: ecap)
                    lines.append(
                        "IOMMU_GET_HW_INFO: Intel VT-d, cap 0x\(hex(cap, 1)) (MGAW \(u.addressWidth ?? 0) bits\(u.cachingMode == true ? ", caching mode" : "")), ecap 0x\(hex(ecap, 1)) (interrupt remapping \(u.interruptRemapping == true ? "yes" : "no"))"
                    )
                } else {
                    lines.append(
                        "IOMMU_GET_HW_INFO: type \(t)\(t == 0 ? " (no driver-specific data: AMD-Vi, virtio-iommu)" : t == 2 ? " (Arm SMMUv3)" : "")"
                    )
                }
            }
            lines += LiveWalkFindings.deviceLines(f, d, deviceOpened: f.deviceFlags != nil)
            let map =
                f.mappedIOVA.map { "mapped 0x\(hex(f.mappedSize ?? 0, 1)) bytes at IOVA 0x\(hex($0, 1)) and unmapped them" }
                ?? "mapped and unmapped DMA"
            return ("iommufd works: \(map)", lines.joined(separator: "\n"))
        }
    }
}
