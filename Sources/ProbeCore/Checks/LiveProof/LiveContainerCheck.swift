/// The legacy container, as the kernel answers it.
public struct LiveContainerCheck: Check {
    public static let descriptor = CheckDescriptor(
        id: "live.container",
        title: "The VFIO container answers",
        category: .live,
        rationale:
            "Every legacy VFIO user starts by opening /dev/vfio/vfio, checking VFIO_GET_API_VERSION and asking VFIO_CHECK_EXTENSION which IOMMU backends exist (TYPE1v2, TYPE1, sPAPR, NOIOMMU). This is the kernel's own answer, not sysfs's.",
        remedy: "modprobe vfio-pci; give the user access to /dev/vfio/vfio.",
        looksAt: ["open /dev/vfio/vfio", "VFIO_GET_API_VERSION", "VFIO_CHECK_EXTENSION"],
        examples: [
            .pass("intel-vfio-ready"),
            .fail(
                "intel-vfio-ready", at: .open(.container), .noSuchFileOrDirectory,
                remedy: "modprobe -a vfio-pci iommufd  # or, when /dev is not devtmpfs: mount -t devtmpfs devtmpfs /dev"),
            .info("amd-host", at: .open(.container), .noSuchFileOrDirectory),
        ])

    public static func evaluate(_ context: CheckContext) -> [Finding] {
        guard let live = context.live else { return [] }
        if let why = live.notRun { return [finding(.info, "the live ioctls did not run: \(why)")] }
        guard let walk = live.container else { return [] }
        // Without vfio loaded there is no node to open; vfio.modules already says why and what to do.
        if walk.failure?.id == .open(.container), walk.failure?.errno == .noSuchFileOrDirectory,
            !context.host.modules.state("vfio").isPresent
        {
            return [finding(.info, "no /dev/vfio/vfio to open: vfio is not loaded (see vfio.modules)", evidence: walk.evidence)]
        }
        if let diag = LiveDiagnosis.of(walk, device: nil, host: context.host) {
            // Without an IOMMU-backed or no-IOMMU device there is nothing to lose here but the container.
            return [finding(.fail, diag.cause, remedy: diag.remedy, evidence: walk.evidence, impacts: diag.impacts)]
        }
        let ext = walk.facts.extensions.filter(\.value).keys.sorted().joined(separator: ", ")
        // iommufd_vfio_check_extension answers TYPE1_NESTING with 0 where vfio_iommu_type1 says 1.
        let emulated =
            context.host.containerBackend == .iommufd
            || (walk.facts.extensions["TYPE1v2"] == true && walk.facts.extensions["TYPE1_NESTING"] == false
                && !context.host.modules.state("vfio_iommu_type1").isPresent)
        let provider =
            emulated
            ? "; /dev/vfio/vfio is iommufd's emulation (CONFIG_IOMMUFD_VFIO_CONTAINER): the device checks happen when a device is opened"
            : "; /dev/vfio/vfio is VFIO's container with vfio_iommu_type1"
        return [
            finding(
                .pass, "API version \(walk.facts.apiVersion ?? -1); extensions: \(ext.isEmpty ? "none" : ext)\(provider)",
                evidence: walk.evidence)
        ]
    }
}
