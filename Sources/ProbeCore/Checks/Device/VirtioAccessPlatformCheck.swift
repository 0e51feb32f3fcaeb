/// virtio devices that bypass the IOMMU.
public struct VirtioAccessPlatformCheck: Check {
    public static let descriptor = CheckDescriptor(
        id: "device.virtio-access-platform",
        title: "virtio device honours the IOMMU",
        category: .device,
        rationale:
            "A virtio device that did not negotiate VIRTIO_F_ACCESS_PLATFORM (feature bit 33) ignores the IOMMU and DMAs to guest-physical addresses. Given to userspace through VFIO it would write to the wrong memory.",
        remedy:
            "Start the device with the IOMMU platform feature: QEMU -device virtio-net-pci,iommu_platform=on,disable-legacy=on (likewise virtio-blk-pci).",
        looksAt: ["/sys/bus/pci/devices/BDF/virtioN/features (bit 33)"],
        examples: [.fail("virtio-no-access-platform", device: "0000:00:03.0"), .pass("virtio-no-access-platform", device: "0000:00:04.0")])

    public static func evaluate(_ context: CheckContext) -> [Finding] {
        let host = context.host
        return host.selectedDevices.compactMap { d -> Finding? in
            // virtio-pci functions (transitional 0x1000-0x103f, modern 0x1040-0x107f), except the
            // virtio-iommu (0x1057), which is the IOMMU rather than behind it.
            guard d.vendorID == 0x1af4, d.deviceID >= 0x1000, d.deviceID <= 0x107f, d.deviceID != 0x1057 else { return nil }
            let s = Subject.device(d.address)
            // Behind an IOMMU, unread features leave the device unproven: a walk that goes
            // through cannot show where its DMA goes.
            func unproven(_ why: String) -> Finding {
                var f = skipped(s, why)
                if host.iommuActive != false {
                    f.impacts = Impact.undecided(
                        Mode.iommuBacked,
                        "\(d.bdf) is a virtio device whose VIRTIO_F_ACCESS_PLATFORM cannot be read (\(why)): its DMA may bypass the IOMMU",
                        [
                            "bind \(d.bdf) to virtio-pci once and run vfio-probe again, or make sure the VMM starts it with iommu_platform=on"
                        ],
                        liveCanLift: false)
                }
                return f
            }
            guard let v = d.virtio.first else {
                return unproven("the negotiated virtio features are visible only while a virtio driver is bound")
            }
            let path = "/sys/bus/pci/devices/\(d.bdf)/\(v.name)/features"
            switch v.hasAccessPlatform {
            case nil:
                return unproven(v.features.value == nil ? "\(path) is unreadable" : "\(path) is too short")
            case true?:
                return finding(
                    .pass, s, "\(v.name) negotiated VIRTIO_F_ACCESS_PLATFORM: its DMA goes through the IOMMU",
                    evidence: [Evidence(path, "bit 33 = 1")])
            case false?:
                let active = host.iommuActive == true
                return finding(
                    active ? .fail : .info, s, "\(v.name) did not negotiate VIRTIO_F_ACCESS_PLATFORM: it bypasses the IOMMU",
                    remedy: active ? nil : "Nothing to do without an IOMMU; with one, start the device with iommu_platform=on.",
                    evidence: [Evidence(path, "bit 33 = 0")],
                    impacts: active
                        ? Impact.blocks(
                            Mode.iommuBacked, "\(d.bdf) (\(v.name)) bypasses the IOMMU: no VIRTIO_F_ACCESS_PLATFORM",
                            fix: [descriptor.remedy], liveCanLift: false) : [])
            }
        }
    }
}
