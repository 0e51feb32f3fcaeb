/// /dev/vfio/vfio, /dev/iommu, group nodes and device cdevs, and this user's access to them.
public struct DevNodesCheck: Check {
    public static let descriptor = CheckDescriptor(
        id: "vfio.dev-nodes",
        title: "VFIO device nodes are there and usable by this user",
        category: .vfio,
        rationale:
            "A userspace driver opens /dev/vfio/vfio (the container) and /dev/vfio/GROUP, or /dev/iommu and /dev/vfio/devices/vfioN. The nodes must exist and be readable and writable by the user the driver runs as.",
        remedy: Actions.Remedy.devNodes,
        looksAt: ["/dev/vfio/vfio", "/dev/vfio/*", "/dev/iommu", "/dev/vfio/devices/*"],
        examples: [
            .pass("intel-vfio-ready"), .pass("intel-vfio-ready", device: "0000:01:00.0"), .warn("nonroot", device: "0000:00:03.0"),
            .pass("noiommu-enabled"),
            .fail("container", remedy: "Mount devtmpfs on /dev (or, in a container, pass --device /dev/vfio/vfio)."),
        ])

    public static func evaluate(_ context: CheckContext) -> [Finding] {
        let host = context.host
        let nodes = host.devNodes
        var out: [Finding] = []
        let userFix = descriptor.remedy
        switch nodes.container {
        case .value(let n):
            let ev = [Evidence(n.path, "c \(n.major):\(n.minor) \(String(n.mode, radix: 8)) uid \(n.uid)")]
            if n.usable {
                out.append(
                    finding(
                        .pass, "/dev/vfio/vfio is there and usable\(nodes.iommufd.value != nil ? "; /dev/iommu too" : "")", evidence: ev))
            } else {
                out.append(
                    finding(
                        .warn, "/dev/vfio/vfio exists but this user cannot open it read-write", evidence: ev,
                        impacts: Impact.requires(Mode.usable, "this user cannot open /dev/vfio/vfio", [userFix])))
            }
        case .absent:
            if host.modules.state("vfio").isPresent {
                out.append(
                    finding(
                        .fail, "/dev/vfio/vfio is missing although vfio is loaded",
                        remedy: "Mount devtmpfs on /dev (or, in a container, pass --device /dev/vfio/vfio).",
                        evidence: [Evidence("/dev/vfio/vfio", "missing")],
                        impacts: Mode.usable.map {
                            .blocks(
                                $0, "/dev/vfio/vfio is missing",
                                fix: [
                                    "mount -t devtmpfs devtmpfs /dev  # in a container instead: docker run --device /dev/vfio/vfio --device /dev/vfio/GROUP"
                                ])
                        }))
            } else {
                out.append(finding(.info, "/dev/vfio/vfio does not exist (vfio is not loaded)"))
            }
        case .unreadable(let why):
            var f = skipped(why.description)
            f.impacts = Impact.undecided(
                Mode.usable, "cannot tell whether /dev/vfio/vfio exists (\(why))", ["run vfio-probe with /dev mounted"])
            out.append(f)
        }
        for d in host.selectedDevices {
            guard let g = host.group(of: d) else { continue }
            let name = g.nodeName
            guard let n = nodes.groups[name] else {
                // A function on a VFIO driver always has its group's node on the host: missing,
                // it was not passed in (a container given /dev/vfio/vfio alone), and the open fails.
                if DriverClass(d.driver) == .vfio, nodes.container.value != nil {
                    let modes: [Mode] = g.isNoIOMMU ? [.noiommu] : Mode.iommuBacked
                    out.append(
                        finding(
                            .fail, Subject.device(d.address), "/dev/vfio/\(name) is missing although \(d.bdf) is bound to \(d.driver!)",
                            remedy: "Mount devtmpfs on /dev (or, in a container, pass --device /dev/vfio/\(name)).",
                            evidence: [Evidence("/dev/vfio/\(name)", "missing")],
                            impacts: Impact.blocks(
                                modes, "/dev/vfio/\(name) is missing",
                                fix: [
                                    "mount -t devtmpfs devtmpfs /dev  # in a container instead: docker run --device /dev/vfio/\(name)"
                                ])))
                }
                continue
            }
            let modes: [Mode] = g.isNoIOMMU ? [.noiommu] : Mode.iommuBacked
            let s = Subject.device(d.address)
            func node(_ n: DeviceNode) -> Evidence { Evidence(n.path, "\(String(n.mode, radix: 8)) uid \(n.uid) gid \(n.gid)") }
            if !n.usable {
                out.append(
                    finding(
                        .warn, s, "/dev/vfio/\(name) is not readable and writable by this user", evidence: [node(n)],
                        impacts: Impact.requires(modes, "this user cannot open /dev/vfio/\(name)", [userFix])))
                continue
            }
            // The device cdev (iommufd path): absent by design in no-IOMMU mode.
            let v = g.isNoIOMMU ? nil : d.vfioDevice
            let c = v.flatMap { nodes.cdevs[$0] }
            let iommufd = nodes.iommufd.value != nil
            func cdev() -> String {
                guard let v else { return "" }
                if let c {
                    return c.usable ? "; cdev /dev/vfio/devices/\(v) too" : "; cdev /dev/vfio/devices/\(v) is not usable by this user"
                }
                return iommufd ? "; no /dev/vfio/devices/\(v) node (vfio cdev not built or not created)" : ""
            }
            out.append(finding(.pass, s, "/dev/vfio/\(name) is usable\(cdev())", evidence: [node(n)] + (c.map { [node($0)] } ?? [])))
        }
        return out
    }
}
