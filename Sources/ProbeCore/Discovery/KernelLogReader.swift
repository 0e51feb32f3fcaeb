extension HostReader {
    /// The kernel's log, through HostFS (bounded, never waiting), and kernel.dmesg_restrict,
    /// which says who may read it.
    func readKernelLog() -> (log: Reading<KernelLog>, dmesgRestrict: Reading<Int>) {
        let log = fs.kernelLog().map { KernelLog(parsing: $0) }
        return (log, fs.read("/proc/sys/kernel/dmesg_restrict").text.map { Int($0) ?? -1 })
    }

    /// The host's confidential-computing flags and KVM's switches for them.
    func readConfidentialComputing() -> ConfidentialComputing {
        var cc = ConfidentialComputing()
        if let text = fs.read("/proc/cpuinfo", limit: 64 << 10).text.value,
            let flags = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") })
        {
            cc.cpuFlags = Set(flags.split(separator: " ").map(String.init).filter { ConfidentialComputing.watchedFlags.contains($0) })
        }
        for p in ["sev", "sev_es", "sev_snp"] {
            if let v = fs.read("/sys/module/kvm_amd/parameters/\(p)").text.value { cc.kvmAMD[p] = v }
        }
        cc.kvmIntelTDX = fs.read("/sys/module/kvm_intel/parameters/tdx").text.value
        return cc
    }
}
