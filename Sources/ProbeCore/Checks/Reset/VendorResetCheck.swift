/// AMD GPUs that do not come back from any reset the kernel has (the "AMD reset bug") unless
/// the out-of-tree vendor-reset module provides one (its device_specific hook), from the
/// module's own device list (ResetQuirks.vendorReset). Informs; decides nothing.
public struct VendorResetCheck: Check {
    public static let descriptor = CheckDescriptor(
        id: "device.vendor-reset",
        title: "Out-of-tree reset module",
        category: .device,
        rationale:
            "AMD Polaris, Vega 10/20 and Navi 10/12/14 GPUs cannot be reset by FLR, PM or a bus reset into a usable state: a second VM start or a re-open after release finds the GPU hung. The out-of-tree vendor-reset module (vendor_reset) hooks pci_dev_specific_reset with a reset that works; on 5.15+ the kernel uses it only when reset_method is set to device_specific.",
        remedy: install,
        looksAt: ["vendor and device id", "/sys/module/vendor_reset", "/sys/bus/pci/devices/BDF/reset_method"],
        examples: [.warn("reset-host", device: "0000:02:00.0", remedy: remedy(PCIAddress("0000:02:00.0")!, since515: true))],
        decides: false)

    static let install = "Install vendor-reset (github.com/gnif/vendor-reset, DKMS), then: modprobe vendor_reset"
    static func deviceSpecific(_ a: PCIAddress) -> String { "echo device_specific > /sys/bus/pci/devices/\(a)/reset_method" }
    static func remedy(_ a: PCIAddress, since515: Bool) -> String {
        install + (since515 ? " && \(deviceSpecific(a))" : "")
    }

    public static func evaluate(_ context: CheckContext) -> [Finding] {
        let host = context.host
        let since515 = (host.kernel.version ?? DeviceResets.resetMethodSince) >= DeviceResets.resetMethodSince
        let loaded = host.modules.state("vendor_reset") == .loaded
        return DeviceResets.candidates(host).compactMap { d -> Finding? in
            guard let family = ResetQuirks.vendorResetFamily(d) else { return nil }
            let s = Subject.device(d.address)
            let ev = [Evidence("/sys/module/vendor_reset", loaded ? "loaded" : "(absent)")] + DeviceResets.evidence(d).prefix(1)
            guard loaded else {
                return finding(
                    .warn, s,
                    "an AMD \(family) GPU: needs the out-of-tree vendor-reset module (vendor_reset) or the device will not reset",
                    remedy: remedy(d.address, since515: since515), evidence: ev)
            }
            // reset_method_store: device_specific must come first for the kernel to use it.
            if since515, d.resetMethod.value?.first != .deviceSpecific {
                return finding(
                    .warn, s, "an AMD \(family) GPU: vendor_reset is loaded, but reset_method does not start with device_specific",
                    remedy: deviceSpecific(d.address), evidence: ev)
            }
            return finding(.pass, s, "an AMD \(family) GPU: vendor_reset is loaded and provides its reset", evidence: ev)
        }
    }
}
