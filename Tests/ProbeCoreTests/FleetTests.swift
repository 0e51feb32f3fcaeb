import Foundation
import Testing
@testable import ProbeCore

/// Every rule CDI's SPEC.md (spec version 0.8.0, cncf-tags/container-device-interface) states for
/// the fields the spec uses, checked on the parsed document, independently of CDIReporter; plus
/// the rules vfio-probe adds (one backend per spec, a group in one device only). Returns the
/// rules broken, empty when none.
func cdiProblems(_ text: String) -> [String] {
    func matches(_ s: String, _ pattern: String) -> Bool { s.range(of: pattern, options: .regularExpression) != nil }
    guard let doc = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] else { return ["not a JSON object"] }
    var problems: [String] = []
    let allowedTop: Set<String> = ["cdiVersion", "kind", "annotations", "devices", "containerEdits"]
    for k in doc.keys where !allowedTop.contains(k) { problems.append("unknown field \(k)") }
    // cdiVersion (REQUIRED): Semantic Version 2.0.
    if let v = doc["cdiVersion"] as? String {
        if !matches(v, #"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$"#) { problems.append("cdiVersion \(v) is not semver") }
    } else {
        problems.append("cdiVersion missing")
    }
    // kind (REQUIRED): a DNS-subdomain prefix of at most 253 characters, '/', a name of at most 63
    // characters, alphanumeric at both ends, '-', '_', '.' between.
    if let kind = doc["kind"] as? String {
        let parts = kind.components(separatedBy: "/")
        if parts.count != 2 {
            problems.append("kind \(kind) is not prefix/name")
        } else {
            // The reference parser (pkg/parser) also wants both to start with a letter.
            let label = #"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"#
            if parts[0].count > 253 || !matches(parts[0], "^[a-z]") || !matches(parts[0], "^\(label)(\\.\(label))*$") {
                problems.append("kind prefix \(parts[0])")
            }
            if parts[1].count > 63 || !matches(parts[1], #"^[A-Za-z]([A-Za-z0-9._-]*[A-Za-z0-9])?$"#) {
                problems.append("kind name \(parts[1])")
            }
        }
    } else {
        problems.append("kind missing")
    }
    // Annotations: string to string, keys Kubernetes qualified names (as the reference
    // implementation validates them).
    func checkAnnotations(_ a: Any?, _ at: String) {
        guard let a else { return }
        guard let m = a as? [String: Any] else { return problems.append("\(at) annotations are not an object") }
        for (k, v) in m {
            if !(v is String) { problems.append("\(at) annotation \(k) is not a string") }
            let parts = k.components(separatedBy: "/")
            let name = parts.last!
            if parts.count > 2 || name.count > 63 || !matches(name, #"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$"#)
                || (parts.count == 2 && !matches(parts[0], #"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$"#))
            {
                problems.append("\(at) annotation key \(k)")
            }
        }
    }
    checkAnnotations(doc["annotations"], "spec")
    // devices (REQUIRED): at least one entry.
    guard let devices = doc["devices"] as? [[String: Any]], !devices.isEmpty else { return problems + ["devices missing or empty"] }
    var names = Set<String>()
    var backends = Set<String>()
    var groupNodes: [String: String] = [:]
    for d in devices {
        // name (REQUIRED): alphanumeric at both ends, '-', '_', '.' and alphanumerics between.
        guard let name = d["name"] as? String else {
            problems.append("a device without a name")
            continue
        }
        if !matches(name, #"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$"#) { problems.append("device name \(name)") }
        if !names.insert(name).inserted { problems.append("device name \(name) twice") }
        for k in d.keys where !["name", "annotations", "containerEdits"].contains(k) { problems.append("\(name): unknown field \(k)") }
        checkAnnotations(d["annotations"], name)
        guard let edits = d["containerEdits"] as? [String: Any] else {
            problems.append("\(name): no containerEdits")
            continue
        }
        for k in edits.keys where !["env", "deviceNodes", "mounts", "hooks", "additionalGids", "intelRdt"].contains(k) {
            problems.append("\(name): unknown edit \(k)")
        }
        // env: "VARNAME=VARVALUE".
        for e in edits["env"] as? [Any] ?? [] {
            guard let e = e as? String, let eq = e.firstIndex(of: "="), eq != e.startIndex else {
                problems.append("\(name): env entry \(e) is not NAME=VALUE")
                continue
            }
        }
        // deviceNodes: path REQUIRED; hostPath optional; paths absolute; type b/c/u/p;
        // permissions of r, w, m.
        let nodes = edits["deviceNodes"] as? [[String: Any]] ?? []
        if nodes.isEmpty { problems.append("\(name): no device nodes") }
        var kinds = Set<String>()
        for n in nodes {
            guard let path = n["path"] as? String else {
                problems.append("\(name): a node without a path")
                continue
            }
            let host = n["hostPath"] as? String ?? path
            if !path.hasPrefix("/") || !host.hasPrefix("/") { problems.append("\(name): \(path) is not absolute") }
            if let t = n["type"] as? String, !["b", "c", "u", "p"].contains(t) { problems.append("\(name): node type \(t)") }
            if let p = n["permissions"] as? String, p.isEmpty || !p.allSatisfy({ "rwm".contains($0) }) {
                problems.append("\(name): permissions \(p)")
            }
            switch host {
            case "/dev/vfio/vfio": kinds.insert("legacy")
            case "/dev/iommu": kinds.insert("cdev")
            case _ where host.hasPrefix("/dev/vfio/devices/vfio"): kinds.insert("cdev")
            case _ where matches(host, #"^/dev/vfio/(noiommu-)?[0-9]+$"#):
                kinds.insert("legacy")
                if let other = groupNodes.updateValue(name, forKey: host) { problems.append("\(host) in \(other) and \(name)") }
                if path != "/dev/vfio/" + host.split(separator: "-").last!.split(separator: "/").last! {
                    problems.append("\(name): \(host) mounted at \(path)")
                }
            default: problems.append("\(name): \(host) is no VFIO node")
            }
        }
        if kinds.count != 1 { problems.append("\(name) mixes backends: \(kinds.sorted())") }
        backends.formUnion(kinds)
    }
    if backends.count > 1 { problems.append("the spec mixes backends: \(backends.sorted())") }
    return problems
}

struct CDITests {
    /// The validator finds what it should: a hand-broken spec breaks each rule once.
    @Test func validatorCatchesEachRule() throws {
        let good = try #require(CDIReporter.build(try probe(.intelVFIOReady), options: .init()).document).render()
        #expect(cdiProblems(good) == [])
        let broken = [
            good.replacingOccurrences(of: "\"0.8.0\"", with: "\"0.8\""),
            good.replacingOccurrences(of: "vfio-probe.io/vfio\"", with: "vfio-probe.io/vfio/x\""),
            good.replacingOccurrences(of: "\"group-10\"", with: "\"group:10\""),
            good.replacingOccurrences(of: "\"/dev/iommu\"", with: "\"dev/iommu\""),
            good.replacingOccurrences(of: "\"/dev/iommu\"", with: "\"/dev/vfio/vfio\""),
            good.replacingOccurrences(of: "\"rw\"", with: "\"rx\""),
        ]
        for b in broken { #expect(!cdiProblems(b).isEmpty, "\(b)") }
    }

    /// Every fixture, every backend, with and without --include bindable: the spec follows every
    /// rule, names only the functions of units the verdict makes ready (or bindable, when asked
    /// and marked so), each endpoint of its group and no bridge, and uses the backend asked for.
    @Test(arguments: HostFixture.allCases)
    func everyFixtureSpecIsValid(fixture: HostFixture) throws {
        let r = try probe(fixture)
        let verdicts = Dictionary(r.verdict.devices.map { ($0.address, $0) }, uniquingKeysWith: { a, _ in a })
        for backend in CDIReporter.Backend.allCases {
            for bindable in [false, true] {
                var o = CDIReporter.Options()
                o.backend = backend
                o.includeBindable = bindable
                let spec = CDIReporter.build(r, options: o)
                if backend != .auto { #expect(spec.backend == backend) }
                guard let doc = spec.document else {
                    #expect(spec.units.isEmpty)
                    continue
                }
                let text = doc.render()
                #expect(cdiProblems(text) == [], "\(fixture) \(backend) bindable=\(bindable)")
                let json = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
                #expect((json["annotations"] as? [String: String])?["vfio-probe.io/backend"] == spec.backend.rawValue)
                for (u, d) in zip(spec.units, json["devices"] as? [[String: Any]] ?? []) {
                    #expect(u.readiness == .ready || (bindable && u.readiness == .bindable))
                    let g = try #require(r.host.groups[u.group])
                    #expect(u.functions == g.pciMembers.filter { r.host.devices[$0]?.isBridge == false })
                    for a in u.functions {
                        #expect(verdicts[a]?.readiness == u.readiness || (u.readiness == .bindable && verdicts[a]?.readiness == .ready))
                    }
                    let ann = try #require(d["annotations"] as? [String: String])
                    let list = u.functions.map(\.description).joined(separator: ",")
                    #expect(ann["vfio-probe.io/functions"] == list && ann["vfio-probe.io/readiness"] == u.readiness.rawValue)
                    let edits = try #require(d["containerEdits"] as? [String: Any])
                    #expect(edits["env"] as? [String] == ["PCI_RESOURCE_VFIO-PROBE_IO_VFIO=\(list)"])
                    let hostPaths = (edits["deviceNodes"] as? [[String: Any]] ?? []).map {
                        $0["hostPath"] as? String ?? $0["path"] as! String
                    }
                    if spec.backend == .legacy {
                        #expect(hostPaths == ["/dev/vfio/vfio", "/dev/vfio/\(g.nodeName)"])
                    } else {
                        #expect(hostPaths == ["/dev/iommu"] + u.functions.map { "/dev/vfio/devices/\(r.host.devices[$0]!.vfioDevice!)" })
                    }
                }
            }
        }
    }

    /// A no-IOMMU group: the host node noiommu-N is mounted as /dev/vfio/N (as the SR-IOV device
    /// plugin does), and the cdev backend leaves it out (vfio_df_ioctl_bind_iommufd refuses
    /// iommufd < 0 in 6.12).
    @Test func noIOMMUGroupIsRenamed() throws {
        let r = try probe(.noiommuEnabled)
        // Safe VFIO only, by default: the no-IOMMU unit is not handed out unasked.
        #expect(CDIReporter.build(r).document == nil)
        var n = CDIReporter.Options()
        n.minimumMode = .noiommu
        let legacy = CDIReporter.build(r, options: n)
        #expect(legacy.backend == .legacy)
        let text = try #require(legacy.document).render()
        #expect(text.contains("\"path\": \"/dev/vfio/0\",\n            \"hostPath\": \"/dev/vfio/noiommu-0\""))
        var o = n
        o.backend = .cdev
        let cdev = CDIReporter.build(r, options: o)
        #expect(cdev.document == nil && cdev.leftOut.map(\.unit.group) == [0])
        #expect(cdev.leftOut.first?.why.contains("vfio_df_ioctl_bind_iommufd") == true)
    }

    /// A group shared with a function on its host driver is one bindable unit, never ready; a
    /// bridge is no unit of its own.
    @Test func sharedGroupIsOneBindableUnit() throws {
        let r = try probe(.sharedGroup)
        let units = CDIReporter.units(r)
        let g10 = try #require(units.first { $0.group == 10 })
        #expect(g10.functions.count == 2 && g10.readiness == .bindable)
        #expect(!units.contains { $0.group == 1 }, "a group of bridges only assigns nothing")
        #expect(CDIReporter.build(r).document == nil)
        var o = CDIReporter.Options()
        o.includeBindable = true
        o.backend = .legacy
        let text = try #require(CDIReporter.build(r, options: o).document).render()
        #expect(text.contains("\"vfio-probe.io/readiness\": \"bindable\""))
    }

    @Test func kindAndNameSyntax() {
        for k in ["vendor.com/foo", "foo.bar.baz/foo-bar123.B_az", CDIReporter.defaultKind] { #expect(CDIReporter.isValidKind(k), "\(k)") }
        for k in [
            "foo", "vendor.com/foo/", "vendor.com/foo/bar", "Vendor.com/foo", "vendor.com/-foo", "/foo", "vendor.com/1nic",
            "1vendor.com/nic",
            "vendor.com/" + String(repeating: "a", count: 64),
        ] {
            #expect(!CDIReporter.isValidKind(k), "\(k)")
        }
        #expect(CDIReporter.isValidDeviceName("group-12") && !CDIReporter.isValidDeviceName("0000:01:00.0"))
        #expect(CDIReporter.environmentName(kind: "nvidia.com/GP102GL_TESLA_P40") == "PCI_RESOURCE_NVIDIA_COM_GP102GL_TESLA_P40")
    }

    /// The command: the spec through --output's rename, --require-ready's statuses, a bad kind.
    @Test func command() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/vfio-probe.json"
        let ok = try runBinary(["cdi", "--root", HostFixture.intelVFIOReady.path, "--no-live", "--output", path, "--require-ready"])
        #expect(ok.status == 0 && ok.stdout.isEmpty)
        #expect(cdiProblems(try String(contentsOfFile: path, encoding: .utf8)) == [])
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["vfio-probe.json"])
        // Nothing ready: no spec, and the stale one is removed so that loaders drop its devices.
        let none = try runBinary(["cdi", "--root", HostFixture.sharedGroup.path, "--no-live", "--output", path, "--require-ready"])
        #expect(none.status == 4 && none.stderr.contains("no spec written"))
        #expect(!FileManager.default.fileExists(atPath: path))
        #expect(try runBinary(["cdi", "--root", HostFixture.sharedGroup.path, "--no-live"]).status == 0)
        #expect(try runBinary(["cdi", "--root", HostFixture.intelIOMMUOff.path, "--no-live", "--require-ready"]).status == 3)
        #expect(try runBinary(["cdi", "--root", HostFixture.intelVFIOReady.path, "--no-live", "--kind", "vfio"]).status == 64)
        let legacy = try runBinary([
            "cdi", "--root", HostFixture.intelVFIOReady.path, "--no-live", "--backend", "legacy", "--kind", "example.com/nic",
        ])
        #expect(legacy.stdout.contains("\"/dev/vfio/10\"") && legacy.stdout.contains("PCI_RESOURCE_EXAMPLE_COM_NIC=0000:01:00.0"))
    }
}

struct FleetLabelsTests {
    /// NFD on every fixture: every label within Kubernetes' name and value rules (name ≤ 63 of
    /// [A-Za-z0-9._-], alphanumeric at both ends; value empty or the same, ≤ 63), only assignment
    /// candidates counted, and the per-vendor:device ready counts summing to the ready units.
    @Test(arguments: HostFixture.allCases)
    func nfdLabelsOnEveryFixture(fixture: HostFixture) throws {
        let r = try probe(fixture)
        let text = NFDReporter.render(r)
        var labels: [String: String] = [:]
        for l in text.split(separator: "\n") where !l.hasPrefix("#") {
            let kv = l.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            try #require(kv.count == 2, "\(l)")
            let word = #"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$"#
            #expect(kv[0].count <= 63 && kv[0].range(of: word, options: .regularExpression) != nil, "\(l)")
            #expect(kv[1].count <= 63 && (kv[1].isEmpty || kv[1].range(of: word, options: .regularExpression) != nil), "\(l)")
            #expect(labels.updateValue(kv[1], forKey: kv[0]) == nil, "\(kv[0]) twice")
        }
        let candidates = r.verdict.devices.filter { d in
            let pci = r.host.device(d.address)!
            return !pci.isBridge && ChipsetCheck.role(pci, r.host) == nil
        }
        #expect(labels["vfio.bindable-devices"] == String(candidates.filter { $0.readiness == .bindable }.count))
        let units = CDIReporter.units(r)
        let readyUnits = units.filter { $0.readiness == .ready }.count
        #expect(labels["vfio.ready-units"] == String(readyUnits))
        let perID = labels.filter { $0.key.hasPrefix("vfio.ready.") }.map { Int($0.value)! }.reduce(0, +)
        #expect(perID == readyUnits)
        if let b = labels["vfio.backend"] { #expect(["legacy", "cdev", "compat"].contains(b)) }
        switch r.host.containerBackend {
        case .type1?: #expect(labels["vfio.backend"] == "legacy")
        case .iommufd?: #expect(labels["vfio.backend"] == "compat")
        case nil: break
        }
    }

    /// A host bridge, LPC and SMBus functions are no candidates: one bindable NIC port counts once.
    @Test func chipsetIsNotCounted() throws {
        let r = try probe(.sriovPF)
        let text = NFDReporter.render(r)
        #expect(text.contains("vfio.ready.8086_159b=1\n") && text.contains("vfio.backend=legacy\n"))
        #expect(!text.contains("vfio.ready-devices=4"))
    }

    static func series(_ text: String) -> [Substring] { text.split(separator: "\n").filter { !$0.hasPrefix("#") } }

    /// One series per function, one per check not passed, one per reason code and impact, and a
    /// fixed set of host gauges: the bound the README states (≤ 2 per function + O(checks)),
    /// measured on the 320-function synthetic host.
    @Test func prometheusBound() throws {
        let root = try syntheticHost(pfs: 40, vfs: 7)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let r = try probe(root: root)
        let text = PrometheusReporter.render(r, now: 0)
        let all = Self.series(text)
        let functions = r.host.devices.count
        #expect(functions >= 320)
        let checks = CheckRegistry.all.count
        #expect(all.filter { $0.hasPrefix("vfio_probe_device{") }.count == r.verdict.devices.count)
        #expect(all.filter { $0.hasPrefix("vfio_probe_check{") }.count <= checks)
        // Three impact kinds per check id, and the verdict's own two codes.
        #expect(all.filter { $0.hasPrefix("vfio_probe_reason{") }.count <= 3 * checks + 2)
        #expect(all.count <= 2 * functions + 4 * checks + 32, "\(all.count) series for \(functions) functions")
    }

    /// Each blocked or bindable device names the check that holds it back, and the reason series
    /// counts it.
    @Test func prometheusReasons() throws {
        let r = try probe(.rmrrDirect, devices: ["0000:01:00.0"])
        let text = PrometheusReporter.render(r, now: 1_700_000_000)
        #expect(text.contains("vfio_probe_mode 0\n"))
        #expect(text.contains("vfio_probe_verdict{mode=\"none\"} 1"))
        #expect(text.contains("vfio_probe_check{check=\"device.reserved-regions\",status=\"fail\"} 1"))
        #expect(
            text.contains(
                "vfio_probe_device{device=\"0000:01:00.0\",vendor_device=\"14e4:1657\",driver=\"tg3\",group=\"10\",mode=\"none\",readiness=\"blocked\",reason=\"device.reserved-regions\"} 1"
            ), "\(text)")
        #expect(text.contains("vfio_probe_reason{reason=\"device.reserved-regions\",impact=\"blocks\"} 1"))
        #expect(text.contains("vfio_probe_last_run_timestamp_seconds 1700000000"))
        let bindable = PrometheusReporter.render(try probe(.sharedGroup), now: 0)
        #expect(
            bindable.contains("readiness=\"bindable\",reason=\"device.driver\"} 1")
                || bindable.contains("readiness=\"bindable\",reason=\"device.group-viability\"} 1"), "\(bindable)")
        #expect(!Self.series(bindable).contains { $0.contains("status=\"pass\"") })
    }
}
