/// The JSON contract (schema_version 2), documented field by field in README.md.
public enum JSONReporter {
    public static func render(_ r: Report) -> String {
        var all: [UInt8] = []
        write(r) { all += $0 }
        return String(decoding: all, as: UTF8.self)
    }

    /// A member of the document: a value, or an array written element by element.
    enum Part {
        case value(JSONValue)
        case elements(Int, (Int) -> JSONValue)
    }

    /// Writes the document in 64 KiB pieces: the devices and findings of a large host are rendered
    /// one at a time, so the document is never whole in memory.
    public static func write(_ r: Report, _ emit: ([UInt8]) -> Void) {
        var buf: [UInt8] = []
        buf.reserveCapacity(1 << 16)
        func flush(_ force: Bool = false) {
            if force || buf.count >= 1 << 16 {
                emit(buf)
                buf.removeAll(keepingCapacity: true)
            }
        }
        buf.append(UInt8(ascii: "{"))
        for (i, (key, part)) in parts(r).enumerated() {
            if i > 0 { buf.append(UInt8(ascii: ",")) }
            JSONValue.newline(&buf, 1)
            JSONValue.escape(key, into: &buf)
            buf += [UInt8(ascii: ":"), UInt8(ascii: " ")]
            switch part {
            case .value(let v):
                v.write(into: &buf, indent: 1)
            case .elements(let n, let element):
                if n == 0 { buf += [UInt8(ascii: "["), UInt8(ascii: "]")]; continue }
                buf.append(UInt8(ascii: "["))
                for e in 0..<n {
                    if e > 0 { buf.append(UInt8(ascii: ",")) }
                    JSONValue.newline(&buf, 2)
                    element(e).write(into: &buf, indent: 2)
                    flush()
                }
                JSONValue.newline(&buf, 1)
                buf.append(UInt8(ascii: "]"))
            }
        }
        JSONValue.newline(&buf, 0)
        buf += [UInt8(ascii: "}"), 0x0a]
        flush(true)
    }

    /// The whole document as one value (small reports and tests).
    public static func document(_ r: Report) -> JSONValue {
        .object(
            parts(r).map { key, part in
                switch part {
                case .value(let v): (key, v)
                case .elements(let n, let element): (key, .array((0..<n).map(element)))
                }
            })
    }

    static func parts(_ r: Report) -> [(String, Part)] {
        let h = r.host
        let v = r.verdict
        let devices = v.devices.compactMap { dv in h.device(dv.address).map { ($0, dv) } }
        let index = ResetDerivation.BusIndex(h)
        // Where each shared group was merged (device.group-isolation), worked out once per group.
        var groupMerges: [Int: JSONValue] = [:]
        let merged = devices.map { d, _ -> JSONValue in
            guard let g = h.group(of: d), !g.isNoIOMMU else { return .null }
            if g.pciMembers.count < 2 { return .array([]) }
            if let m = groupMerges[g.id] { return m }
            let m = JSONValue.array(
                GroupIsolationCheck.merges(of: g, host: h).map { m in
                    .object([
                        ("bdf", .string(m.at.description)), ("kind", .string(m.kind.name)), ("reason", .string(ACSRule.describe(m, h))),
                    ])
                })
            groupMerges[g.id] = m
            return m
        }
        // The kernel log's matched lines by function, matched once.
        let klog = h.kernelLog.value.map { log in
            Dictionary(grouping: KernelLogMatcher.entries(log, host: h).filter { $0.device != nil }, by: { $0.device! })
        }
        let titles = Dictionary(r.checks.map { ($0.id, ($0.title, $0.category)) }, uniquingKeysWith: { a, _ in a })
        return [
            ("schema_version", .value(.int(Int64(Report.schemaVersion)))),
            ("tool", .value(.object([("name", .string("vfio-probe")), ("version", .string(Report.toolVersion))]))),
            ("root", .value(.string(h.root))),
            ("scope", .value(h.scope == .all ? .string("all") : JSONValue(h.selected.map(\.description) + h.missing.map(\.description)))),
            ("host", .value(hostObject(h, r))),
            (
                "verdict",
                .value(
                    .object([
                        ("mode", .string(v.statedModeName)),
                        ("answer", .string(v.answer.rawValue)),
                        ("mode_at_most", .string(v.mode.rawValue)),
                        ("holds_now", .bool(v.holdsNow)),
                        ("summary", .string(v.summary)),
                        ("actions", JSONValue(v.actions)),
                        ("reasons", JSONValue(v.reasons)),
                        ("undecided", JSONValue(v.undecided)),
                        (
                            "upgrade",
                            v.upgrade.map { .object([("mode", .string($0.mode.rawValue)), ("actions", JSONValue($0.actions))]) } ?? .null
                        ),
                        ("exit_code", .int(Int64(v.exitCode))),
                        ("required", JSONValue(r.required?.rawValue)),
                        ("exit_status", .int(Int64(r.exitStatus))),
                        ("checks_not_run", JSONValue(v.notRun)),
                        ("disagreements", JSONValue(v.disagreements)),
                    ]))
            ),
            ("live", .value(liveObject(r.live))),
            (
                "devices",
                .elements(devices.count) { i in
                    appending(
                        "kernel_log", klog.map { kernelLog($0[devices[i].0.address] ?? []) } ?? .null,
                        to: device(devices[i].0, devices[i].1, live: r.live, host: h, index: index, mergedBy: merged[i]))
                }
            ),
            ("missing_devices", .value(JSONValue(h.missing.map(\.description)))),
            ("checks", .elements(r.findings.count) { finding(r.findings[$0], titles) }),
            ("read_problems", .value(JSONValue(h.readProblems))),
        ]
    }

