#ifndef VFIO_PROBE_UAPI_H
#define VFIO_PROBE_UAPI_H
/*
 * The VFIO and iommufd uapi structures vfio-probe uses, as Linux 6.12 defines them in
 * include/uapi/linux/vfio.h and iommufd.h. Written out here because distribution headers lag
 * (Debian bookworm's 6.1 headers have no iommufd.h and no VFIO_DEVICE_BIND_IOMMUFD); the sizes and
 * offsets are pinned by the static asserts below. Prefixed vp_ so they never clash with a system
 * header that does define them.
 */
#include <stddef.h>
#include <stdint.h>

/* All VFIO and iommufd ioctls are _IO(';', nr): no size in the request number. */
#define VP_VFIO_TYPE 0x3B
#define VP_IO(nr) ((unsigned long)((VP_VFIO_TYPE << 8) | (nr)))

enum {
    VP_VFIO_GET_API_VERSION = VP_IO(100),
    VP_VFIO_CHECK_EXTENSION = VP_IO(101),
    VP_VFIO_SET_IOMMU = VP_IO(102),
    VP_VFIO_GROUP_GET_STATUS = VP_IO(103),
    VP_VFIO_GROUP_SET_CONTAINER = VP_IO(104),
    VP_VFIO_GROUP_GET_DEVICE_FD = VP_IO(106),
    VP_VFIO_DEVICE_GET_INFO = VP_IO(107),
    VP_VFIO_DEVICE_GET_REGION_INFO = VP_IO(108),
    VP_VFIO_DEVICE_GET_IRQ_INFO = VP_IO(109),
    VP_VFIO_IOMMU_GET_INFO = VP_IO(112),
    /* The same number on a device fd (VFIO_BASE + 12): read-only, never a reset. */
    VP_VFIO_DEVICE_GET_PCI_HOT_RESET_INFO = VP_IO(112),
    VP_VFIO_IOMMU_MAP_DMA = VP_IO(113),
    VP_VFIO_IOMMU_UNMAP_DMA = VP_IO(114),
    VP_VFIO_DEVICE_BIND_IOMMUFD = VP_IO(118),
    VP_VFIO_DEVICE_ATTACH_IOMMUFD_PT = VP_IO(119),
    VP_IOMMU_DESTROY = VP_IO(0x80),
    VP_IOMMU_IOAS_ALLOC = VP_IO(0x81),
    VP_IOMMU_IOAS_IOVA_RANGES = VP_IO(0x84),
    VP_IOMMU_IOAS_MAP = VP_IO(0x85),
    VP_IOMMU_IOAS_UNMAP = VP_IO(0x86),
    VP_IOMMU_GET_HW_INFO = VP_IO(0x8a),
};

struct vp_vfio_group_status { uint32_t argsz; uint32_t flags; };
struct vp_vfio_device_info { uint32_t argsz; uint32_t flags; uint32_t num_regions; uint32_t num_irqs;
                             uint32_t cap_offset; uint32_t pad; };
struct vp_vfio_region_info { uint32_t argsz; uint32_t flags; uint32_t index; uint32_t cap_offset;
                             uint64_t size; uint64_t offset; };
struct vp_vfio_irq_info { uint32_t argsz; uint32_t flags; uint32_t index; uint32_t count; };
struct vp_vfio_iommu_type1_info { uint32_t argsz; uint32_t flags; uint64_t iova_pgsizes;
                                  uint32_t cap_offset; uint32_t pad; };
struct vp_vfio_info_cap_header { uint16_t id; uint16_t version; uint32_t next; };
struct vp_vfio_iommu_type1_dma_map { uint32_t argsz; uint32_t flags; uint64_t vaddr; uint64_t iova; uint64_t size; };
struct vp_vfio_iommu_type1_dma_unmap { uint32_t argsz; uint32_t flags; uint64_t iova; uint64_t size; };
/* vfio_pci_dependent_device: group_id (legacy) or devid (cdev; 0 OWNED, 0xffffffff NOT_OWNED). */
struct vp_vfio_pci_dependent_device { uint32_t id; uint16_t segment; uint8_t bus; uint8_t devfn; };
struct vp_vfio_pci_hot_reset_info { uint32_t argsz; uint32_t flags; uint32_t count; };
struct vp_vfio_device_bind_iommufd { uint32_t argsz; uint32_t flags; int32_t iommufd; uint32_t out_devid; };
/* 6.12: 12 bytes. Later kernels append a pasid; argsz tells the kernel which layout we use. */
struct vp_vfio_device_attach_iommufd_pt { uint32_t argsz; uint32_t flags; uint32_t pt_id; };

