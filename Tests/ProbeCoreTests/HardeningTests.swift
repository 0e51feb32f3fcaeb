import Foundation
import Testing
@testable import ProbeCore

/// The attacks of the hardening review, performed: each is refused or contained.
struct HardeningTests {
    func cleanUp(_ root: String) { try? FileManager.default.removeItem(atPath: (root as NSString).deletingLastPathComponent) }

    /// An escape sequence in a uevent and "\r\n" in a kernel release: the terminal shows them as
    /// \xNN, and neither the Prometheus nor the NFD file gains a line.
    @Test func controlCharactersAreEscaped() throws {
        let t = try scratchFixture("intel-vfio-ready") { root in
            let ue = root + "/sys/devices/pci0000:00/0000:00:01.0/0000:01:00.1/uevent"
            let text = try String(contentsOfFile: ue, encoding: .utf8)
                .replacingOccurrences(of: "DRIVER=i40e", with: "DRIVER=i40e\u{1b}[2J\u{1b}[HVerdict: VFIO -- all good\u{9b}1m")
            try text.write(toFile: ue, atomically: true, encoding: .utf8)
            try "6.12.95\r\nvfio_probe_mode 3\n".write(toFile: root + "/proc/sys/kernel/osrelease", atomically: true, encoding: .utf8)
        }
        defer { cleanUp(t) }
        let text = try runBinary(["--root", t, "--color", "never"]).stdout
        #expect(!text.unicodeScalars.contains { $0.value == 0x1b || $0.value == 0x9b || $0.value == 0x0d })
        #expect(text.contains("i40e\\x1b[2J\\x1b[HVerdict: VFIO -- all good\\xc2\\x9b1m"))
        let prom = try runBinary(["--root", t, "--format", "prometheus"]).stdout
        #expect(!prom.unicodeScalars.contains { $0.value == 0x0d })
        #expect(prom.split(separator: "\n").filter { $0.hasPrefix("vfio_probe_mode ") }.count == 1, "no injected sample")
        let lines = prom.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.allSatisfy { $0.isEmpty || $0.hasPrefix("#") || $0.hasPrefix("vfio_probe_") })
        let nfd = try runBinary(["--root", t, "--format", "nfd"]).stdout
        #expect(nfd.split(separator: "\n").allSatisfy { $0.hasPrefix("#") || $0.hasPrefix("vfio.") })
    }

    @Test func escapingOverScalars() {
        #expect(Escaping.terminal("a\r\nb") == "a\\x0d\\x0ab")
        #expect(Escaping.prometheusLabel("x\r\ny\"z\\") == "x\\\\x0d\\ny\\\"z\\\\")
        #expect(Escaping.oneLine("a\r\nb\u{7f}") == "a??b?")
    }
}

/// What runs unattended resets nothing: only a --device run opens devices by default.
struct LivePolicyTests {
    @Test func onlyADeviceRunOpensDevices() throws {
        var o = Probe.Options()
        #expect(!o.opensDevices, "a whole-host run (and every timer or fleet run) resets nothing")
        o.devices = [PCIAddress("0000:01:00.0")!]
        #expect(o.opensDevices)
        o.deviceOpen = false
        #expect(!o.opensDevices)
        o.devices = []
        o.deviceOpen = true
        #expect(o.opensDevices)
        #expect(try runBinary(["--device-open", "--no-device-open"]).status == 64)
    }

    /// Another vfio-probe run holding the group is "busy: retry", not an action.
    @Test func anotherProbeIsBusyNotAHolderToStop() throws {
        var walk = LiveWalk(kind: .type1, steps: [LiveStep("open /dev/vfio/vfio", .ok), LiveStep("open /dev/vfio/10", .failed(16))])
        walk.facts.holders = ["pid 77 (vfio-probe)"]
        let host = HostReader(fs: try HostFS(root: Repo.fixture("intel-vfio-ready")), lookUpNames: false).read(scope: .all)
        let diag = try #require(LiveDiagnosis.of(walk, device: host.device(PCIAddress("0000:01:00.0")!), host: host))
        #expect(diag.impacts.allSatisfy { $0.kind == .undecided })
        #expect(!diag.impacts.flatMap(\.actions).contains { $0.hasPrefix("stop") })
    }
}
