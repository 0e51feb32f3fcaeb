/// A Container Device Interface spec (`vfio-probe cdi`), CDI spec version 0.8.0
/// (github.com/cncf-tags/container-device-interface, SPEC.md): one CDI device per *assignable
/// unit*, which is what VFIO hands out: a whole IOMMU group, all its endpoint functions (bridges
/// excluded: vfio-pci does not bind them, and a group holding only bridges assigns nothing).
///
/// Each device is named `group-N`; its functions' addresses are in the annotation
/// `vfio-probe.io/functions` and in the environment, not in the name: SPEC.md allows only
/// alphanumerics, '-', '_' and '.' in a device name (the reference parser also takes ':', but a
/// spec that holds to the text loads everywhere), and a second device for the same group would let
/// one container ask for the group twice.
///
/// The device nodes are those of one backend for the whole spec, never mixed:
/// - legacy: `/dev/vfio/vfio` and `/dev/vfio/N`; a no-IOMMU group's node is
///   `/dev/vfio/noiommu-N` on the host and `/dev/vfio/N` in the container, as the SR-IOV device
///   plugin mounts it (vfio_group_find_or_alloc names it so; DPDK and QEMU open `/dev/vfio/N`);
/// - cdev: `/dev/iommu` and `/dev/vfio/devices/vfioN` per function (vfio_device_add). A no-IOMMU
///   function has no cdev path: vfio_df_ioctl_bind_iommufd refuses `iommufd < 0` in 6.12.
///
/// Pure: everything comes from the `Report`.
public enum CDIReporter {
    public static let cdiVersion = "0.8.0"
    public static let defaultKind = "vfio-probe.io/vfio"
    /// The annotation keys' prefix (a DNS subdomain, as Kubernetes annotation keys want).
    static let annotationPrefix = "vfio-probe.io/"

    public enum Backend: String, Sendable, CaseIterable {
        case legacy, cdev, auto
    }

    public struct Options: Sendable {
        public var kind: String = CDIReporter.defaultKind
        public var backend: Backend = .auto
        /// `--include bindable`: also the units that are ready once their actions are done.
        public var includeBindable = false
        /// `--mode`: the weakest mode a unit may work in to be described. Safe VFIO by default: a
        /// unit usable only without interrupt isolation, or only in no-IOMMU mode, is not handed to
        /// a container unless asked for.
        public var minimumMode: Mode = .vfio
        public init() {}
    }

    /// One IOMMU group's endpoint functions and what the verdict says of them together.
    public struct Unit: Sendable, Equatable {
        public var group: Int
        public var functions: [PCIAddress]
        /// Ready only when every function is; blocked when one is; unknown when one is; else bindable.
        public var readiness: Readiness
        /// The lowest mode of its functions.
        public var mode: Mode
        public var noIOMMU: Bool
        /// Each function's `vfioN` cdev, or nil when one has none.
        public var cdevs: [String]?
        public var name: String { "group-\(group)" }
    }

    /// The spec, or why nothing was written.
    public struct Spec: Sendable {
        /// The backend used (legacy or cdev).
        public var backend: Backend
        /// The units in the spec.
        public var units: [Unit]
        /// Units that qualified by readiness but that the backend cannot describe, with why.
        public var leftOut: [(unit: Unit, why: String)]
        /// Every assignable unit of the host and its readiness.
        public var all: [Unit]
        /// The spec document; nil when no unit is in it (a CDI spec needs at least one device).
        public var document: JSONValue?
        public var readyCount: Int { all.filter { $0.readiness == .ready }.count }
        public var bindableCount: Int { all.filter { $0.readiness == .bindable }.count }
    }

