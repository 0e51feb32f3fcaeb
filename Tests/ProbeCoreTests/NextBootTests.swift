import Foundation
import Testing

@testable import ProbeCore

/// What the next boot will do (issue 16, part 5): the configured command lines against
/// /proc/cmdline, and the remedy in this host's own boot-loader tool.
@Suite struct NextBootTests {
    /// Every remedy that changes the command line names this host's own tool (grubby on the
    /// Fedora family and BLS hosts, kernel-install for /etc/kernel/cmdline, the family's GRUB
    /// regeneration otherwise), and the command forms parse as shell.
    @Test func kernelParameterRemediesUseTheHostsBootLoader() throws {
        let fedora = BootConfig(family: .fedora)
        #expect(
            Actions.kernelParameter(add: "intel_iommu=on", boot: fedora) == "grubby --update-kernel=ALL --args=\"intel_iommu=on\" && reboot"
        )
        #expect(
            Actions.kernelParameter(replace: "intel_iommu=off", with: "intel_iommu=on", boot: fedora)
                == "grubby --update-kernel=ALL --remove-args=\"intel_iommu=off\" --args=\"intel_iommu=on\" && reboot")
        #expect(Actions.kernelParameter(remove: "intremap=off", boot: BootConfig(family: .debian)).contains("run update-grub, and reboot"))
        #expect(
            Actions.kernelParameter(add: "iommu=pt", boot: BootConfig(family: .suse)).contains("grub2-mkconfig -o /boot/grub2/grub.cfg"))
        #expect(Actions.kernelParameter(add: "iommu=pt", boot: BootConfig(family: .arch)).contains("grub-mkconfig -o /boot/grub/grub.cfg"))
        let uki = BootConfig(
            family: .debian, sources: [.init(kind: .kernelCmdline, path: "/etc/kernel/cmdline", commandLine: KernelCommandLine("quiet"))])
        #expect(Actions.kernelParameter(add: "intel_iommu=on", boot: uki).contains("/etc/kernel/cmdline, run kernel-install add"))
        // Unknown: both GRUB regenerations named, nothing assumed.
        #expect(Actions.kernelParameter(add: "intel_iommu=on").contains("update-grub (or grub2-mkconfig -o /boot/grub2/grub.cfg)"))
        for c in [Actions.kernelParameter(add: "a=b", boot: fedora), Actions.kernelParameter(remove: "a=b", boot: fedora)] {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/sh")
            p.arguments = ["-n", "-c", c]
            try p.run()
            p.waitUntilExit()
            #expect(p.terminationStatus == 0, "sh -n: \(c)")
        }
        // On the fixtures: the Fedora host's remedies say grubby.
        let report = try probe(.nextBootFedora)
        #expect(report.host.boot.family == .fedora)
    }

    /// grub-mkconfig sources /etc/default/grub as shell: quotes removed, $VAR and ${VAR}
    /// expanded from what was assigned before, comments and other shell not run.
    @Test func grubDefaultsAreReadAsTheShellWould() {
        let sh = ShellAssignments(
            "# comment\nGRUB_CMDLINE_LINUX=\"quiet splash\"\nexport GRUB_X='a b'\nGRUB_CMDLINE_LINUX=\"$GRUB_CMDLINE_LINUX intel_iommu=on\"\n"
                + "GRUB_CMDLINE_LINUX_DEFAULT=${GRUB_X}x # trailing\nif true; then GRUB_EVIL=1; fi\nGRUB_TIMEOUT=5 # five\n")
        #expect(sh["GRUB_CMDLINE_LINUX"] == "quiet splash intel_iommu=on")
        #expect(sh["GRUB_X"] == "a b")
        #expect(sh["GRUB_CMDLINE_LINUX_DEFAULT"] == "a bx")
        #expect(sh["GRUB_TIMEOUT"] == "5")
        #expect(sh["GRUB_EVIL"] == nil, "a line that is not an assignment is not run")
        let later = ShellAssignments("GRUB_CMDLINE_LINUX=\"$GRUB_CMDLINE_LINUX iommu=pt\"", inheriting: sh.values)
        #expect(later["GRUB_CMDLINE_LINUX"] == "quiet splash intel_iommu=on iommu=pt", "grub.d files append to what came before")
    }

    /// os-release(5): ID, then ID_LIKE in order.
    @Test func familyFromOSRelease() {
        #expect(BootConfig.family(osRelease: "ID=ubuntu\nID_LIKE=debian\n") == .debian)
        #expect(BootConfig.family(osRelease: "ID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\n") == .fedora)
        #expect(BootConfig.family(osRelease: "ID=opensuse-tumbleweed\nID_LIKE=\"opensuse suse\"\n") == .suse)
        #expect(BootConfig.family(osRelease: "ID=alpine\n") == nil, "an unknown family gets no family's command")
    }

    /// The Boot Loader Specification: `options` lines join; `linux` names the kernel.
    @Test func blsEntries() {
        let e = BootConfig.blsEntry("title X\nlinux /vmlinuz-6.12\noptions root=/dev/sda1 ro\noptions intel_iommu=on\n")
        #expect(e.options == "root=/dev/sda1 ro intel_iommu=on" && e.linux == "/vmlinuz-6.12")
    }

    /// Only the IOMMU and VFIO parameters are compared, '-' and '_' alike (parse_args).
    @Test func watchedWords() {
        let w = NextBootCheck.words(KernelCommandLine("quiet vfio-pci.ids=8086:1572 intel_iommu=on,sm_on root=/dev/sda1 iommu=pt"))
        #expect(w == ["vfio_pci.ids=8086:1572", "intel_iommu=on,sm_on", "iommu=pt"])
    }

    @Test func configuredButNotInEffect() throws {
        let r = try probe(.nextBootDebian, only: ["kernel.next-boot"])
        let f = try #require(r.findings.first)
        #expect(f.status == .warn && f.summary.hasPrefix("iommu=pt is in /etc/default/grub but not in effect"))
        #expect(f.remedy == "update-grub && reboot", "Debian's own tool")
        #expect(f.impacts.isEmpty, "the next boot does not change what works now")
        #expect(r.host.boot.family == .debian && r.host.boot.sources.count == 1)
    }

    @Test func inEffectButAboutToDisappear() throws {
        let r = try probe(.nextBootFedora, only: ["kernel.next-boot"])
        let f = try #require(r.findings.first)
        #expect(f.summary.hasPrefix("iommu=pt is in effect but in no boot configuration read: the next boot drops it"))
        #expect(f.remedy == "grubby --update-kernel=ALL --args=\"iommu=pt\"", "Fedora's tool, never update-grub; no reboot needed")
        // The BLS entry of the running kernel only, not the older one's.
        #expect(r.host.boot.sources.map(\.path) == ["/etc/default/grub", "/boot/loader/entries/4c1f0a-6.12.95-vfiotest.conf"])
    }

    @Test func agreementPassesAndNoConfigurationIsSaid() throws {
        #expect(try probe(.intelVFIOReady, only: ["kernel.next-boot"]).findings.first?.status == .pass)
        let none = try #require(try probe(.amdHost, only: ["kernel.next-boot"]).findings.first)
        #expect(none.status == .info && none.summary.hasPrefix("no boot configuration found"))
    }

    /// systemd-boot and kernel-install: /etc/kernel/cmdline, applied by kernel-install.
    @Test func kernelInstallRemedy() {
        let s = BootConfig.Source(kind: .kernelCmdline, path: "/etc/kernel/cmdline", commandLine: KernelCommandLine("root=x ro"))
        #expect(
            NextBootCheck.apply(s, ["intel_iommu=on"], .arch, release: "6.12.1", persist: true)
                == "add intel_iommu=on to /etc/kernel/cmdline, then kernel-install add 6.12.1 /lib/modules/6.12.1/vmlinuz")
        #expect(
            NextBootCheck.apply(s, ["intel_iommu=on"], .debian, release: "6.12.1", persist: false)
                == "kernel-install add 6.12.1 /boot/vmlinuz-6.12.1 && reboot")
    }
}

