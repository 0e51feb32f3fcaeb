import Foundation
import Testing
import CShim
@testable import ProbeCore

struct ParsingTests {
    @Test func pciAddresses() {
        #expect(PCIAddress("0000:01:00.1")?.description == "0000:01:00.1")
        #expect(PCIAddress("01:00.1")?.description == "0000:01:00.1")
        #expect(PCIAddress("7870:00:02.0")?.domain == 0x7870)
        #expect(PCIAddress("10000:00:02.0")?.domain == 0x10000)
        for bad in ["", "01:00", "0000:01:32.0", "0000:01:00.8", "0000:100:00.0", "zz:00.0", "0000:01:00.0.1"] {
            #expect(PCIAddress(bad) == nil, "\(bad)")
        }
    }

    @Test func commandLine() {
        let c = KernelCommandLine(
            "BOOT_IMAGE=/vmlinuz quiet intel_iommu=on,igfx_off vfio-pci.ids=8086:10fb,8086:1572 \"acpi_osi=Windows 2015\" iommu=pt intel_iommu=off -- init=foo iommu=off"
        )
        #expect(c.value("intel_iommu") == "off", "the last value wins")
        #expect(c.options("intel_iommu") == ["on", "igfx_off", "off"])
        #expect(c.value("vfio_pci.ids") == "8086:10fb,8086:1572", "- and _ are the same")
        #expect(c.value("acpi_osi") == "Windows 2015")
        #expect(c.value("quiet") == "")
        #expect(c.options("iommu") == ["pt"], "words after -- belong to init")
        #expect(KernelCommandLine.bool("Y") == true && KernelCommandLine.bool("0") == false && KernelCommandLine.bool("maybe") == nil)
    }

    @Test func kernelConfig() {
        let k = KernelConfig("CONFIG_VFIO=m\n# CONFIG_VFIO_NOIOMMU is not set\nCONFIG_IOMMUFD=y\nCONFIG_LOCALVERSION=\"-x\"\n")
        #expect(k.isModule("CONFIG_VFIO"))
        #expect(k.isEnabled("CONFIG_VFIO_NOIOMMU") == false)
        #expect(k.isBuiltIn("CONFIG_IOMMUFD"))
        #expect(k.isEnabled("CONFIG_NOPE") == nil)
        #expect(k["CONFIG_LOCALVERSION"] == "\"-x\"")
    }

    @Test func reservedRegions() {
        let r = ReservedRegion.parse("0x00000000fee00000 0x00000000feefffff msi\n0x00000000bdf6e000 0x00000000bdf6efff direct\ngarbage\n")
        #expect(
            r == [
                ReservedRegion(start: 0xfee00000, end: 0xfeefffff, type: "msi"),
                ReservedRegion(start: 0xbdf6e000, end: 0xbdf6efff, type: "direct"),
            ])
        // Upper-case digits, a tab, no final newline; a 17-digit value and a non-hex field are skipped.
        #expect(
            ReservedRegion.parse("0x8000000 0x80FFFFF\tmsi\n0x1ffffffffffffffff 0x2 reserved\n0xzz 0x1 msi") == [
                ReservedRegion(start: 0x8000000, end: 0x80fffff, type: "msi")
            ])
        #expect(ReservedRegion.parse("") == [])
    }

    @Test func processFacts() {
        let s = ProcessFacts.parseStatus("Name:\tx\nUid:\t1000\t0\t0\t0\nCapEff:\t0000000000004000\n")
        #expect(s.uid == 0, "the effective uid")
        #expect(s.capEff == 0x4000)
        #expect(ProcessFacts.parseMemlock("Max locked memory         65536                65536                bytes\n") == .some(65536))
        #expect(ProcessFacts.parseMemlock("Max locked memory         unlimited            unlimited            bytes\n") == .some(nil))
        #expect(ProcessFacts.parseMemlock("nothing\n") == nil)
    }

    @Test func interruptChips() {
        let chips = HostReader.interruptChips(
            "           CPU0       CPU1\n  0:  36  0  IR-IO-APIC  2-edge  timer\n 24:  1  2  IR-PCI-MSIX-0000:01:00.0  0-edge  eth0\nNMI:  0  0  Non-maskable interrupts\n"
        )
        #expect(chips.contains("IR-IO-APIC") && chips.contains("IR-PCI-MSIX-0000:01:00.0"))
    }

    @Test func vtdRegisters() {
        let u = IOMMUUnit(name: "dmar0", kind: .intel, intelCap: 0xd2008c40660462, intelEcap: 0xf0205ef)
        #expect(u.addressWidth == 39, "QEMU's emulated VT-d: MGAW 39")
        #expect(u.interruptRemapping == true)
        #expect(u.cachingMode == false)
    }

    @Test func jsonEscaping() {
        let v = JSONValue.object([("a\"b", .string("line\nnext\u{1}\\")), ("n", .null), ("x", .array([.int(-3), .bool(true)]))])
        #expect(v.render(pretty: false) == #"{"a\"b":"line\nnext\u0001\\","n":null,"x":[-3,true]}"#)
        let parsed = try? JSONSerialization.jsonObject(with: Data(v.render(pretty: true).utf8)) as? [String: Any]
        #expect(parsed?["a\"b"] as? String == "line\nnext\u{1}\\")
    }
}