    static func hostObject(_ h: Host, _ r: Report) -> JSONValue {
        .object([
            ("kernel", JSONValue(h.kernel.release.value)),
            ("cmdline", JSONValue(h.kernel.cmdline.value?.raw)),
            ("cpu_vendor", JSONValue(h.platform.cpuVendor.value?.rawValue)),
            ("hypervisor", JSONValue(h.platform.hypervisor?.rawValue)),
            ("firmware_tables", h.firmware.present.value.map { JSONValue($0) } ?? .null),
            (
                "iommu",
                .object([
                    ("active", JSONValue(h.iommuActive)),
                    (
                        "units",
                        .array(
                            h.units.map { u in
                                .object(
                                    [
                                        ("name", .string(u.name)), ("kind", .string(u.kind.rawValue)),
                                        ("address_width", JSONValue(u.addressWidth)),
                                        ("interrupt_remapping", JSONValue(u.interruptRemapping)),
                                        ("caching_mode", JSONValue(u.kind == .intel ? u.cachingMode : nil)),
                                    ] + pasidUnitFields(u, h))
                            })
                    ),
                    ("interrupt_remapping_active", JSONValue(h.kernel.interruptRemappingActive)),
                ])
            ),
            ("vfio_container", JSONValue(h.containerBackend?.rawValue)),
            ("noiommu", .object([("compiled_in", JSONValue(h.noIOMMUCompiledIn)), ("enabled", JSONValue(h.noIOMMUEnabled))])),
            (
                "process",
                .object([
                    ("uid", JSONValue(h.process.uid.value.map { Int($0) })),
                    ("cap_eff", JSONValue(h.process.effectiveCapabilities.value.map { hex($0, 16) })),
                    (
                        "memlock_bytes",
                        h.process.memlockLimit.value.map { $0.map { .int(Int64(clamping: $0)) } ?? .string("unlimited") } ?? .null
                    ),
                ])
            ),
            ("iova_mode", iovaMode(IOVAMode.of(h, live: r.live))),
            ("hugepages", .array((h.memory.pools.value ?? []).map(pool))),
            ("dma_budget", dmaBudget(h, r)),
            (
                "kernel_log",
                h.kernelLog.value.map { log in kernelLog(KernelLogMatcher.entries(log, host: h).filter { KernelLogCheck.hostLevel($0, h) })
                }
                    ?? .null
            ),
            ("scalable_functions", scalableFunctions(h)),
        ])
    }

    /// The device's node beside its CPUs and hugepages; local_cpulist is the node's CPUs
    /// (cpumask_of_node), so it is not read per function.
    static func numa(_ d: PCIDevice, _ host: Host) -> JSONValue {
        guard let n = d.numaNode, n >= 0, let node = host.memory.node(n) else { return .null }
        return .object([("node", .int(Int64(n))), ("local_cpus", JSONValue(node.cpus)), ("hugepages", .array(node.hugepages.map(pool)))])
    }

