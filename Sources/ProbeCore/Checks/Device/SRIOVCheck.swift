/// SR-IOV: PFs with VFs, and VFs whose PF belongs to vfio-pci.
public struct SRIOVCheck: Check {
    public static let descriptor = CheckDescriptor(
        id: "device.sriov",
        title: "SR-IOV relationships",
        category: .device,
        rationale:
            "When a PF is bound to vfio-pci, its VFs can be opened only with the VF token (a UUID) the PF's user set (VFIO_DEVICE_FEATURE_PCI_VF_TOKEN); without it the open fails with \"VF token required\". A PF with VFs in use cannot be given to userspace without disturbing them.",
        remedy: Actions.Remedy.sriovVFToken,
        looksAt: ["/sys/bus/pci/devices/BDF/{physfn,virtfn*,sriov_numvfs,sriov_totalvfs}"],
        examples: [.info("sriov-pf", device: "0000:01:00.0"), .warn("sriov-pf", device: "0000:01:02.0")])

    public static func evaluate(_ context: CheckContext) -> [Finding] {
        let host = context.host
        // A PF's facts and what its VFs' findings say, once for all its VFs.
        var pfs: [PCIAddress: (status: Status, summary: String, name: String, driverEvidence: Evidence)] = [:]
        return host.selectedDevices.compactMap { d -> Finding? in
            let s = Subject.device(d.address)
            var dir: String { "/sys/bus/pci/devices/\(d.bdf)" }
            if let pf = d.physfn {
                let known: (status: Status, summary: String, name: String, driverEvidence: Evidence)
                if let facts = pfs[pf] {
                    known = facts
                } else {
                    let driver = host.devices[pf]?.driver
                    let (status, summary): (Status, String) =
                        DriverClass(driver) == .vfio
                        ? (.warn, "a VF of \(pf), which is bound to \(driver!): opening it needs the PF owner's VF token")
                        : (.info, "a VF of \(pf) (PF driver \(driver ?? "none"))")
                    known = (status, summary, pf.description, Evidence("/sys/bus/pci/devices/\(pf)/driver", driver ?? "(none)"))
                    pfs[pf] = known
                }
                // vfio_pci_validate_vf_token: with the PF on vfio-pci, the VF opens only with the
                // token its owner set (-EACCES, "VF token required").
                let token =
                    known.status == .warn && (host.kernel.version ?? KernelVersion(5, 7)) >= KernelVersion(5, 7)
                    ? Impact.requires(
                        Mode.usable, "\(d.bdf) opens only with the VF token of \(pf)'s owner (its PF is on vfio-pci)",
                        ["open \(d.bdf) with the PF owner's VF token: \(descriptor.remedy)"]) : []
                return finding(
                    known.status, s, known.summary, evidence: [Evidence("\(dir)/physfn", known.name), known.driverEvidence], impacts: token)
            }
            if let sr = d.sriov {
                let ev = [Evidence("\(dir)/sriov_numvfs", "\(sr.numVFs)"), Evidence("\(dir)/sriov_totalvfs", "\(sr.totalVFs)")]
                if sr.numVFs > 0 && DriverClass(d.driver) == .vfio {
                    return finding(
                        .info, s, "a PF on \(d.driver!) with \(sr.numVFs) of \(sr.totalVFs) VFs: its user must set a VF token for them",
                        evidence: ev)
                }
                return finding(.info, s, "an SR-IOV PF with \(sr.numVFs) of \(sr.totalVFs) VFs enabled", evidence: ev)
            }
            return nil
        }
    }
}
