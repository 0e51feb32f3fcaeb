/// Is an IOMMU described by the ACPI tables?
public struct IOMMUTableCheck: Check {
    public static let descriptor = CheckDescriptor(
        id: "firmware.iommu-table",
        title: "Firmware describes an IOMMU",
        category: .firmware,
        rationale:
            "An IOMMU begins in ACPI: DMAR (Intel VT-d), IVRS (AMD-Vi), IORT (Arm SMMU) or VIOT (virtio-iommu). Without one the kernel finds no IOMMU and only the unsafe no-IOMMU mode remains.",
        remedy:
            "Enable the IOMMU in the firmware setup (Intel VT-d, AMD-Vi/\"IOMMU\"); in a VM, give the guest a vIOMMU (QEMU: -machine q35,kernel-irqchip=split -device intel-iommu,intremap=on).",
        looksAt: ["/sys/firmware/acpi/tables (listing)"],
        examples: [
            .pass("intel-vfio-ready"), .pass("amd-host"), .pass("intel-iommu-off"), .fail("noiommu-enabled", remedy: qemuRemedy),
            .fail("hyperv-guest", remedy: hyperVRemedy), .skip("container"),
            .fail(
                "microvm-guest",
                remedy:
                    "under Cloud Hypervisor, start the VM with --platform iommu_segments=[0] (virtio-iommu: VFIO without interrupt isolation); Firecracker offers no vIOMMU at all: run the userspace driver on the host"
            ),
        ])

    public static func evaluate(_ context: CheckContext) -> [Finding] {
        let host = context.host
        let dir = "/sys/firmware/acpi/tables"
        switch host.firmware.present {
        case .unreadable(let why):
            return [skipped(why.description)]
        case .absent:
            return [skipped("\(dir) does not exist (a container without /sys/firmware, or a platform without ACPI)")]
        case .value(let sigs):
            if !sigs.isEmpty {
                let names = sigs.map { "\($0) (\(name($0)))" }.joined(separator: ", ")
                return [finding(.pass, "\(names) present", evidence: [Evidence(dir, sigs.joined(separator: " "))])]
            }
            if host.iommuActive == true {
                return [finding(.info, "no DMAR, IVRS, IORT or VIOT table, but the kernel registered an IOMMU")]
            }
            let remedy = host.vIOMMURemedy ?? descriptor.remedy
            return [
                finding(
                    .fail, "no DMAR, IVRS, IORT or VIOT table: firmware describes no IOMMU", remedy: remedy,
                    evidence: [Evidence(dir, "no IOMMU table")],
                    impacts: Impact.blocks(
                        Mode.iommuBacked, "the firmware describes no IOMMU (no DMAR/IVRS/IORT/VIOT table)", fix: [remedy]))
            ]
        }
    }

    static let qemuRemedy =
        "give the guest a vIOMMU: QEMU -machine q35,kernel-irqchip=split -device intel-iommu,intremap=on (libvirt: <iommu model=\"intel\"><driver intremap=\"on\"/></iommu>)"
    static let hyperVRemedy =
        "Hyper-V offers no virtual IOMMU to its guests: safe VFIO is impossible here; use no-IOMMU mode (unsafe) or another hypervisor."

    static func name(_ sig: String) -> String {
        switch sig {
        case "DMAR": "Intel VT-d"
        case "IVRS": "AMD-Vi"
        case "IORT": "Arm SMMU"
        case "VIOT": "virtio-iommu"
        default: sig
        }
    }
}