/// HostFS: rooted, read-only, typed errors.
struct HostFSTests {
    @Test func typedErrors() throws {
        let fs = try HostFS(root: HostFixture.intelVFIOReady.path)
        #expect(fs.read("/sys/nope").text == .absent)
        #expect(fs.link("/proc/cmdline") == .unreadable(.notALink("/proc/cmdline")))
        #expect(fs.link("/sys/bus/pci/devices/0000:01:00.0/driver").lastComponent == .value("vfio-pci"))
        #expect(fs.link("/sys/bus/pci/devices/0000:01:00.0/iommu_group").lastComponent == .value("10"))
        #expect(fs.list("/sys/kernel/iommu_groups/12/devices") == .value(["0000:00:1f.0", "0000:00:1f.2"]))
        #expect(fs.read("/sys/bus/pci/devices/0000:01:00.0/numa_node").decimal.value != nil)
        #expect(fs.read("/sys/bus/pci/devices/0000:01:00.0/vendor").hex == .value(0x8086))
        #expect(fs.read("/proc/cmdline").decimal.failure.map { if case .malformed = $0 { true } else { false } } == true)
    }

    /// seq_file_read hands a /proc file out a page per read(2) at most: a short read is not the
    /// end, only an empty one (a large host's /proc/interrupts is well past two pages).
    @Test(.enabled(if: FileManager.default.isReadableFile(atPath: "/proc/kallsyms"), "needs /proc/kallsyms (CONFIG_KALLSYMS)"))
    func procFilesAreReadPastAPage() throws {
        let fs = try HostFS(root: "/")
        #expect(fs.read("/proc/kallsyms", limit: 64 << 10).value?.count == 64 << 10)
    }

