#ifndef VFIO_PROBE_CSHIM_H
#define VFIO_PROBE_CSHIM_H
/*
 * The C seam of vfio-probe: what Swift cannot call itself. Variadic functions (syscall for
 * openat2 and pidfd_open, prctl, pci_lookup_name), libpci's non-returning error callback (a
 * setjmp guard), declarations Swift's Glibc module lacks (_GNU_SOURCE, sysmacros), and the
 * VFIO/iommufd uapi structs with their size asserts (vfio_uapi.h). Nothing else is in C.
 */
#include <stddef.h>
#include <stdint.h>
#include <pci/pci.h>
#include <sys/types.h>

/* ---- files ---------------------------------------------------------------------------- */

/// openat2(2) (a variadic `syscall` for Swift) with O_CLOEXEC and `resolve`, retried on EINTR and
/// EAGAIN. -1 with errno; ENOSYS on kernels before 5.6.
int vp_openat2(int dirfd, const char *path, int flags, uint64_t resolve);
/// Constants Swift's Glibc module does not export (they need _GNU_SOURCE or linux/openat2.h).
extern const int vp_O_PATH;
extern const uint64_t vp_RESOLVE_IN_ROOT;
extern const uint64_t vp_RESOLVE_BENEATH;
extern const uint64_t vp_RESOLVE_NO_MAGICLINKS;
extern const uint64_t vp_RESOLVE_NO_SYMLINKS;

/// major(3) and minor(3) of a device number (macros).
unsigned int vp_major(unsigned long long dev);
unsigned int vp_minor(unsigned long long dev);

/* ---- site check plugins --------------------------------------------------------------- */
#include <spawn.h>

/// For the plugin spawn (Plugins/Spawn.swift), the file actions Swift's Glibc module does not
/// declare (they need _GNU_SOURCE): close every descriptor from `from` on, and run in "/".
/// 0 or an errno, as posix_spawn_file_actions_* return.
int vp_spawn_close_from_and_chdir_root(posix_spawn_file_actions_t *actions, int from);
/// prctl(PR_SET_CHILD_SUBREAPER, 1) (variadic): what a plugin abandons is reparented here.
void vp_become_child_subreaper(void);
/// pidfd_open(2): a descriptor that polls readable when `pid` exits; -1 with errno.
int vp_pidfd_open(int pid);

/* ---- libpci --------------------------------------------------------------------------- */

/// A libpci handle on the sysfs method rooted at `sysfs_path` (ROOT/sys/bus/pci). libpci's error
/// callback normally exits the process; here it unwinds to the caller, which gets NULL and the
/// message in `err`.
struct pci_access *vp_pci_open(const char *sysfs_path, char *err, size_t errlen);
void vp_pci_close(struct pci_access *acc);
/// One capability of a function, as libpci's walk found it.
struct vp_pci_capability {
    uint16_t id;
    uint8_t extended;
    uint16_t offset;
};
/// The capabilities libpci finds in `length` bytes of config space that HostFS read for
/// domain:bus:dev.func, handed to libpci as its cache (`pci_setup_cache`, as lspci does), so it
/// does no I/O of its own: the list when at least 256 bytes were read, the extended list when
/// 4096 were. At most `max` into `caps`; returns the count, or -1 with libpci's message in `err`.
int vp_pci_capabilities(struct pci_access *acc, int domain, int bus, int dev, int func, const uint8_t *config, int length,
                        struct vp_pci_capability *caps, int max, char *err, size_t errlen);
/// The pci.ids libpci reads (a compressed one may end in .gz); NULL when it has none.
const char *vp_pci_ids_file(struct pci_access *acc);
/// Loads `length` bytes of pci.ids lines (`text`, the host's subset) through an anonymous memfd,
/// the real path kept: 1. Without `text`, or when that fails (no memfd, no /proc), libpci loads
/// its whole file itself: 0; no names at all: -1.
int vp_pci_load_names(struct pci_access *acc, const char *text, size_t length);
/// pci_lookup_name (variadic) with PCI_LOOKUP_NO_NUMBERS and `flags` (PCI_LOOKUP_VENDOR,
/// PCI_LOOKUP_DEVICE, PCI_LOOKUP_CLASS); NULL when pci.ids does not know the id (or cannot be read).
const char *vp_pci_lookup(struct pci_access *acc, char *buf, int size, int flags, int a, int b);

#include "vfio_uapi.h"

#endif
