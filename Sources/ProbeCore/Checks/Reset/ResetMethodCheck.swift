/// Whether the kernel can reset the function, and how (drivers/pci/pci.c, pci_reset_fn_methods):
/// from `reset_method` (5.15+), or derived from config space on older kernels. A function with
/// no method still works for a dataplane that never resets it: a warning, readiness unchanged.
public struct ResetMethodCheck: Check {
    public static let descriptor = CheckDescriptor(
        id: "device.reset",
        title: "Device reset",
        category: .device,
        rationale:
            "vfio-pci resets a function when it is opened and released (vfio_pci_core_enable and vfio_pci_core_disable call pci_try_reset_function), and a VM needs that reset between owners; QEMU refuses or warns \"Cannot reset device ..., no available reset mechanism\" without one. The kernel's methods, in its order, are device_specific, acpi, flr (PCIe FLR), af_flr, pm (D3hot->D0 where NoSoftRst is clear) and bus (a slot or secondary bus reset, only for a function alone on its bus). A dataplane that opens the device once and never resets it does not need any.",
        remedy:
            "A function with no reset method cannot be made to have one on this host. For a VM, assign every function on its bus (all on vfio-pci) so a bus reset can run, or use a device with FLR; a dataplane that never resets it needs nothing.",
        looksAt: [
            "/sys/bus/pci/devices/BDF/{reset_method,d3cold_allowed}",
            "config space: Express Device Capabilities (FLR), Advanced Features, Power Management (NoSoftRst)",
            "the functions on its bus",
        ],
        examples: [
            .pass("reset-host", device: "0000:01:00.0"), .pass("reset-host", device: "0000:04:00.0"),
            .warn("reset-host", device: "0000:03:01.0"), .warn("reset-host", device: "0000:02:00.0"),
            .pass("reset-5.10", device: "0000:01:00.0"), .warn("reset-5.10", device: "0000:03:01.0"),
        ],
        decides: false)

    /// The user emptied reset_method: `echo default` restores the kernel's list (reset_method_store).
    static func restoreDefault(_ d: PCIDevice) -> String { "echo default > /sys/bus/pci/devices/\(d.bdf)/reset_method" }

    public static func evaluate(_ context: CheckContext) -> [Finding] {
        let host = context.host
        let index = ResetDerivation.BusIndex(host)
        return DeviceResets.candidates(host).map { d in
            let s = Subject.device(d.address)
            let ev = DeviceResets.evidence(d)
            guard let m = DeviceResets.methods(d, on: host, index: index) else {
                return d.resetMethod.isUnreadable
                    ? skipped(s, "\(DeviceResets.path(d, "reset_method")) is unreadable")
                    : skipped(s, "this kernel has no reset_method (before 5.15) and config space past its header is unreadable (not root)")
            }
            let list = m.methods.map(\.rawValue).joined(separator: " ")
            switch m.source {
            case .sysfs where !m.methods.isEmpty:
                return finding(
                    .pass, s,
                    "reset by \(list) (reset_method)\(m.hasFunctionReset ? "" : ": a bus reset only, and it is alone on its bus")",
                    evidence: ev)
            case .derived where !m.methods.isEmpty:
                return finding(
                    .pass, s, "reset by \(list) (derived from config space: this kernel has no reset_method)",
                    detail: "Not visible from config space: \(m.derivation.unseen.joined(separator: "; ")).", evidence: ev)
            default:
                break
            }
            // No method: say so plainly, and why (the derivation's reasons).
            let why = m.derivation.complete ? m.derivation.reasons.joined(separator: "; ") : ""
            switch m.source {
            case .sysfs:
                // reset_method_store with "": every method disabled by a user.
                let kernel =
                    m.derivation.methods.isEmpty
                    ? "" : " (the kernel would have \(m.derivation.methods.map(\.rawValue).joined(separator: " ")))"
                return finding(
                    .warn, s,
                    "no reset method: every method was disabled through reset_method\(kernel); vfio-pci cannot reset it on open/close, a VM cannot be given it safely; a dataplane that never resets it can still use it",
                    remedy: restoreDefault(d), evidence: ev)
            case .hidden, .derived:
                let seen = m.source == .hidden ? "the kernel lists none (it hides reset_method then)" : "none found in config space"
                return finding(
                    .warn, s,
                    "no reset method: vfio-pci cannot reset it on open/close, a VM cannot be given it safely; a dataplane that never resets it can still use it",
                    detail: "\(seen.prefix(1).uppercased() + seen.dropFirst())\(why.isEmpty ? "" : ": \(why)")."
                        + (m.source == .derived ? " Not visible from config space: \(m.derivation.unseen.joined(separator: "; "))." : ""),
                    evidence: ev)
            }
        }
    }
}