    static func iovaMode(_ m: IOVAMode) -> JSONValue {
        .object([
            ("recommended", JSONValue(m.recommended?.rawValue)), ("iommu_width", JSONValue(m.width)),
            ("width_source", JSONValue(m.widthSource)), ("user_address_bits", .int(Int64(m.userBits))), ("la57", .bool(m.la57)),
        ])
    }

    static func pool(_ p: HugePagePool) -> JSONValue {
        .object([
            ("page_size", .int(Int64(clamping: p.size))), ("total", .int(Int64(p.total))), ("free", .int(Int64(p.free))),
            ("reserved", p.reserved.map { .int(Int64($0)) } ?? .null),
        ])
    }

    /// The workload (if stated) and, per page size, the tightest limit: what `vfio.dma-budget` judges.
    static func dmaBudget(_ h: Host, _ r: Report) -> JSONValue {
        let stated = r.workload.pageSize(on: h)
        var sizes: [UInt64] = [Memory.basePage]
        for p in h.memory.pools.value ?? [] where p.total > 0 { sizes.append(p.size) }
        if !sizes.contains(stated.size) { sizes.append(stated.size) }
        let iommu = h.iommuActive != false
        return .object([
            ("memory", r.workload.memory.map { .int(Int64(clamping: $0)) } ?? .null),
            ("page_size", r.workload.memory == nil ? .null : .int(Int64(clamping: stated.size))),
            (
                "maximum",
                .array(
                    sizes.map { size in
                        let b = DMABudget.of(h, live: r.live, pageSize: size, iommu: iommu)
                        return .object([
                            ("page_size", .int(Int64(clamping: size))),
                            ("bytes", b.maximum.map { .int(Int64(clamping: $0.bytes)) } ?? .null),
                            ("bound", JSONValue(b.maximum?.description(pageSize: size))),
                        ])
                    })
            ),
        ])
    }

    /// Matched kernel-log lines (KernelLogMatcher), repeats counted.
    static func kernelLog(_ entries: [KernelLogEntry]) -> JSONValue {
        .array(
            entries.map { e in
                .object([
                    ("kind", .string(e.kind.id)), ("time", .string(e.first.seconds)), ("usec", .int(e.first.usec)),
                    ("level", .int(Int64(e.first.level))),
                    ("message", .string(e.first.message)), ("count", .int(Int64(e.count))),
                    ("last_time", .string(e.last.seconds)),
                ])
            })
    }

    /// A device object with its `kernel_log` member appended.
    static func appending(_ key: String, _ value: JSONValue, to object: JSONValue) -> JSONValue {
        guard case .object(let members) = object else { return object }
        return .object(members + [(key, value)])
    }

    static func device(
        _ d: PCIDevice, _ v: DeviceVerdict, live: LiveReport?, host: Host, index: ResetDerivation.BusIndex, mergedBy: JSONValue
    ) -> JSONValue {
        let use = host.use
        let roles = host.hostUse(of: d.address)
        let interfaces: [String] = use.interfaces[d.address] ?? []
        let disks: [String] = use.disks[d.address] ?? []
        let hostUse: JSONValue = .array(roles.map(JSONReporter.hostUse))
        return .object([
            ("bdf", .string(d.address.description)),
            ("vendor_id", .string(hex(d.vendorID, 4))),
            ("device_id", .string(hex(d.deviceID, 4))),
            ("class", .string(hex(d.classCode, 6))),
            ("name", .string(d.displayName)),
            ("driver", JSONValue(d.driver)),
            ("variant_driver", variantDriver(d, host)),
            ("iommu_group", JSONValue(d.iommuGroup)),
            ("group_merged_by", mergedBy),
            ("numa_node", JSONValue(d.numaNode)),
            ("numa", numa(d, host)),
            ("interfaces", JSONValue(interfaces)),
            ("block_devices", JSONValue(disks)),
            ("host_use", hostUse),
            ("mode", .string(v.mode.rawValue)),
            ("readiness", .string(v.readiness.rawValue)),
            ("reasons", JSONValue(v.reasons)),
            ("actions", JSONValue(v.actions)),
            ("reset", reset(d, host, index: index)),
            ("live", live.flatMap { $0.notRun == nil ? $0 : nil }.map { .array(($0.devices[d.address] ?? []).map(walk)) } ?? .null),
            ("pasid", pasid(d, host)),
        ])
    }

