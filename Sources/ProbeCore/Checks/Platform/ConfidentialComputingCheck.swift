/// Confidential guests and the IOMMU they need: SEV-SNP refuses a host IOMMU in passthrough,
/// TDX Connect and SEV-TIO assign devices through iommufd.
public struct ConfidentialComputingCheck: Check {
    public static let descriptor = CheckDescriptor(
        id: "platform.confidential-computing",
        title: "Confidential computing and the IOMMU",
        category: .platform,
        rationale:
            "A host that runs SEV-SNP guests needs its IOMMU on and translating: with iommu=pt (passthrough) the AMD-Vi driver turns host SNP off at boot (iommu_snp_enable: \"SNP: IOMMU disabled or configured in passthrough mode, SNP cannot be supported.\"), and kvm_amd offers no SNP. Trusted device assignment (TDX Connect, SEV-TIO) works through iommufd only. Silent on hosts without such a CPU.",
        remedy:
            "Drop iommu=pt and iommu.passthrough=1 from the kernel command line (VFIO never needed them) and reboot, as drivers/iommu/amd/init.c requires for SEV-SNP.",
        looksAt: [
            "/proc/cpuinfo (flags sev, sev_es, sev_snp, tdx_host_platform)", "/sys/module/kvm_amd/parameters/{sev,sev_es,sev_snp}",
            "/sys/module/kvm_intel/parameters/tdx", "/proc/cmdline (iommu=pt, iommu.passthrough)",
            "/sys/kernel/iommu_groups/*/type", "/dev/kmsg (iommu_snp_enable, iommu_subsys_init)",
        ],
        examples: [
            .pass("sev-snp-ready"),
            .warn(
                "sev-snp-passthrough",
                remedy:
                    "Drop iommu=pt from the kernel command line (VFIO never needed it) and reboot, as drivers/iommu/amd/init.c requires for SEV-SNP."
            ),
        ],
        decides: false)

    /// Whether host DMA defaults to passthrough, and what says so: the kernel's own line
    /// (iommu_subsys_init: "Default domain type: Passthrough"), else the command line as
    /// iommu_setup (iommu=pt / nopt) and iommu_set_def_domain_type (iommu.passthrough=) read
    /// it, else the groups' default domains.
    static func passthrough(_ host: Host) -> (on: Bool, why: String, parameter: String?)? {
        if let log = host.kernelLog.value,
            let r = log.records.last(where: { $0.message.contains("iommu: Default domain type:") })
        {
            let on = r.message.contains("Passthrough")
            return (on, "the kernel logged \"\(r.message)\"", on ? commandLinePassthrough(host)?.word : nil)
        }
        if let c = commandLinePassthrough(host) { return (c.on, "the command line has \(c.word)", c.on ? c.word : nil) }
        let types = host.groups.values.filter { $0.kind == .iommu }.compactMap { $0.type.value }
        if !types.isEmpty {
            let identity = types.filter { $0 == "identity" }.count
            let on = identity * 2 > types.count
            return (on, "\(identity) of \(types.count) IOMMU groups have an identity (passthrough) default domain", nil)
        }
        return nil
    }

    /// The last passthrough word of the command line: iommu=pt / iommu=nopt, iommu.passthrough=.
    static func commandLinePassthrough(_ host: Host) -> (on: Bool, word: String)? {
        guard let c = host.kernel.cmdline.value else { return nil }
        var found: (Bool, String)?
        for p in c.parameters {
            let name = KernelCommandLine.normalize(p.name)
            if name == "iommu", let v = p.value {
                for o in v.split(separator: ",") {
                    if o == "pt" { found = (true, "iommu=pt") }
                    if o == "nopt" { found = (false, "iommu=nopt") }
                }
            } else if name == "iommu.passthrough", let v = p.value {
                // kstrtobool
                let on = ["1", "y", "Y", "on"].contains(v)
                found = (on, "iommu.passthrough=\(v)")
            }
        }
        return found
    }