    /// Every assignable unit: IOMMU groups (real or no-IOMMU; not the groups VFIO makes for mdev
    /// instances) with at least one endpoint function, by group number.
    public static func units(_ r: Report) -> [Unit] {
        let h = r.host
        var verdicts: [PCIAddress: DeviceVerdict] = [:]
        for d in r.verdict.devices { verdicts[d.address] = d }
        return h.groups.keys.sorted().compactMap { id -> Unit? in
            let g = h.groups[id]!
            guard g.kind != .emulatedIOMMU else { return nil }
            let endpoints = g.pciMembers.compactMap { h.devices[$0] }.filter { !$0.isBridge }
            guard !endpoints.isEmpty else { return nil }
            let vs = endpoints.map { verdicts[$0.address] }
            let readiness: Readiness
            if vs.contains(where: { $0 == nil || $0!.readiness == .unknown }) {
                readiness = .unknown
            } else if vs.contains(where: { $0!.readiness == .blocked || $0!.mode == .unusable }) {
                readiness = .blocked
            } else if vs.contains(where: { $0!.readiness == .bindable }) {
                readiness = .bindable
            } else {
                readiness = .ready
            }
            let cdevs = endpoints.map(\.vfioDevice)
            return Unit(
                group: id, functions: endpoints.map(\.address), readiness: readiness,
                mode: vs.compactMap { $0?.mode }.min() ?? .unusable, noIOMMU: g.isNoIOMMU,
                cdevs: cdevs.contains(nil) ? nil : cdevs.compactMap { $0 })
        }
    }

