/// Per function with a PASID capability: whether PASID is on, how wide, with PRI, and whether
/// the kernel could turn it on.
public struct DevicePASIDCheck: Check {
    public static let descriptor = CheckDescriptor(
        id: "device.pasid",
        title: "PASID, PRI and ATS on the device",
        category: .device,
        rationale:
            "A function tags DMA with PASIDs only once its PASID capability (extended capability 0x1b) is enabled. pci_enable_pasid (drivers/pci/ats.c) refuses a function without End-End TLP Prefix support on its whole path to the root port (eetlp_prefix_path, unless a quirk sets pasid_no_tlp) or without ACS Request Redirect and Upstream Forwarding on every function from it to the root bus (pci_acs_path_enabled with PCI_ACS_RR | PCI_ACS_UF): PASID-tagged requests must reach the IOMMU. A VF has no PASID capability of its own and shares its PF's. The VT-d driver enables PASID at probe on every capable function behind a unit where pasid_supported holds (intel_iommu_probe_device); AMD-Vi when an SVA domain is attached. PRI (0x13) lets the device fault pages in. VFIO's uapi in 6.12 attaches no PASID (VFIO_DEVICE_ATTACH_IOMMUFD_PT's flags must be 0; VFIO_DEVICE_ATTACH_PASID came with 6.15). Ordinary assignment does not need PASID.",
        remedy:
            "For PASID, enable ACS (RR, UF) on the ports above the device, keep it below ports that support End-End TLP Prefixes, and boot VT-d in scalable mode (intel_iommu=sm_on).",
        looksAt: [
            "config space: PASID (0x1b), PRI (0x13) and ATS (0x0f) extended capabilities, Device Capabilities 2 (EE prefix), ACS of the ports above",
            "/sys/class/iommu/*/devices",
        ],
        examples: [
            .info("pasid-sm", device: "0000:6a:01.0"), .warn("pasid-sm", device: "0000:6b:00.0"),
            .info("amd-host-6.12", device: "0000:03:00.0"),
        ],
        decides: false)

    public static func evaluate(_ context: CheckContext) -> [Finding] {
        let host = context.host
        return host.selectedDevices.compactMap { d -> Finding? in
            // No PASID capability (or config space too short to see one): nothing to say.
            guard d.configComplete, let s = PASIDRule.device(d, host: host) else { return nil }
            let subject = Subject.device(d.address)
            let p = s.pasid
            let holder = s.sharedFrom ?? d.address
            var evidence = [
                Evidence(
                    "/sys/bus/pci/devices/\(holder)/config",
                    "PASID capability at 0x\(String(p.offset, radix: 16)): cap 0x\(hex(p.capability, 4)), control 0x\(hex(p.control, 4))")
            ]
            if let pri = p.pri {
                evidence.append(
                    Evidence(
                        "/sys/bus/pci/devices/\(holder)/config",
                        "PRI capability at 0x\(String(pri.offset, radix: 16)): control 0x\(hex(pri.control, 4)), status 0x\(hex(pri.status, 4))"
                    ))
            }
            let shared = s.sharedFrom.map { " (its PF \($0)'s: a VF shares the PF's PASID configuration)" } ?? ""
            let what = PASIDRule.describe(p) + shared
            var detail: [String] = []
            if let u = s.unit {
                detail.append(
                    "IOMMU \(u.unit.name): "
                        + (u.pasid == true ? "gives PASIDs" : u.pasid == false ? "gives no PASIDs" : "PASID support not known")
                        + " (\(u.why))")
            } else {
                detail.append("its IOMMU unit is not known")
            }
            // A warning names the obstacles in its summary; elsewhere the detail does.
            let warns = !p.enabled && s.unit?.pasid == true && s.attachable == false
            if !warns { detail += s.obstacles }
            if !s.acsUnknown.isEmpty {
                detail.append("ACS could not be judged at " + s.acsUnknown.map(\.description).joined(separator: ", "))
            }
            if PASIDRule.vfioCanAttachPASID(host) != true {
                detail.append(
                    "VFIO on \(host.kernel.version.map { "Linux \($0)" } ?? "this kernel") attaches no PASID from userspace (VFIO_DEVICE_ATTACH_PASID came with \(PASIDRule.vfioPASIDAttachSince))"
                )
            }
            let text = detail.joined(separator: "\n")
            if p.enabled {
                return finding(.info, subject, "PASID enabled: \(what)", detail: text, evidence: evidence)
            }
            // The IOMMU gives PASIDs, but the function's path keeps pci_enable_pasid from turning
            // its capability on: the one case worth a warning (no readiness change).
            if warns {
                return finding(
                    .warn, subject, "PASID capable (\(what)) but the kernel cannot enable it: " + s.obstacles.joined(separator: "; "),
                    detail: text, evidence: evidence)
            }
            let why =
                s.unit?.pasid == false
                ? "its IOMMU gives no PASIDs"
                : s.unit?.unit.kind == .amd
                    ? "AMD-Vi enables it when an SVA domain is attached"
                    : s.unit?.pasid == true
                        ? "intel_iommu_probe_device enables it at probe where it can; here it did not"
                        : "whether its IOMMU gives PASIDs is not known"
            return finding(.info, subject, "PASID capable, not enabled (\(why)): \(what)", detail: text, evidence: evidence)
        }
    }
}