    /// One way the host depends on the function: `{"role": "mounts", "block": "nvme0n1p2",
    /// "mount_points": ["/"], "summary": "holds / (nvme0n1p2)"}`.
    static func hostUse(_ r: HostUse.Role) -> JSONValue {
        var kvs: [(String, JSONValue)]
        switch r {
        case .mounts(let block, let points):
            kvs = [("role", .string("mounts")), ("block", .string(block)), ("mount_points", JSONValue(points))]
        case .swap(let block): kvs = [("role", .string("swap")), ("block", .string(block))]
        case .defaultRoute(let i): kvs = [("role", .string("default-route")), ("interface", .string(i))]
        case .active(let i): kvs = [("role", .string("addresses")), ("interface", .string(i))]
        case .bootVGA: kvs = [("role", .string("boot-vga"))]
        case .framebuffer(let name): kvs = [("role", .string("framebuffer")), ("name", .string(name))]
        }
        return .object(kvs + [("summary", .string(r.summary))])
    }

    /// The function's reset methods (reset_method, or derived before 5.15) and the functions a
    /// bus reset of its bus takes (`null`: no bus reset there).
    static func reset(_ d: PCIDevice, _ host: Host, index: ResetDerivation.BusIndex? = nil) -> JSONValue {
        let index = index ?? ResetDerivation.BusIndex(host)
        let m = DeviceResets.methods(d, on: host, index: index)
        let source: JSONValue =
            switch m?.source {
            case .sysfs: .string("reset_method")
            case .hidden: .string("none listed")
            case .derived: .string("derived")
            case nil: .null
            }
        return .object([
            ("methods", m.map { JSONValue($0.methods.map(\.rawValue)) } ?? .null),
            ("source", source),
            ("d3cold_allowed", d.d3coldAllowed.map(JSONValue.bool) ?? .null),
            (
                "bus_reset_domain",
                ResetDerivation.hotResetDomain(of: d, on: host, index: index).map { JSONValue($0.map(\.description)) } ?? .null
            ),
        ])
    }

    /// The device's vfio-pci variant driver (device.variant-driver), or null.
    static func variantDriver(_ d: PCIDevice, _ host: Host) -> JSONValue {
        guard d.headerType ?? 0 == 0, let v = host.modules.drivers.variant(for: d) else { return .null }
        let cap = VariantCapability.of(v.module, on: host.kernel.version)
        return .object([
            ("name", .string(v.module)), ("built_in", .bool(v.builtIn)),
            ("loaded", .bool(v.builtIn || host.modules.drivers.loadedVariants.contains(v.module))),
            ("bound", .bool(d.driver == v.module)),
            ("used_for_binding", .bool(host.modules.drivers.bindingVariant(for: d, on: host.kernel.version) != nil)),
            ("live_migration", JSONValue(cap?.liveMigration)),
            ("migration_flags", cap?.migrationFlags.map { JSONValue($0) } ?? .null),
        ])
    }

    static func liveObject(_ live: LiveReport?) -> JSONValue {
        guard let live else { return .object([("ran", .bool(false)), ("reason", .string("not available in this build"))]) }
        if let why = live.notRun { return .object([("ran", .bool(false)), ("reason", .string(why))]) }
        return .object([
            ("ran", .bool(true)), ("device_open", .bool(live.deviceOpen)), ("container", live.container.map(walk) ?? .null),
            ("mdevs", .object(live.mdevs.keys.sorted().map { ($0, .array(live.mdevs[$0]!.map(walk))) })),
        ])
    }

