import Foundation
import Testing

@testable import ProbeCore

/// The devices the host cannot give away (issue 15, part 3): its disks, routes and console, and
/// the chipset.
@Suite struct HostUseTests {
    let rootDisk = PCIAddress("0000:01:00.0")!
    let routedNIC = PCIAddress("0000:02:00.0")!
    let bootVGA = PCIAddress("0000:00:02.0")!
    let ahci = PCIAddress("0000:03:00.0")!
    let ahciMate = PCIAddress("0000:03:00.1")!
    let freeNIC = PCIAddress("0000:05:00.0")!
    let swapDisk = PCIAddress("0000:06:00.0")!
    let v6NIC = PCIAddress("0000:07:00.0")!

    /// proc(5): mountinfo's fields, the optional fields before "-", and octal escapes.
    @Test func mountinfoLines() throws {
        let m = try #require(MountInfoLine("28 26 253:0 / /srv/data\\040set rw,relatime shared:30 master:2 - xfs /dev/mapper/vg-srv rw"))
        #expect(m.major == 253 && m.minor == 0)
        #expect(m.mountPoint == "/srv/data set")
        #expect(m.fsType == "xfs" && m.source == "/dev/mapper/vg-srv")
        // A mount point named "-" is field 4, not the separator.
        let dash = try #require(MountInfoLine("30 26 8:1 / /- rw - ext4 /dev/sda1 rw"))
        #expect(dash.mountPoint == "/-")
        #expect(MountInfoLine("30 26 8:1 / /x rw ext4 /dev/sda1 rw") == nil, "no separator: not a line")
        #expect(MountInfoLine("garbage") == nil)
    }

    /// /proc/net/route (fib_route_seq_show): a default route has destination and mask 0 and
    /// RTF_UP; ipv6_route's kernel-made unreachable ::/0 on lo (RTF_REJECT) is none.
    @Test func routes() {
        let v4 = NetRoutes.ipv4(
            "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
                + "eth0\t00000000\t0102A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
                + "eth1\t0002A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0\n"
                + "eth2\t00000000\t0102A8C0\t0002\t0\t0\t100\t00000000\t0\t0\t0\n")
        #expect(v4.map(\.interface) == ["eth0", "eth1"], "a route without RTF_UP carries nothing")
        #expect(v4.map(\.isDefault) == [true, false])
        let v6 = NetRoutes.ipv6Defaults(
            "00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo\n"
                + "00000000000000000000000000000000 00 00000000000000000000000000000000 00 fe800000000000000000000000000001 00000400 00000001 00000000 00450003     eth3\n"
        )
        #expect(v6 == ["eth3"])
        let global = NetRoutes.ipv6Global(
            "00000000000000000000000000000001 01 80 10 80       lo\n" + "fe800000000000000000000000000007 03 40 20 80     eth4\n"
                + "20010db8000000000000000000000007 03 40 00 00     eth5\n")
        #expect(global == ["eth5"], "link-local (0x20) and host (0x10) scopes are on every interface")
    }

    /// /proc/iomem nests a framebuffer's request_mem_region under the BAR it lies in.
    @Test func framebuffersInBARs() {
        let fbs = IOMem.framebuffers(
            "00000000-00000fff : Reserved\n" + "80000000-8fffffff : PCI Bus 0000:00\n" + "  80000000-8fffffff : 0000:00:02.0\n"
                + "    80000000-802fffff : BOOTFB\n" + "  90000000-90ffffff : 0000:00:03.0\n" + "a0000000-a0ffffff : efifb\n")
        #expect(fbs == [PCIAddress("0000:00:02.0")!: ["BOOTFB"]], "a framebuffer outside every BAR names no function")
    }