/// The next initramfs: what the generator is configured to include (initramfs-tools' modules
/// file, dracut's add_drivers / force_drivers), and what that does to the next boot's binding.
struct InitramfsTests {
    @Test func generatorConfigurationsParse() {
        let m = InitramfsConfig.parseModulesFile(
            "# comment\nvfio_pci ids=10de:2236\n\n  vfio-iommu-type1 # type1\n", file: "/etc/initramfs-tools/modules")
        #expect(m.map(\.module) == ["vfio_pci", "vfio_iommu_type1"])
        #expect(m.allSatisfy { $0.loadedEarly })
        let d = InitramfsConfig.parseDracutConf(
            "add_drivers+=\" vfio vfio_iommu_type1 \"\nforce_drivers+=\"vfio-pci\"\n# drivers=\"x\"\nhostonly=\"yes\"\n",
            file: "/etc/dracut.conf.d/vfio.conf")
        #expect(d.map(\.module) == ["vfio", "vfio_iommu_type1", "vfio_pci"])
        #expect(d.map(\.loadedEarly) == [false, false, true])
    }

    @Test func theBootBindingSaysWhetherTheInitramfsHoldsVFIOPCI() throws {
        let r = try probe(.bootBinding, only: ["device.boot-binding"])
        #expect(r.host.modules.drivers.initramfs.generator == .initramfsTools)
        let f = try #require(r.findings.first { $0.subject == .device(PCIAddress("0000:66:00.0")!) })
        #expect(f.detail?.contains("vfio-pci is not in the next initramfs's configuration (initramfs-tools)") == true)
        #expect(f.remedy?.contains("(update-initramfs -u)") == true)
    }

    /// dracut modprobes force_drivers before udev triggers the devices (dracut.conf(5)): with
    /// vfio-pci's ids, vfio-pci then binds first.
    @Test func dracutForceDriversBindsFirst() throws {
        let host = try probe(.bootBinding, only: ["device.boot-binding"]).host.with {
            $0.modules.drivers.initramfs = InitramfsConfig(
                generator: .dracut, entries: [.init(module: "vfio_pci", loadedEarly: true, file: "/etc/dracut.conf.d/vfio.conf")])
        }
        let d = try #require(host.devices[PCIAddress("0000:66:00.0")!])
        let claim = BootBindingCheck.claim(d, BootBindingCheck.sources(d, host), host)
        guard case .binds("vfio-pci", let why) = claim else {
            Issue.record("claim \(claim)")
            return
        }
        #expect(why.contains("force_drivers in /etc/dracut.conf.d/vfio.conf"))
    }
}