    public static func evaluate(_ context: CheckContext) -> [Finding] {
        let host = context.host
        let cc = host.confidential
        // A guest's flags describe its own confidentiality, not a host's: nothing to say.
        guard cc.hasCapability, host.platform.hypervisorFlag != true else { return [] }
        var ev: [Evidence] = [Evidence("/proc/cpuinfo", cc.cpuFlags.sorted().joined(separator: " ").ifEmpty("(no CC flag)"))]
        for (k, v) in cc.kvmAMD.sorted(by: { $0.key < $1.key }) { ev.append(Evidence("/sys/module/kvm_amd/parameters/\(k)", v)) }
        if let t = cc.kvmIntelTDX { ev.append(Evidence("/sys/module/kvm_intel/parameters/tdx", t)) }
        let iommufd = host.devNodes.iommufd.value != nil
        let tio =
            iommufd
            ? "/dev/iommu is there for trusted device assignment"
            : "trusted device assignment (TDX Connect, SEV-TIO) needs iommufd (/dev/iommu), which this host lacks"
        var out: [Finding] = []
        let snpLog = host.kernelLog.value?.records.last {
            $0.message.contains("AMD-Vi: SNP:") && $0.message.contains("cannot be supported")
        }
        if let r = snpLog { ev.append(Evidence("/dev/kmsg", r.message)) }
        if cc.snpCapable || ConfidentialComputing.isOn(cc.kvmAMD["sev_snp"]) {
            let pt = passthrough(host)
            let snpOn = ConfidentialComputing.isOn(cc.kvmAMD["sev_snp"])
            if let pt, pt.on {
                let drop =
                    pt.parameter.map { "Drop \($0) from the kernel command line (VFIO never needed it) and reboot" }
                    ?? "Boot with iommu.passthrough=0 (this kernel defaults to passthrough: CONFIG_IOMMU_DEFAULT_PASSTHROUGH)"
                out.append(
                    finding(
                        .warn,
                        "SEV-SNP-capable CPU, but the IOMMU is in passthrough (\(pt.why)): the kernel turns host SNP off (iommu_snp_enable)\(snpOn ? "" : ", and kvm_amd offers no SNP")",
                        remedy: drop + ", as drivers/iommu/amd/init.c requires for SEV-SNP.", evidence: ev))
            } else if let r = snpLog {
                out.append(
                    finding(
                        .warn, "SEV-SNP-capable CPU, but the IOMMU refused SNP: \(r.message)",
                        remedy: KernelLogMatcher.kinds.first { $0.id == "snp-iommu" }?.remedy, evidence: ev))
            } else if snpOn {
                out.append(
                    finding(
                        .pass,
                        "SEV-SNP is enabled (kvm_amd sev_snp=Y) with a translating IOMMU\(pt.map { " (\($0.why))" } ?? ""); \(tio)",
                        evidence: ev))
            } else {
                out.append(
                    finding(
                        .info,
                        "SEV-SNP-capable CPU; kvm_amd \(cc.kvmAMD["sev_snp"] == nil ? "is not loaded or has no sev_snp parameter" : "has sev_snp off") (the IOMMU does not stand in its way\(pt.map { ": \($0.why)" } ?? ""))",
                        evidence: ev))
            }
        } else if cc.cpuFlags.contains("sev") || cc.cpuFlags.contains("sev_es") {
            out.append(
                finding(
                    .info, "SEV\(cc.cpuFlags.contains("sev_es") ? "/SEV-ES" : "") CPU without SEV-SNP: no IOMMU requirement", evidence: ev))
        }
        if cc.tdxCapable || ConfidentialComputing.isOn(cc.kvmIntelTDX) {
            out.append(
                finding(
                    .info,
                    "TDX host platform\(cc.kvmIntelTDX.map { "; kvm_intel tdx=\($0)" } ?? ""): \(tio)", evidence: ev))
        }
        return out
    }
}
