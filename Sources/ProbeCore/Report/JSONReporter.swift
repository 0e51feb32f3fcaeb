/// The JSON contract (schema_version 1), documented field by field in README.md.
public enum JSONReporter {
    public static func render(_ r: Report) -> String {
        document(r).render(pretty: true) + "\n"
    }

    public static func document(_ r: Report) -> JSONValue {
        let h = r.host
        let v = r.verdict
        return .object([
            ("schema_version", .int(Int64(Report.schemaVersion))),
            ("tool", .object([("name", .string("vfio-probe")), ("version", .string(Report.toolVersion))])),
            ("root", .string(h.root)),
            ("scope", h.scope == .all ? .string("all") : JSONValue(h.selected.map(\.description) + h.missing.map(\.description))),
            ("host", hostObject(h)),
            ("verdict", .object([
                ("mode", .string(v.mode.rawValue)),
                ("summary", .string(v.summary)),
                ("actions", JSONValue(v.actions)),
                ("reasons", JSONValue(v.reasons)),
                ("upgrade", v.upgrade.map { .object([("mode", .string($0.mode.rawValue)), ("actions", JSONValue($0.actions))]) } ?? .null),
                ("exit_code", .int(Int64(v.exitCode))),
                ("checks_not_run", JSONValue(v.notRun)),
            ])),
            ("devices", .array(v.devices.compactMap { dv in h.device(dv.address).map { device($0, dv) } })),
            ("missing_devices", JSONValue(h.missing.map(\.description))),
            ("checks", .array(r.findings.map { finding($0, r) })),
            ("read_problems", JSONValue(h.readProblems)),
        ])
    }

    static func hostObject(_ h: Host) -> JSONValue {
        .object([
            ("kernel", JSONValue(h.kernel.release.value)),
            ("cmdline", JSONValue(h.kernel.cmdline.value?.raw)),
            ("cpu_vendor", JSONValue(h.platform.cpuVendor.value?.rawValue)),
            ("hypervisor", JSONValue(h.platform.hypervisor?.rawValue)),
            ("firmware_tables", h.firmware.present.value.map { JSONValue($0) } ?? .null),
            ("iommu", .object([
                ("active", JSONValue(h.iommuActive)),
                ("units", .array(h.units.map { u in
                    .object([("name", .string(u.name)), ("kind", .string(u.kind.rawValue)),
                             ("address_width", JSONValue(u.addressWidth)), ("interrupt_remapping", JSONValue(u.interruptRemapping)),
                             ("caching_mode", JSONValue(u.kind == .intel ? u.cachingMode : nil))])
                })),
                ("interrupt_remapping_active", JSONValue(h.kernel.interruptRemappingActive)),
            ])),
            ("noiommu", .object([("compiled_in", JSONValue(h.noIOMMUCompiledIn)), ("enabled", JSONValue(h.noIOMMUEnabled))])),
            ("process", .object([
                ("uid", JSONValue(h.process.uid.value.map { Int($0) })),
                ("cap_eff", JSONValue(h.process.effectiveCapabilities.value.map { hex($0, 16) })),
                ("memlock_bytes", h.process.memlockLimit.value.map { $0.map { .int(Int64(clamping: $0)) } ?? .string("unlimited") } ?? .null),
            ])),
        ])
    }

    static func device(_ d: PCIDevice, _ v: DeviceVerdict) -> JSONValue {
        .object([
            ("bdf", .string(d.address.description)),
            ("vendor_id", .string(hex(d.vendorID, 4))),
            ("device_id", .string(hex(d.deviceID, 4))),
            ("class", .string(hex(d.classCode, 6))),
            ("name", .string(d.displayName)),
            ("driver", JSONValue(d.driver)),
            ("iommu_group", JSONValue(d.iommuGroup)),
            ("numa_node", JSONValue(d.numaNode)),
            ("mode", .string(v.mode.rawValue)),
            ("readiness", .string(v.readiness.rawValue)),
            ("reasons", JSONValue(v.reasons)),
            ("actions", JSONValue(v.actions)),
        ])
    }

    static func finding(_ f: Finding, _ r: Report) -> JSONValue {
        var kvs: [(String, JSONValue)] = [
            ("id", .string(f.checkID)),
            ("title", .string(r.title(of: f.checkID))),
            ("category", .string(r.category(of: f.checkID).rawValue)),
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