    /// A link the tree's capturing user could not read is unknown, whether or not it was copied.
    @Test func unreadableLinksAreUnknown() throws {
        let t = try scratchFixture(.intelVFIOReady) { root in
            try (root + "/vfio-probe-snapshot/unreadable").appendLine("/sys/bus/pci/devices/0000:01:00.0/driver")
        }
        defer { try? FileManager.default.removeItem(atPath: t) }
        let fs = try HostFS(root: t)
        #expect(
            fs.link("/sys/bus/pci/devices/0000:01:00.0/driver")
                == .unreadable(.permissionDenied("/sys/bus/pci/devices/0000:01:00.0/driver")))
    }

    @Test func linksCannotLeaveTheRoot() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/root/sys", withIntermediateDirectories: true)
        try "outside\n".write(toFile: dir + "/secret", atomically: true, encoding: .utf8)
        try "inside\n".write(toFile: dir + "/root/secret", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: dir + "/root/sys/up", withDestinationPath: "../../secret")
        try FileManager.default.createSymbolicLink(atPath: dir + "/root/sys/abs", withDestinationPath: "/secret")
        let fs = try HostFS(root: dir + "/root")
        // Both resolve inside the root, as they would on a host whose / is the root.
        #expect(fs.read("/sys/up").text == .value("inside"))
        #expect(fs.read("/sys/abs").text == .value("inside"))
        #expect(fs.read("/../secret").text == .value("inside"))
    }

    @Test func directoryReadsFollowNoLink() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let groups = dir + "/sys/kernel/iommu_groups"
        try FileManager.default.createDirectory(atPath: groups + "/3/vfio-dev", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir + "/elsewhere", withIntermediateDirectories: true)
        try "DMA-FQ\n".write(toFile: groups + "/3/type", atomically: true, encoding: .utf8)
        try "identity\n".write(toFile: dir + "/elsewhere/type", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: groups + "/4", withDestinationPath: "../../../elsewhere")
        try FileManager.default.createSymbolicLink(atPath: groups + "/3/name", withDestinationPath: "../../../elsewhere/type")
        for v in ["vfio7", "vfio12", "other"] { _ = FileManager.default.createFile(atPath: groups + "/3/vfio-dev/" + v, contents: nil) }
        for log in [nil, AccessLog()] {
            let d = try #require(HostFS(root: dir, log: log).directory("/sys/kernel/iommu_groups").value)
            #expect(d.directory("3").flatMap { $0.read("type") }.text == .value("DMA-FQ"), "a real directory")
            #expect(d.directory("4").failure != nil, "a linked folder is not entered")
            #expect(d.directory("3").flatMap { $0.read("name") }.failure != nil, "a linked attribute is not followed")
            #expect(d.read("../iommu_groups/3/type").failure != nil, "nothing above the directory")
            #expect(d.read("3/type").text == .value("DMA-FQ"), "a path through real folders")
            #expect(d.read("4/type").failure != nil, "but not through a linked one")
            #expect(d.read("3/name").failure != nil, "nor to a linked attribute")
            #expect(d.read("3//type").failure != nil && d.read("3/./type").failure != nil, "no empty or \".\" component")
            #expect(
                d.list("3").flatMap { _ in d.directory("3").flatMap { $0.list("vfio-dev") } } == .value(["other", "vfio12", "vfio7"]),
                "sorted")
            #expect(d.directory("3").flatMap { $0.list("none") } == .absent)
            if let log {
                #expect(log.accesses.contains { $0.path == "/sys/kernel/iommu_groups/3/type" }, "recorded under the full path")
            }
        }
    }

    @Test func linkedFunctionFolderIsOpenedInTheRoot() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let real = dir + "/sys/elsewhere/fn"
        try FileManager.default.createDirectory(atPath: real, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir + "/sys/devices/pci0000:00", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir + "/sys/bus/pci/devices", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir + "/proc", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            atPath: dir + "/sys/devices/pci0000:00/0000:00:05.0", withDestinationPath: "../../elsewhere/fn")
        for i in 0..<64 {  // 64 functions, so the whole-host read takes the parallel path
            let bdf = String(format: "0000:00:%02x.%d", 5 + i / 8, i % 8)
            if i > 0 {
                try FileManager.default.createDirectory(atPath: dir + "/sys/devices/pci0000:00/" + bdf, withIntermediateDirectories: true)
            }
            try FileManager.default.createSymbolicLink(
                atPath: dir + "/sys/bus/pci/devices/" + bdf, withDestinationPath: "../../../devices/pci0000:00/" + bdf)
            var config = [UInt8](repeating: 0, count: 64)
            (config[0], config[1], config[2], config[3], config[0x0b]) = (0x86, 0x80, UInt8(i), 0x10, 0x02)
            try Data(config).write(to: URL(fileURLWithPath: (i == 0 ? real : dir + "/sys/devices/pci0000:00/" + bdf) + "/config"))
        }
        var o = Pipeline.Options()
        o.root = dir
        let r = try Pipeline.run(o)
        #expect(r.host.devices.count == 64)
        #expect(r.host.devices[PCIAddress("0000:00:05.0")!]?.vendorID == 0x8086, "read through the link, inside the root")
    }

    /// A whole-host read on all cores leaves nothing open: every worker's folders are closed.
    @Test func aWholeHostReadLeavesNothingOpen() throws {
        let tree = try syntheticHost(pfs: 2, vfs: 40)
        defer { try? FileManager.default.removeItem(atPath: tree) }
        // Descriptors into the tree, found by what they point at: other tests run alongside.
        func openInTree() throws -> [String] {
            try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").compactMap {
                (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + $0)).flatMap {
                    $0.hasPrefix(tree) ? $0 : nil
                }
            }
        }
        var o = Pipeline.Options()
        o.root = tree
        let r = try Pipeline.run(o)
        #expect(r.host.devices.count == 84, "read on all cores")
        #expect(try openInTree() == [], "the workers' folders were closed")
    }

    static let pciIDs = ["/usr/share/misc/pci.ids", "/usr/share/hwdata/pci.ids"].first { FileManager.default.fileExists(atPath: $0) }

    /// Names come from libpci's own look-up in pci.ids: vendor, device and class; an id pci.ids
    /// lacks has no name (the report then shows the number).
    /// libpci is handed only the lines of the host's identities (`PCIIDsSubset`): every name it
    /// gives is the one the whole database gives, for vendors across the file, blocks with
    /// comments inside, and classes (one with no subclass lines, a subclass pci.ids lacks).
    @Test(.enabled(if: pciIDs != nil, "needs pci.ids (Debian's pci.ids package)"))
    func namesFromTheSubsetMatchTheWholeDatabase() throws {
        let text = try String(contentsOfFile: HostFSTests.pciIDs!, encoding: .utf8)
        var identities: [(vendor: UInt16, device: UInt16)] = []
        var vendor: UInt16?
        var nth = 0
        var firstOfVendor = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            if line.hasPrefix("C ") { break }
            if line.first?.isHexDigit == true, let v = UInt16(line.prefix(4), radix: 16) {
                vendor = v
                nth += 1
                firstOfVendor = true
            } else if let v = vendor, line.hasPrefix("\t"), !line.hasPrefix("\t\t"), let dv = UInt16(line.dropFirst().prefix(4), radix: 16)
            {
                if firstOfVendor || nth % 40 == 0 || v == 0x1000 { identities.append((v, dv)) }
                firstOfVendor = false
            }
        }
        #expect(identities.count > 1000)
        let classes: [UInt32] = [0x020000, 0x010802, 0x060400, 0x030000, 0x0c0330, 0xff0000, 0x120000, 0x0d9900]
        let asked = identities.enumerated().map { i, id in
            PCIConfigReader.Identity(vendor: id.vendor, device: id.device, classCode: classes[i % classes.count])
        }
        let subset = PCIConfigReader(root: "/")
        #expect(subset.loadNames(Set(asked)) == .subset, "a plain pci.ids and /proc here")
        let whole = PCIConfigReader(root: "/")
        #expect(whole.loadNames() == .whole)
        let differing = asked.filter { id in
            let (a, b) = (subset.names(of: id), whole.names(of: id))
            return a.vendor != b.vendor || a.device != b.device || a.cls != b.cls
        }
        #expect(differing.isEmpty, "\(differing.prefix(5))")
        #expect(asked.allSatisfy { subset.names(of: $0).device != nil }, "every identity has its name")
        // Only what was asked for is there.
        let other = PCIConfigReader(root: "/")
        other.loadNames([PCIConfigReader.Identity(vendor: 0x8086, device: 0x159b, classCode: 0x020000)])
        #expect(other.names(of: .init(vendor: 0x10de, device: 0x1db6, classCode: 0x030200)).vendor == nil)
        #expect(other.names(of: .init(vendor: 0x8086, device: 0x1572, classCode: 0x020000)).device == nil)
        #expect(other.names(of: .init(vendor: 0x8086, device: 0x159b, classCode: 0x010802)).cls == nil)
    }

    @Test(.enabled(if: pciIDs != nil, "needs pci.ids (Debian's pci.ids package)"))
    func namesFromPCIIDs() {
        let names = PCIConfigReader(root: "/")
        names.loadNames()
        let e810 = names.names(of: .init(vendor: 0x8086, device: 0x159b, classCode: 0x020000))
        #expect(
            e810.device == "Ethernet Controller E810-XXV for SFP" && e810.vendor == "Intel Corporation" && e810.cls == "Ethernet controller"
        )
        let unknown = names.names(of: .init(vendor: 0x0002, device: 0x0001, classCode: 0x990000))
        #expect(unknown.vendor == nil && unknown.device == nil && unknown.cls == nil)
    }

    @Test func manifestNodesAndUnreadablePaths() throws {
        let fs = try HostFS(root: HostFixture.nonroot.path)
        let n = try #require(fs.node("/dev/vfio/noiommu-0").value)
        #expect(n.major == 243 && n.mode == 0o600 && !n.readable && !n.writable)
        #expect(fs.node("/dev/vfio/vfio").value?.usable == true)
        #expect(fs.node("/dev/vfio/7") == .absent)
        #expect(fs.read("/boot/config-6.12.95-vfiotest").text == .unreadable(.permissionDenied("/boot/config-6.12.95-vfiotest")))
        #expect(fs.nodes(in: "/dev/vfio").value?.map(\.path) == ["/dev/vfio/noiommu-0", "/dev/vfio/vfio"])
    }

    @Test func manifestRoundTrip() {
        let nodes = [
            DeviceNode(path: "/dev/vfio/vfio", major: 10, minor: 196, mode: 0o666, uid: 0, gid: 0, readable: true, writable: true),
            DeviceNode(path: "/dev/vfio/3", major: 243, minor: 1, mode: 0o600, uid: 0, gid: 0, readable: false, writable: false),
        ]
        let parsed = DeviceNodeManifest.parse(DeviceNodeManifest.render(nodes))
        #expect(parsed["/dev/vfio/vfio"] == nodes[0])
        #expect(parsed["/dev/vfio/3"] == nodes[1])
    }

    @Test func configSpaceThroughLibpci() throws {
        let r = try probe(.sriovPF, devices: ["0000:01:00.0"])
        let pf = try #require(r.host.devices[PCIAddress("0000:01:00.0")!])
        #expect(pf.configComplete)
        #expect(pf.headerType == 0)
        #expect(pf.expressType == 0)
        #expect(pf.capabilities.contains { $0.id == PCICapability.msix && $0.space == .normal })
        #expect(pf.capabilities.contains { $0.id == PCICapability.express && $0.space == .normal })
        // The extended space is read whole (the kernel clamps to the function's config size):
        // SR-IOV at 0x100, its header dword kept with the capability.
        let sriovCap = try #require(pf.capabilities.first { $0.space == .extended && $0.id == PCICapability.sriovExtended })
        #expect(sriovCap.offset == 0x100 && sriovCap.registers.count == PCICapability.registerBytes)
        #expect(sriovCap.dword(at: 0).map { $0 & 0xffff } == 0x10, "the extended capability header: id 0x10")
        #expect(sriovCap.word(at: PCICapability.registerBytes - 1) == nil, "nothing past the kept registers")
        #expect(pf.sriov == SRIOV(totalVFs: 64, numVFs: 2, vfs: [PCIAddress("0000:01:02.0")!, PCIAddress("0000:01:02.1")!]))
        #expect(pf.deviceName == "Ethernet Controller E810-XXV for SFP", "pci.ids name through libpci")
        let port = try #require(try probe(.sriovPF, devices: ["0000:00:01.0"]).host.devices[PCIAddress("0000:00:01.0")!])
        #expect(port.headerType == 1 && port.secondaryBus == 1 && port.expressType == 4)
    }

    /// The extended list is walked header by header (a few dwords, not 4 KiB of config
    /// cycles): the walk finds what libpci's own walk of the whole space finds, on every
    /// fixture function, and ends on a loop, a zero header or a pointer into the first 256 bytes.
    @Test func extendedCapabilitiesMatchLibpci() throws {
        let pci = PCIConfigReader(root: "/")
        var compared = 0
        for fixture in HostFixture.allCases {
            let dir = fixture.path + "/sys/bus/pci/devices"
            for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] {
                guard let a = PCIAddress(name), let data = FileManager.default.contents(atPath: "\(dir)/\(name)/config"),
                    data.count == 4096
                else { continue }
                let bytes = [UInt8](data)
                let libpci = try pci.decode(a, config: bytes).get().capabilities.filter { $0.space == .extended }
                let walked = PCIConfigReader.extendedCapabilities { o, n in Array(bytes[o..<min(o + n, bytes.count)]) }
                #expect(walked == libpci, "\(fixture) \(name)")
                compared += libpci.count
            }
        }
        #expect(compared > 0, "some fixture function has extended capabilities")
        func walk(_ patch: (inout [UInt8]) -> Void) -> [PCICapability] {
            var b = [UInt8](repeating: 0, count: 4096)
            patch(&b)
            return PCIConfigReader.extendedCapabilities { o, n in Array(b[o..<min(o + n, b.count)]) }
        }
        let loop = walk { b in
            b[0x100] = 0x0d; b[0x101] = 0; b[0x102] = 0x01; b[0x103] = 0x10
        }  // next = 0x100: itself
        #expect(loop.map(\.offset) == [0x100])
        let intoHeader = walk { b in
            b[0x100] = 0x0d; b[0x102] = 0x01; b[0x103] = 0x04
        }  // next = 0x40
        #expect(intoHeader.map(\.offset) == [0x100])
        #expect(walk { _ in }.isEmpty, "a zero header: no list")
    }

    /// A VF's config space reads ffff for its vendor and device: identity comes from uevent,
    /// the kernel's view, as lspci takes it from sysfs.
    @Test func identityIsTheKernelsView() throws {
        let r = try probe(.sriovPF, devices: ["0000:01:02.0"])
        let vf = try #require(r.host.devices[PCIAddress("0000:01:02.0")!])
        #expect(vf.vendorID == 0x8086 && vf.deviceID != 0xffff && vf.deviceName != nil)
        #expect(vf.driver == "vfio-pci" && vf.physfn == PCIAddress("0000:01:00.0"))
        let ue = PCIUevent(
            ArraySlice("DRIVER=iavf\nPCI_CLASS=20000\nPCI_ID=8086:1889\nPCI_SUBSYS_ID=8086:0001\nPCI_SLOT_NAME=0000:05:01.3\n".utf8))
        #expect(ue?.vendor == 0x8086 && ue?.device == 0x1889 && ue?.classCode == 0x020000 && ue?.driver == "iavf")
        #expect(ue?.subsystem?.device == 1)
        #expect(PCIUevent(ArraySlice("PCI_CLASS=20000\nPCI_SLOT_NAME=x\n".utf8)) == nil, "no PCI_ID")
        #expect(PCIUevent(ArraySlice("PCI_ID=8086:1889\nPCI_CLASS=20000\n".utf8))?.driver == nil, "unbound")
    }

    @Test func brokenDeviceIsAProblemNotACrash() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let dev = dir + "/sys/devices/pci0000:00/0000:00:05.0"
        try FileManager.default.createDirectory(atPath: dev, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir + "/sys/bus/pci/devices", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir + "/proc", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            atPath: dir + "/sys/bus/pci/devices/0000:00:05.0", withDestinationPath: "../../../devices/pci0000:00/0000:00:05.0")
        try "0x8086\n".write(toFile: dev + "/vendor", atomically: true, encoding: .utf8)  // no device, class or config
        var o = Pipeline.Options()
        o.root = dir
        let r = try Pipeline.run(o)
        #expect(r.host.devices.isEmpty)
        #expect(r.host.readProblems.contains { $0.contains("0000:00:05.0") })
        #expect(r.verdict.statedMode == nil && r.verdict.exitCode == 1, "an empty tree decides nothing: whether no-IOMMU exists is unknown")
    }
}
