import Testing

@testable import ProbeCore

/// Confidential computing (issue 16, part 6): SEV-SNP needs a translating IOMMU
/// (iommu_snp_enable, drivers/iommu/amd/init.c); hosts without CC capability hear nothing.
@Suite struct ConfidentialComputingTests {
    @Test func silentWithoutCapability() throws {
        for fixture in [HostFixture.intelVFIOReady, .amdHost] {
            let r = try probe(fixture, only: ["platform.confidential-computing"])
            #expect(r.findings.isEmpty, "\(fixture): \(r.findings.map(\.summary))")
        }
    }

    @Test func snpWithATranslatingIOMMUPasses() throws {
        let r = try probe(.sevSNPReady, only: ["platform.confidential-computing"])
        let f = try #require(r.findings.first)
        #expect(f.status == .pass && f.summary.hasPrefix("SEV-SNP is enabled (kvm_amd sev_snp=Y) with a translating IOMMU"))
        #expect(r.host.confidential.cpuFlags == ["sev", "sev_es", "sev_snp"])
    }

    /// iommu_snp_enable: "if (no_iommu || iommu_default_passthrough())" turns host SNP off.
    @Test func passthroughOnAnSNPHostWarns() throws {
        let r = try probe(.sevSNPPassthrough, only: ["platform.confidential-computing"])
        let f = try #require(r.findings.first)
        #expect(f.status == .warn && f.impacts.isEmpty)
        #expect(f.summary.contains("the IOMMU is in passthrough") && f.summary.contains("kvm_amd offers no SNP"))
        #expect(
            f.remedy
                == "Drop iommu=pt from the kernel command line (VFIO never needed it) and reboot, as drivers/iommu/amd/init.c requires for SEV-SNP."
        )
    }

    /// Without the kernel's own line, the command line says it (iommu_setup: iommu=pt; the last word wins).
    @Test func passthroughFromTheCommandLine() throws {
        let base = try probe(.sevSNPPassthrough, only: ["platform.confidential-computing"]).host
        let h = base.with { $0.kernelLog = .absent }
        let f = try #require(ConfidentialComputingCheck.evaluate(CheckContext(host: h)).first)
        #expect(f.status == .warn && f.summary.contains("the command line has iommu=pt"))
        let nopt = base.with {
            $0.kernelLog = .absent
            $0.kernel.cmdline = .value(KernelCommandLine("iommu=pt iommu.passthrough=0"))
        }
        #expect(ConfidentialComputingCheck.passthrough(nopt)?.on == false, "iommu.passthrough=0 after iommu=pt translates")
    }

    /// A guest's CC flags are its own confidentiality, not a host's capability.
    @Test func guestsAreSilent() throws {
        let h = try probe(.sevSNPPassthrough, only: ["platform.confidential-computing"]).host.with { $0.platform.hypervisorFlag = true }
        #expect(ConfidentialComputingCheck.evaluate(CheckContext(host: h)).isEmpty)
    }

    @Test func tdxHostNamesIommufd() throws {
        let h = try probe(.intelVFIOReady, only: ["platform.confidential-computing"]).host.with {
            $0.confidential = ConfidentialComputing(cpuFlags: ["tdx_host_platform"], kvmIntelTDX: "Y")
        }
        let f = try #require(ConfidentialComputingCheck.evaluate(CheckContext(host: h)).first)
        #expect(f.status == .info && f.summary.contains("TDX host platform; kvm_intel tdx=Y") && f.summary.contains("/dev/iommu is there"))
    }
}
