/// Can the unsafe no-IOMMU mode be used?
public struct NoIOMMUAvailableCheck: Check {
    public static let descriptor = CheckDescriptor(
        id: "noiommu.available",
        title: "No-IOMMU mode",
        category: .noiommu,
        rationale:
            "Without an IOMMU, VFIO can still hand devices to userspace in no-IOMMU mode: no DMA isolation at all, the kernel is tainted, and the application must program physical addresses. It exists only when the kernel is built with CONFIG_VFIO_NOIOMMU (Debian's kernels are not) and is off until enable_unsafe_noiommu_mode is set.",
        remedy:
            "echo 1 > /sys/module/vfio/parameters/enable_unsafe_noiommu_mode (or vfio.enable_unsafe_noiommu_mode=1 on the command line); needs a kernel with CONFIG_VFIO_NOIOMMU=y.",
        looksAt: ["/sys/module/vfio/parameters/enable_unsafe_noiommu_mode", "CONFIG_VFIO_NOIOMMU"],
        examples: [
            .warn(
                "noiommu-enabled",
                remedy: "Use a host with an IOMMU for untrusted workloads; no-IOMMU mode trusts the application with all memory."),
            .fail("noiommu-not-compiled", remedy: "Enable the IOMMU, or use a kernel built with CONFIG_VFIO_NOIOMMU=y."),
            .info("intel-vfio-ready"),
            .warn("intel-iommu-off", remedy: "\(Actions.enableNoIOMMU)  # unsafe: no isolation, taints the kernel"),
        ])

    public static func evaluate(_ context: CheckContext) -> [Finding] {
        let host = context.host
        let param = "/sys/module/vfio/parameters/enable_unsafe_noiommu_mode"
        let needed = host.iommuActive != true
        switch host.noIOMMUCompiledIn {
        case nil:
            // Unknown is neither available nor unavailable: the verdict never grants a mode on a guess.
            let unknown = Impact.undecided(
                .noiommu, "cannot tell whether the kernel has no-IOMMU mode (CONFIG_VFIO_NOIOMMU)",
                ["run vfio-probe as root, or make the kernel configuration readable (/proc/config.gz or /boot/config-RELEASE)"])
            var f: Finding
            if case .unreadable(let why) = host.modules.parameter("vfio", "enable_unsafe_noiommu_mode") {
                f = skipped(why.description)
            } else {
                f = skipped("vfio is not loaded and no kernel configuration says whether CONFIG_VFIO_NOIOMMU is set")
            }
            f.impacts = [unknown]
            return [f]
        case false:
            let fix = "use a kernel built with CONFIG_VFIO_NOIOMMU=y"
            return [
                finding(
                    needed ? .fail : .info, "the kernel is built without no-IOMMU mode (CONFIG_VFIO_NOIOMMU)",
                    remedy: needed ? "Enable the IOMMU, or \(fix)." : nil,
                    evidence: [Evidence(param, "missing")],
                    impacts: [.blocks(.noiommu, "the kernel is built without CONFIG_VFIO_NOIOMMU", fix: [fix])])
            ]
        case true?:
            if host.noIOMMUEnabled == true {
                return [
                    finding(
                        needed ? .warn : .info,
                        needed
                            ? "no-IOMMU mode is on: devices without an IOMMU group can be used, with no DMA isolation"
                            : "no-IOMMU mode is on, though an IOMMU is active (it applies only to devices outside every group)",
                        remedy: needed
                            ? "Use a host with an IOMMU for untrusted workloads; no-IOMMU mode trusts the application with all memory."
                            : nil,
                        evidence: [Evidence(param, "Y")])
                ]
            }
            let loaded = host.modules.state("vfio").isPresent
            let action = loaded ? Actions.enableNoIOMMU : "modprobe vfio enable_unsafe_noiommu_mode=1"
            let who = host.process.isRoot == true ? "" : " (as root)"
            return [
                finding(
                    needed ? .warn : .info, "no-IOMMU mode is built in but off; it can be turned on at run time\(who)",
                    detail:
                        "It gives userspace DMA to all memory; binding a device in this mode taints the kernel (TAINT_USER, when VFIO makes its vfio-noiommu group).",
                    remedy: needed ? "\(action)  # unsafe: no isolation, taints the kernel" : nil,
                    evidence: [Evidence(param, loaded ? "N" : "(vfio not loaded; CONFIG_VFIO_NOIOMMU=y)")],
                    impacts: [
                        .requires(
                            .noiommu, "no-IOMMU mode is off (turning it on removes all DMA isolation and taints the kernel)", [action])
                    ])
            ]
        }
    }
}
