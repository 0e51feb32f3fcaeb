/// The PASID members of the JSON document: per unit, per device, and the host's scalable
/// functions (mdev parents).
extension JSONReporter {
    /// `scalable_mode` ({capable, enabled} for VT-d, null otherwise), `pasid` (whether the kernel
    /// gives PASIDs), `pasid_bits`, `prs`, `nested`.
    static func pasidUnitFields(_ u: IOMMUUnit, _ h: Host) -> [(String, JSONValue)] {
        let s = PASIDRule.state(of: u, host: h)
        let sm: JSONValue =
            u.kind == .intel && s != nil
            ? .object([("capable", .bool(s!.capable)), ("enabled", JSONValue(s!.scalableMode))]) : .null
        return [
            ("scalable_mode", sm), ("pasid", JSONValue(s?.pasid)), ("pasid_bits", JSONValue(s?.pasidBits)),
            ("prs", JSONValue(s?.prs)), ("nested", JSONValue(s?.nested)),
        ]
    }

    /// null without a PASID capability (a VF: its PF's); else `supported`, `enabled`,
    /// `max_pasid_bits`, `exec`, `privileged`, `pri`, `pri_enabled`, `ats_enabled`, `shared_from`,
    /// `attachable` (whether the IOMMU driver can attach PASIDs to it; null when not known),
    /// `obstacles`, and `vfio_attach_pasid` (whether VFIO's uapi on this kernel can attach one).
    static func pasid(_ d: PCIDevice, _ h: Host) -> JSONValue {
        guard let s = PASIDRule.device(d, host: h) else { return .null }
        let p = s.pasid
        return .object([
            ("supported", .bool(true)), ("enabled", .bool(p.enabled)), ("max_pasid_bits", .int(Int64(p.maxPASIDBits))),
            ("exec", .bool(p.exec)), ("privileged", .bool(p.privileged)), ("pri", .bool(p.pri != nil)),
            ("pri_enabled", JSONValue(p.pri?.enabled)), ("ats_enabled", JSONValue(p.ats ? p.atsEnabled : nil)),
            ("shared_from", JSONValue(s.sharedFrom?.description)), ("iommu", JSONValue(s.unit?.unit.name)),
            ("attachable", JSONValue(s.attachable)), ("obstacles", JSONValue(s.obstacles)),
            ("vfio_attach_pasid", JSONValue(PASIDRule.vfioCanAttachPASID(h))),
        ])
    }

    /// mdev parents as scalable functions: `parent`, `driver`, `types` (`id`, `name`,
    /// `device_api`, `available_instances`, `instances`), `instances` (`uuid`, `type`,
    /// `iommu_group`, `driver`), `behind_pasid` (null: cannot tell) and `why`.
    static func scalableFunctions(_ h: Host) -> JSONValue {
        guard let parents = h.mdevParents.value else { return .null }
        let instances = h.mdevs.value ?? []
        return .array(
            parents.map { p in
                let (behind, why) = PASIDRule.mdevBehindPASID(p, host: h)
                return .object([
                    ("parent", .string(p.name)),
                    ("driver", JSONValue(PCIAddress(p.name).flatMap { h.device($0)?.driver })),
                    (
                        "types",
                        .array(
                            p.types.map { t in
                                .object([
                                    ("id", .string(t.id)), ("name", JSONValue(t.name)), ("device_api", JSONValue(t.deviceAPI)),
                                    ("available_instances", JSONValue(t.availableInstances)), ("instances", JSONValue(t.instances)),
                                ])
                            })
                    ),
                    (
                        "instances",
                        .array(
                            instances.filter { $0.parent == p.name }.map { m in
                                .object([
                                    ("uuid", .string(m.uuid)), ("type", JSONValue(m.type)), ("iommu_group", JSONValue(m.iommuGroup)),
                                    ("driver", JSONValue(m.driver)),
                                ])
                            })
                    ),
                    ("behind_pasid", JSONValue(behind)), ("why", .string(why)),
                ])
            })
    }
}