    static func walk(_ w: LiveWalk) -> JSONValue {
        let f = w.facts
        func h(_ v: UInt64?) -> JSONValue { v.map { .string("0x" + hex($0, 1)) } ?? .null }
        func n<T: BinaryInteger>(_ v: T?) -> JSONValue { v.map { .int(Int64($0)) } ?? .null }
        var facts: [(String, JSONValue)] = []
        if let v = f.apiVersion { facts.append(("api_version", .int(Int64(v)))) }
        if !f.extensions.isEmpty {
            facts.append(("extensions", .object(f.extensions.keys.sorted().map { ($0, .bool(f.extensions[$0]!)) })))
        }
        if let t = f.iommuType { facts.append(("iommu_type", .string(t))) }
        if let g = f.groupFlags { facts.append(("group_flags", n(g))) }
        if f.iovaPageSizes != nil { facts.append(("iova_page_sizes", h(f.iovaPageSizes))) }
        if !f.iovaRanges.isEmpty {
            facts.append(("iova_ranges", .array(f.iovaRanges.map { .object([("start", h($0.start)), ("last", h($0.last))]) })))
        }
        if f.dmaAvailable != nil { facts.append(("dma_available", n(f.dmaAvailable))) }
        if f.mappedIOVA != nil { facts.append(("mapped_iova", h(f.mappedIOVA))); facts.append(("mapped_size", h(f.mappedSize))) }
        if f.unmappedSize != nil { facts.append(("unmapped_size", h(f.unmappedSize))) }
        if f.deviceFlags != nil {
            facts.append(("device_flags", n(f.deviceFlags)))
            facts.append(("num_regions", n(f.numRegions)))
            facts.append(("num_irqs", n(f.numIRQs)))
        }
        if let v = f.configVendorID, let d = f.configDeviceID {
            facts.append(("config_vendor_id", .string(hex(v, 4))))
            facts.append(("config_device_id", .string(hex(d, 4))))
        }
        if !f.irqCounts.isEmpty { facts.append(("irq_counts", .object(f.irqCounts.keys.sorted().map { ($0, n(f.irqCounts[$0])) }))) }
        if f.ioasID != nil { facts.append(("ioas_id", n(f.ioasID))) }
        if f.devID != nil { facts.append(("dev_id", n(f.devID))) }
        if f.iovaAlignment != nil { facts.append(("iova_alignment", h(f.iovaAlignment))) }
        if let t = f.hwInfoType {
            facts.append(
                (
                    "hw_info",
                    .object([
                        ("type", n(t)), ("intel_cap", h(f.hwIntelCap)), ("intel_ecap", h(f.hwIntelEcap)),
                        ("max_pasid_log2", JSONValue(f.hwMaxPASIDLog2.map(Int.init))),
                    ])
                ))
        }
        if !f.holders.isEmpty { facts.append(("holders", JSONValue(f.holders))) }
        if let r = f.hotReset {
            facts.append(
                (
                    "hot_reset",
                    .object([
                        ("flags", n(r.flags)), ("dev_ids", .bool(r.usesDevIDs)),
                        ("devices", .array(r.members.map { .object([("bdf", .string($0.address.description)), ("id", n($0.id))]) })),
                    ])
                ))
        } else if let e = f.hotResetErrno {
            facts.append(("hot_reset", .object([("errno", .string(ErrnoName.of(e)))])))
        }
        if let t = f.mapTrial {
            facts.append(
                (
                    "map_trial",
                    .object([
                        ("asked", .int(Int64(t.asked))), ("needed", .int(Int64(t.needed))),
                        ("page_size", .int(Int64(clamping: t.pageSize))),
                        ("mapped", .int(Int64(t.mapped))), ("errno", JSONValue(t.errno.map { ErrnoName.of($0) })),
                        ("unmapped", t.unmapped.map { .int(Int64(clamping: $0)) } ?? .null),
                    ])
                ))
        }
        return .object([
            ("path", .string(w.kind.rawValue)),
            ("succeeded", .bool(w.succeeded)),
            ("failed_step", JSONValue(w.failure?.name)),
            (
                "steps",
                .array(
                    w.steps.map { s in
                        let outcome: String
                        switch s.outcome {
                        case .ok: outcome = "ok"
                        case .failed: outcome = "failed"
                        case .rejected: outcome = "rejected"
                        case .skipped: outcome = "skipped"
                        }
                        return .object([
                            ("step", .string(s.name)), ("outcome", .string(outcome)), ("errno", JSONValue(s.errnoName)),
                            ("detail", .string(s.detail)),
                        ])
                    })
            ),
            ("facts", .object(facts)),
        ])
    }

    static func finding(_ f: Finding, _ titles: [String: (String, Category)]) -> JSONValue {
        var kvs: [(String, JSONValue)] = [
            ("id", .string(f.checkID)),
            ("title", .string(titles[f.checkID]?.0 ?? f.checkID)),
            ("category", .string((titles[f.checkID]?.1 ?? .platform).rawValue)),
            ("status", .string(f.status.rawValue)),
            ("summary", .string(f.summary)),
            ("detail", JSONValue(f.detail)),
            ("remedy", JSONValue(f.remedy)),
        ]
        if case .device(let a) = f.subject { kvs.append(("device", .string(a.description))) }
        kvs.append(("evidence", .array(f.evidence.map { .object([("path", .string($0.path)), ("value", .string($0.value))]) })))
        return .object(kvs)
    }
}
