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
/// For the opens below, in a tree that is not this host's root: the last component must be a
/// regular file (or a directory, with O_DIRECTORY), looked at before it is opened, so that no FIFO,
/// socket or device node a tree holds is ever opened (a watchdog node would arm the watchdog).
/// Anything else fails with ENXIO. Every open is also O_NONBLOCK | O_NOCTTY.
extern const int vp_O_REGULAR;
/// vp_openat_in_root with vp_O_REGULAR honoured: the file is looked at through an O_PATH
/// descriptor first and then opened through it.
int vp_open_in_tree(int rootfd, const char *path, int flags);
/// Opens `path` beneath `dirfd` following no symbolic link at all, and never leaving `dirfd`: a
/// relative path without "." or ".." components (EXDEV otherwise), opened with openat2
/// RESOLVE_NO_SYMLINKS (on kernels before 5.6, one component at a time with O_NOFOLLOW). For the real directories of sysfs: a group's `12/type`, a device's
/// `vfio-dev`. Returns the descriptor (O_CLOEXEC), or -1 with errno (ELOOP for a link).
int vp_open_beneath(int dirfd, const char *path, int flags);
/// In the three calls below, `within` (NULL or "" for none) names a folder beneath `dirfd` that
/// the path runs through: a PCI function's folder, relative to its bridge's open folder, so the
/// function's own folder need not be opened. The caller has seen it is no link.
///
/// One sysfs attribute beneath `dirfd` (`vp_open_beneath`): open, one read, close. The kernel
/// produces an attribute in one show() (and a binary attribute such as `config` in one read of what this user may see), so a read shorter than `cap` is all of it,
/// as it is for a regular file in a fixture; only a full buffer reads on. Returns the length
/// (at most `cap`), or -1 with errno.
long vp_read_attribute(int dirfd, const char *within, const char *name, void *buf, long cap, int flags);
/// The smallest entry of directory `name` beneath `dirfd` (`vp_open_beneath`) whose name starts
/// with `prefix` (`vfio-dev/vfio3`) among the first batch of entries that has one (a vfio-dev
/// folder holds exactly one), NUL-terminated into `out`, with getdents64 on one descriptor.
/// Returns 1 when found, 0 when there is none, -1 with errno.
int vp_first_entry(int dirfd, const char *within, const char *name, const char *prefix, char *out, size_t outlen);
/* This thread gets a file descriptor table of its own: 0, or -errno. */
int vp_unshare_files(void);
/* libpci's pci.ids, mapped (NULL: libpci must read it whole itself). */
struct vp_ids;
struct vp_ids *vp_ids_open(struct pci_access *acc);
void vp_ids_close(struct vp_ids *ix);
/* Loads into acc the lines of `ix` for `ids` (vendor << 16 | device, sorted) and `classes`
 * (base << 8 | subclass, sorted): 1 the subset, 0 the whole file (libpci's own load), -1 no
 * names. `ix` may be NULL. */
int vp_ids_load(struct pci_access *acc, const struct vp_ids *ix, const uint32_t *ids, int count, const uint32_t *classes, int class_count);
/// readlinkat(2) of `within`/`name` beneath `dirfd`; the target's length, or -1 with errno.
long vp_readlink(int dirfd, const char *within, const char *name, char *buf, long cap);
/// pipe2(fds, O_CLOEXEC).
int vp_pipe_cloexec(int fds[2]);

/* ---- site check plugins --------------------------------------------------------------- */

/// openat2(dirfd, name, O_PATH, RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS): a plugin's file, with
/// any symbolic link resolved only inside the checks directory. -1 with errno (EXDEV: a link
/// leads out of it).
int vp_open_plugin(int dirfd, const char *name);
/// posix_spawn of the file behind descriptor `exe` (as /proc/self/fd/3, so what was checked is
/// what runs, a script included): stdin from /dev/null, stdout and stderr to the given pipes,
/// descriptor 3 the program itself, and nothing else open (closefrom); in a process group of its
/// own. Returns the pid, or -errno.
int vp_spawn_plugin(int exe, const char *const argv[], const char *const envp[], int out, int err);
/// Kills and reaps the remaining children of this process whose environment holds `mark` (the
/// plugin run's VFIO_PROBE_PLUGIN=… entry): what a plugin left behind in a session or group of its
/// own, reparented here (the probe is a child subreaper once it has run a plugin). Other
/// children are not touched. Returns how many it killed.
int vp_reap_orphans(const char *mark);
/// pidfd_open(2): a descriptor that polls readable when `pid` exits; -1 with errno.
int vp_pidfd_open(int pid);
/// While a plugin's process group runs: SIGINT, SIGTERM, SIGHUP and SIGQUIT to the probe kill the
/// group first (then take their usual course). 0 ends it.
void vp_guard_process_group(int pgid);
unsigned int vp_major(unsigned long long dev);
unsigned int vp_minor(unsigned long long dev);

/* ---- libpci --------------------------------------------------------------------------- */

/// Allocates and initialises a libpci handle on the sysfs method rooted at `sysfs_path`
/// (ROOT/sys/bus/pci). libpci's error callback normally exits the process; here it unwinds to
/// the caller, which gets NULL and the message in `err`.
struct pci_access *vp_pci_open(const char *sysfs_path, char *err, size_t errlen);
void vp_pci_close(struct pci_access *acc);
/// libpci's view of one function whose config space HostFS read: the bytes are copied here and
/// handed to libpci as its cache (`pci_setup_cache`, as lspci does with the bytes it reads), so
/// pci_fill_info walks the capability lists without any I/O of its own. Capabilities are asked
/// for only where the bytes hold them: the list when at least 256 bytes were read, the
/// extended list when all 4096 were (a user who is not root sees 64).
struct vp_pci_function {
    struct pci_dev *dev;
    int config_length;
    uint8_t config[4096];
};
/// Parses `length` bytes of config space for domain:bus:dev.func into `f` (which the caller
/// owns and may reuse: the previous function is released first). Returns 0, or -1 with
/// libpci's message in `err`.
int vp_pci_parse(struct pci_access *acc, struct vp_pci_function *f, int domain, int bus, int dev, int func,
                 const uint8_t *config, int length, char *err, size_t errlen);
/// Releases the libpci device `f` holds (not `f`).
void vp_pci_release(struct vp_pci_function *f);
/// pci_lookup_name(PCI_LOOKUP_VENDOR|PCI_LOOKUP_DEVICE), NULL when pci.ids does not know it.
const char *vp_pci_device_name(struct pci_access *acc, char *buf, int size, int vendor, int device);
const char *vp_pci_vendor_name(struct pci_access *acc, char *buf, int size, int vendor);
const char *vp_pci_class_name(struct pci_access *acc, char *buf, int size, int class_id);

#include "vfio_uapi.h"

#endif