    /// Whether a kind is `vendor/class` as SPEC.md says: the prefix a DNS subdomain of at most 253
    /// characters, the name 1–63 characters, alphanumeric at both ends, '-', '_', '.' between; and
    /// both starting with a letter, as the reference parser (pkg/parser validateVendorOrClassName)
    /// also wants.
    public static func isValidKind(_ kind: String) -> Bool {
        let parts = kind.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return false }
        func letter(_ s: Substring) -> Bool { s.utf8.first.map { isAlphanumeric($0) && !(0x30...0x39).contains($0) } ?? false }
        return isDNSSubdomain(parts[0]) && isName(parts[1], maxLength: 63, extra: "-_.") && letter(parts[0]) && letter(parts[1])
    }

    /// A device name as SPEC.md says: alphanumeric at both ends, '-', '_', '.' and alphanumerics between.
    public static func isValidDeviceName(_ name: some StringProtocol) -> Bool { isName(name, maxLength: nil, extra: "-_.") }

    static func isAlphanumeric(_ c: UInt8) -> Bool {
        (0x30...0x39).contains(c) || (0x41...0x5a).contains(c) || (0x61...0x7a).contains(c)
    }

    static func isName(_ s: some StringProtocol, maxLength: Int?, extra: String) -> Bool {
        let b = Array(s.utf8)
        guard let first = b.first, let last = b.last, isAlphanumeric(first), isAlphanumeric(last) else { return false }
        if let maxLength, b.count > maxLength { return false }
        let allowed = Set(extra.utf8)
        return b.allSatisfy { isAlphanumeric($0) || allowed.contains($0) }
    }

    /// RFC 1123 subdomain, as Kubernetes checks it: lowercase labels of 1–63 characters,
    /// alphanumeric at both ends, '-' between, joined by dots, 253 characters at most.
    static func isDNSSubdomain(_ s: some StringProtocol) -> Bool {
        guard !s.isEmpty, s.utf8.count <= 253 else { return false }
        return s.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            let b = Array(label.utf8)
            guard let f = b.first, let l = b.last, b.count <= 63 else { return false }
            func ok(_ c: UInt8) -> Bool { (0x30...0x39).contains(c) || (0x61...0x7a).contains(c) }
            return ok(f) && ok(l) && b.allSatisfy { ok($0) || $0 == UInt8(ascii: "-") }
        }
    }

    /// KubeVirt's variable for a resource (pkg/util ResourceNameToEnvVar): `PCI_RESOURCE_` and the
    /// name upper-cased with '/' and '.' made '_'; its value is the functions' addresses, comma-separated.
    public static func environmentName(kind: String) -> String {
        "PCI_RESOURCE_" + String(kind.uppercased().map { $0 == "/" || $0 == "." ? "_" : $0 })
    }

    public static func build(_ r: Report, options: Options = Options()) -> Spec {
        let h = r.host
        let all = units(r)
        let wanted = all.filter {
            ($0.readiness == .ready || (options.includeBindable && $0.readiness == .bindable)) && $0.mode >= options.minimumMode
        }
        let iommuNode = h.devNodes.iommufd.value != nil
        func cdevProblem(_ u: Unit) -> String? {
            if u.noIOMMU { return "a no-IOMMU group has no cdev path (vfio_df_ioctl_bind_iommufd refuses iommufd < 0)" }
            guard let cdevs = u.cdevs else {
                return "a function has no vfio-dev/vfioN (not bound to vfio-pci, or no CONFIG_VFIO_DEVICE_CDEV)"
            }
            if let c = cdevs.first(where: { h.devNodes.cdevs[$0] == nil }) { return "/dev/vfio/devices/\(c) is missing" }
            if !iommuNode { return "/dev/iommu is missing (iommufd not loaded)" }
            return nil
        }
        func legacyProblem(_ u: Unit) -> String? {
            // A ready unit's group node is there unless the kernel has no group path
            // (CONFIG_VFIO_GROUP=n); a bindable one's appears when vfio-pci binds it.
            let name = u.noIOMMU ? "noiommu-\(u.group)" : "\(u.group)"
            guard u.readiness == .ready, h.devNodes.groupsReadable, h.devNodes.groups[name] == nil else { return nil }
            return "/dev/vfio/\(name) is missing (no CONFIG_VFIO_GROUP?)"
        }
        let backend: Backend =
            switch options.backend {
            case .legacy, .cdev: options.backend
            case .auto: !wanted.isEmpty && wanted.allSatisfy { cdevProblem($0) == nil } ? .cdev : .legacy
            }
        var units: [Unit] = []
        var leftOut: [(unit: Unit, why: String)] = []
        for u in wanted {
            if let why = backend == .cdev ? cdevProblem(u) : legacyProblem(u) {
                leftOut.append((u, why))
            } else {
                units.append(u)
            }
        }
        let document = units.isEmpty ? nil : spec(units, backend: backend, kind: options.kind)
        return Spec(backend: backend, units: units, leftOut: leftOut, all: all, document: document)
    }

    static func node(_ path: String, host: String? = nil) -> JSONValue {
        var kvs: [(String, JSONValue)] = [("path", .string(path))]
        if let host, host != path { kvs.append(("hostPath", .string(host))) }
        kvs += [("type", .string("c")), ("permissions", .string("rw"))]
        return .object(kvs)
    }

    static func spec(_ units: [Unit], backend: Backend, kind: String) -> JSONValue {
        let env = environmentName(kind: kind)
        let devices: [JSONValue] = units.map { u in
            let nodes: [JSONValue]
            if backend == .cdev {
                nodes = [node("/dev/iommu")] + (u.cdevs ?? []).map { node("/dev/vfio/devices/\($0)") }
            } else {
                nodes = [
                    node("/dev/vfio/vfio"), node("/dev/vfio/\(u.group)", host: u.noIOMMU ? "/dev/vfio/noiommu-\(u.group)" : nil),
                ]
            }
            let functions = u.functions.map(\.description).joined(separator: ",")
            return .object([
                ("name", .string(u.name)),
                (
                    "annotations",
                    .object([
                        (annotationPrefix + "group", .string(String(u.group))),
                        (annotationPrefix + "functions", .string(functions)),
                        (annotationPrefix + "readiness", .string(u.readiness.rawValue)),
                        (annotationPrefix + "mode", .string(u.mode.rawValue)),
                    ])
                ),
                ("containerEdits", .object([("env", .array([.string("\(env)=\(functions)")])), ("deviceNodes", .array(nodes))])),
            ])
        }
        return .object([
            ("cdiVersion", .string(cdiVersion)),
            ("kind", .string(kind)),
            (
                "annotations",
                .object([
                    (annotationPrefix + "backend", .string(backend.rawValue)), (annotationPrefix + "version", .string(Report.toolVersion)),
                ])
            ),
            ("devices", .array(devices)),
        ])
    }
}