    @Test func theHostsDevicesAreFound() throws {
        let host = try probe(.hostInUse).host
        #expect(host.use.roles[rootDisk] == [.mounts(block: "nvme0n1p1", points: ["/boot"]), .mounts(block: "nvme0n1p2", points: ["/"])])
        #expect(host.use.roles[routedNIC] == [.defaultRoute(interface: "eno1")])
        #expect(host.use.roles[bootVGA] == [.framebuffer(name: "efifb")])
        #expect(host.devices[bootVGA]?.bootVGA == true)
        // /srv/data on dm-0 → md0 → sda1 and sdb1, both on the AHCI.
        #expect(
            host.use.roles[ahci] == [.mounts(block: "sda1", points: ["/srv/data set"]), .mounts(block: "sdb1", points: ["/srv/data set"])])
        #expect(host.use.roles[swapDisk] == [.swap(block: "nvme1n1p1")])
        #expect(host.use.roles[v6NIC] == [.active(interface: "eno2")])
        #expect(host.use.roles[freeNIC] == nil)
        #expect(host.use.interfaces[routedNIC] == ["eno1"] && host.use.disks[ahci] == ["sda", "sdb"])
        #expect(host.use.problems.isEmpty)
    }

    /// On a whole-host run, each is blocked with its reason and offers no action; the free NIC
    /// stays ready.
    @Test func wholeHostBlocksThem() throws {
        let v = try probe(.hostInUse).verdict
        func dv(_ a: PCIAddress) throws -> DeviceVerdict { try #require(v.devices.first { $0.address == a }) }
        for a in [rootDisk, routedNIC, bootVGA, ahci, ahciMate, swapDisk, v6NIC] {
            let d = try dv(a)
            #expect(d.readiness == .blocked && d.mode == .unusable, "\(a)")
            #expect(!d.actions.contains { $0.contains("unbind") || $0.contains("driver_override") }, "\(a): no routine unbind")
        }
        #expect(try dv(rootDisk).reasons.contains { $0.contains("holds / and /boot (nvme0n1p2, nvme0n1p1)") })
        #expect(try dv(routedNIC).reasons.contains { $0.contains("carries the default route (eno1)") })
        #expect(try dv(ahciMate).reasons.contains { $0.contains("shares IOMMU group 23 with 0000:03:00.0, which holds /srv/data set") })
        #expect(try dv(freeNIC).readiness == .ready)
        let text = try runBinary(["--root", HostFixture.hostInUse.path, "--no-live", "--color", "never", "--wide"]).stdout
        #expect(text.contains("[nvme]  nvme0n1  *in use by the host*  group 20"))
        #expect(text.contains("[igb]  eno1  *in use by the host*"))
    }

    /// Named with --device, the consequence is shown and the user may go on: bindable, with the
    /// reason saying what the host loses.
    @Test func namingItShowsTheConsequence() throws {
        let r = try probe(.hostInUse, devices: ["0000:01:00.0"])
        let d = try #require(r.verdict.devices.first)
        #expect(d.readiness == .bindable)
        #expect(d.reasons.contains { $0.contains("holds / and /boot") && $0.contains("takes that away from the host") })
        #expect(r.findings.contains { $0.checkID == "device.host-use" && $0.status == .warn })
        // The group mate alone stays blocked: the disk it takes along was not named.
        let mate = try probe(.hostInUse, devices: ["0000:03:00.1"]).verdict.devices.first
        #expect(mate?.readiness == .blocked)
        let both = try probe(.hostInUse, devices: ["0000:03:00.0", "0000:03:00.1"]).verdict.devices
        #expect(both.allSatisfy { $0.readiness == .bindable })
    }

    /// Chipset functions are listed, never bindable, and not counted by NFD; an endpoint
    /// whose group holds one on its own driver cannot be given away either (VFIO takes the
    /// group whole; since 5.19 the member must be on a driver_managed_dma driver).
    @Test func chipsetFunctionsAreNotCandidates() throws {
        let r = try probe(.intelVFIOReady)
        func dv(_ s: String) -> DeviceVerdict? { r.verdict.devices.first { $0.address == PCIAddress(s) } }
        #expect(dv("0000:00:00.0")?.readiness == .blocked, "host bridge")
        #expect(dv("0000:00:1f.0")?.readiness == .blocked, "LPC")
        #expect(dv("0000:00:1f.2")?.readiness == .blocked, "AHCI in the LPC's group")
        #expect(
            dv("0000:00:1f.2")?.reasons.contains {
                $0.contains("shares IOMMU group 12 with the chipset (0000:00:1f.0 (ISA/LPC bridge, on lpc_ich))")
            } == true)
        let nfd = NFDReporter.render(r)
        #expect(nfd.contains("vfio.bindable-devices=1"), "only the second NIC port: \(nfd)")
    }

    /// Nothing read, nothing claimed: a tree without /proc/self/mountinfo says so in the
    /// evidence, and blocks nothing.
    @Test func unreadMountsAreSaid() throws {
        let r = try probe(.intelVFIOReady, devices: ["0000:01:00.1"])
        let f = try #require(r.findings.first { $0.checkID == "device.host-use" })
        #expect(f.status == .pass && f.summary.contains("as far as could be read"))
        #expect(f.evidence.contains { $0.value.contains("/proc/self/mountinfo: missing") })
    }
}
