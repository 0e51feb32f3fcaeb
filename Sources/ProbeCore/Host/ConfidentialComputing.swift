/// What the host offers for confidential guests: the CPU's flags (/proc/cpuinfo, as
/// arch/x86/include/asm/cpufeatures.h names them) and KVM's switches for them.
public struct ConfidentialComputing: Sendable, Equatable {
    /// The confidential-computing flags /proc/cpuinfo shows: "sev", "sev_es", "sev_snp"
    /// (X86_FEATURE_SEV, _SEV_ES, _SEV_SNP) and "tdx_host_platform" (X86_FEATURE_TDX_HOST_PLATFORM).
    public var cpuFlags: Set<String>
    /// kvm_amd's parameters sev, sev_es and sev_snp ("Y"/"N", "1"/"0" on old kernels), those present.
    public var kvmAMD: [String: String]
    /// kvm_intel's tdx parameter, where the kernel has it.
    public var kvmIntelTDX: String?

    public static let watchedFlags: Set<String> = ["sev", "sev_es", "sev_snp", "tdx_host_platform"]

    public init(cpuFlags: Set<String> = [], kvmAMD: [String: String] = [:], kvmIntelTDX: String? = nil) {
        self.cpuFlags = cpuFlags
        self.kvmAMD = kvmAMD
        self.kvmIntelTDX = kvmIntelTDX
    }

    /// Whether a bool module parameter reads on ("Y", or "1" for the int parameters of old kernels).
    public static func isOn(_ value: String?) -> Bool { value == "Y" || value == "1" }

    public var snpCapable: Bool { cpuFlags.contains("sev_snp") }
    public var tdxCapable: Bool { cpuFlags.contains("tdx_host_platform") }
    public var hasCapability: Bool {
        !cpuFlags.isEmpty || kvmAMD.values.contains(where: ConfidentialComputing.isOn) || ConfidentialComputing.isOn(kvmIntelTDX)
    }
}
