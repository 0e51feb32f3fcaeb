/// driver_override pins which driver may bind.
public struct DriverOverrideCheck: Check {
    public static let descriptor = CheckDescriptor(
        id: "device.driver-override",
        title: "driver_override does not stand in the way",
        category: .device,
        rationale:
            "driver_override names the only driver allowed to bind the function. vfio-pci there keeps host drivers off it across rebinds; any other name keeps vfio-pci off.",
        remedy: "echo vfio-pci > /sys/bus/pci/devices/BDF/driver_override (or clear it with an empty write).",
        looksAt: ["/sys/bus/pci/devices/BDF/driver_override"],
        examples: [
            .pass("intel-vfio-ready", device: "0000:01:00.0"),
            .warn("uio-bound", device: "0000:01:00.0", remedy: "echo vfio-pci > /sys/bus/pci/devices/0000:01:00.0/driver_override"),
        ], decides: false)

    public static func evaluate(_ context: CheckContext) -> [Finding] {
        context.host.selectedDevices.compactMap { d -> Finding? in
            let s = Subject.device(d.address)
            var path: String { "/sys/bus/pci/devices/\(d.bdf)/driver_override" }
            guard let o = d.driverOverride else { return nil }
            if DriverClass(o) == .vfio {
                return finding(.pass, s, "driver_override is \(o): host drivers stay off it", evidence: [Evidence(path, o)])
            }
            return finding(
                .warn, s, "driver_override is \(o): vfio-pci cannot bind until it is changed",
                remedy: "echo vfio-pci > \(path)", evidence: [Evidence(path, o)])
        }
    }
}
