#ifndef VFIO_PROBE_CSHIM_H
#define VFIO_PROBE_CSHIM_H
/*
 * The C seam of vfio-probe. Swift cannot call variadic C functions (ioctl, syscall,
 * pci_lookup_name) and cannot survive libpci's non-returning error callback, so these few
 * forwarders live here. Nothing else does.
 */
#include <stddef.h>
#include <stdint.h>
#include <pci/pci.h>
#include <sys/types.h>

/* ---- files ---------------------------------------------------------------------------- */

/// openat2(2) with RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS: `path` is resolved as if `rootfd`
/// were "/", so no symlink in a fixture or snapshot can lead out of it. Returns -1 with errno
/// (ENOSYS on kernels before 5.6).
int vp_openat_in_root(int rootfd, const char *path, int flags);

/// Constants and macros Swift's Glibc module does not export (they need _GNU_SOURCE).
extern const int vp_O_PATH;
/// openat(dirfd, name, O_RDONLY|O_NOFOLLOW) + read + close of a small file (a sysfs attribute)
/// into buf; returns its length, or -1 with errno. A file longer than cap returns cap.
long vp_read_small(int dirfd, const char *name, char *buf, long cap);
/// pipe2(fds, O_CLOEXEC).
int vp_pipe_cloexec(int fds[2]);
unsigned int vp_major(unsigned long long dev);
unsigned int vp_minor(unsigned long long dev);

/* ---- ioctl ---------------------------------------------------------------------------- */

/// ioctl(fd, request, arg) where the argument is a pointer.
int vp_ioctl_ptr(int fd, unsigned long request, void *arg);
/// pread(2), retried on EINTR; -1 with errno.
long vp_pread(int fd, void *buf, size_t count, long long offset);
/// An anonymous, populated, private mapping of `length` bytes (a DMA buffer); NULL with errno.
void *vp_map_buffer(size_t length);
int vp_unmap_buffer(void *addr, size_t length);

/// ioctl(fd, request, arg) where the argument is passed by value (VFIO_CHECK_EXTENSION, VFIO_SET_IOMMU).
int vp_ioctl_val(int fd, unsigned long request, unsigned long arg);

/* ---- libpci --------------------------------------------------------------------------- */

/// Allocates and initialises a libpci handle on the sysfs method rooted at `sysfs_path`
/// (ROOT/sys/bus/pci). libpci's error callback normally exits the process; here it unwinds to
/// the caller, which gets NULL and the message in `err`.
struct pci_access *vp_pci_open(const char *sysfs_path, char *err, size_t errlen);
void vp_pci_close(struct pci_access *acc);
/// One function, read the way lspci reads it: config space in a single read (4096, 256 or 64
/// bytes, whatever this user may read), handed to libpci as its cache, then pci_fill_info.
struct vp_pci_function {
    struct pci_dev *dev;
    int config_length;
    uint8_t config[4096];
};

/// pci_get_dev + one config read + pci_fill_info under the guard, without scanning the bus.
/// Returns NULL (and the message in `err`) when libpci reports an error.
struct vp_pci_function *vp_pci_device(struct pci_access *acc, int domain, int bus, int dev, int func,
                                      unsigned int fill, char *err, size_t errlen);
void vp_pci_free_device(struct vp_pci_function *f);
/// pci_read_block under the guard; returns 1 on success.
int vp_pci_read_block(struct pci_dev *d, int pos, uint8_t *buf, int len);
/// pci_lookup_name(PCI_LOOKUP_VENDOR|PCI_LOOKUP_DEVICE), NULL when pci.ids does not know it.
const char *vp_pci_device_name(struct pci_access *acc, char *buf, int size, int vendor, int device);
const char *vp_pci_vendor_name(struct pci_access *acc, char *buf, int size, int vendor);
const char *vp_pci_class_name(struct pci_access *acc, char *buf, int size, int class_id);

#include "vfio_uapi.h"

#endif