struct vp_iommu_destroy { uint32_t size; uint32_t id; };
struct vp_iommu_ioas_alloc { uint32_t size; uint32_t flags; uint32_t out_ioas_id; };
struct vp_iommu_iova_range { uint64_t start; uint64_t last; };
struct vp_iommu_ioas_iova_ranges { uint32_t size; uint32_t ioas_id; uint32_t num_iovas; uint32_t reserved;
                                   uint64_t allowed_iovas; uint64_t out_iova_alignment; };
struct vp_iommu_ioas_map { uint32_t size; uint32_t flags; uint32_t ioas_id; uint32_t reserved;
                           uint64_t user_va; uint64_t length; uint64_t iova; };
struct vp_iommu_ioas_unmap { uint32_t size; uint32_t ioas_id; uint64_t iova; uint64_t length; };
struct vp_iommu_hw_info { uint32_t size; uint32_t flags; uint32_t dev_id; uint32_t data_len; uint64_t data_uptr;
                          uint32_t out_data_type; uint8_t out_max_pasid_log2; uint8_t reserved[3];
                          uint64_t out_capabilities; };
struct vp_iommu_hw_info_vtd { uint32_t flags; uint32_t reserved; uint64_t cap_reg; uint64_t ecap_reg; };

#define VP_ASSERT_LAYOUT(type, size) _Static_assert(sizeof(struct type) == (size), #type " size")
VP_ASSERT_LAYOUT(vp_vfio_group_status, 8);
VP_ASSERT_LAYOUT(vp_vfio_device_info, 24);
VP_ASSERT_LAYOUT(vp_vfio_region_info, 32);
VP_ASSERT_LAYOUT(vp_vfio_irq_info, 16);
VP_ASSERT_LAYOUT(vp_vfio_iommu_type1_info, 24);
VP_ASSERT_LAYOUT(vp_vfio_info_cap_header, 8);
VP_ASSERT_LAYOUT(vp_vfio_iommu_type1_dma_map, 32);
VP_ASSERT_LAYOUT(vp_vfio_iommu_type1_dma_unmap, 24);
VP_ASSERT_LAYOUT(vp_vfio_device_bind_iommufd, 16);
VP_ASSERT_LAYOUT(vp_vfio_pci_dependent_device, 8);
VP_ASSERT_LAYOUT(vp_vfio_pci_hot_reset_info, 12);
VP_ASSERT_LAYOUT(vp_vfio_device_attach_iommufd_pt, 12);
VP_ASSERT_LAYOUT(vp_iommu_destroy, 8);
VP_ASSERT_LAYOUT(vp_iommu_ioas_alloc, 12);
VP_ASSERT_LAYOUT(vp_iommu_iova_range, 16);
VP_ASSERT_LAYOUT(vp_iommu_ioas_iova_ranges, 32);
VP_ASSERT_LAYOUT(vp_iommu_ioas_map, 40);
VP_ASSERT_LAYOUT(vp_iommu_ioas_unmap, 24);
VP_ASSERT_LAYOUT(vp_iommu_hw_info, 40);
VP_ASSERT_LAYOUT(vp_iommu_hw_info_vtd, 24);
_Static_assert(offsetof(struct vp_vfio_iommu_type1_info, iova_pgsizes) == 8, "pgsizes offset");
_Static_assert(offsetof(struct vp_vfio_region_info, size) == 16, "region size offset");
_Static_assert(offsetof(struct vp_iommu_ioas_iova_ranges, allowed_iovas) == 16, "allowed_iovas offset");
_Static_assert(offsetof(struct vp_iommu_ioas_map, user_va) == 16, "user_va offset");
_Static_assert(offsetof(struct vp_iommu_ioas_unmap, iova) == 8, "unmap iova offset");
_Static_assert(offsetof(struct vp_iommu_hw_info, out_data_type) == 24, "out_data_type offset");
_Static_assert(offsetof(struct vp_iommu_hw_info, out_capabilities) == 32, "out_capabilities offset");

#endif
