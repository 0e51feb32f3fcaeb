#define _GNU_SOURCE
#include "CShim.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <setjmp.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* openat2(2) with O_CLOEXEC, retried on EINTR and EAGAIN (the kernel's -EAGAIN for a racing
 * rename under RESOLVE_IN_ROOT). */
int vp_openat2(int dirfd, const char *path, int flags, uint64_t resolve) {
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = (uint64_t)(flags | O_CLOEXEC);
    how.resolve = resolve;
    long fd;
    do {
        fd = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
    } while (fd < 0 && (errno == EINTR || errno == EAGAIN));
    return (int)fd;
}

const int vp_O_PATH = O_PATH;
const uint64_t vp_RESOLVE_IN_ROOT = RESOLVE_IN_ROOT;
const uint64_t vp_RESOLVE_BENEATH = RESOLVE_BENEATH;
const uint64_t vp_RESOLVE_NO_MAGICLINKS = RESOLVE_NO_MAGICLINKS;
const uint64_t vp_RESOLVE_NO_SYMLINKS = RESOLVE_NO_SYMLINKS;

int vp_spawn_close_from_and_chdir_root(posix_spawn_file_actions_t *actions, int from) {
    int rc = posix_spawn_file_actions_addclosefrom_np(actions, from);
    return rc ? rc : posix_spawn_file_actions_addchdir_np(actions, "/");
}

void vp_become_child_subreaper(void) { (void)prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); }

int vp_pidfd_open(int pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }

unsigned int vp_major(unsigned long long dev) { return major(dev); }
unsigned int vp_minor(unsigned long long dev) { return minor(dev); }

/* libpci's `error` callback is declared noreturn: it longjmps back to the guarded call, whose
 * message is then in vp_message. */
static __thread jmp_buf *vp_guard;
static __thread char vp_message[256];

/* Runs `body` with libpci's errors unwinding to `on_error` instead of exiting the process. */
#define VP_GUARDED(body, on_error)       \
    do {                                 \
        jmp_buf env_;                    \
        vp_guard = &env_;                \
        if (setjmp(env_)) {              \
            vp_guard = NULL;             \
            on_error;                    \
        } else {                         \
            body;                        \
            vp_guard = NULL;             \
        }                                \
    } while (0)

__attribute__((noreturn)) static void vp_pci_error(char *msg, ...) {
    va_list ap;
    va_start(ap, msg);
    vsnprintf(vp_message, sizeof vp_message, msg, ap);
    va_end(ap);
    if (vp_guard) longjmp(*vp_guard, 1);
    fprintf(stderr, "vfio-probe: libpci: %s\n", vp_message); /* no caller to return to */
    _exit(1);
}

static void vp_pci_quiet(char *msg, ...) { (void)msg; }

static void vp_copy_message(char *err, size_t errlen) {
    if (err && errlen) snprintf(err, errlen, "%s", vp_message);
}

struct pci_access *vp_pci_open(const char *sysfs_path, char *err, size_t errlen) {
    struct pci_access *acc = pci_alloc();
    if (!acc) return NULL;
    acc->error = vp_pci_error;
    acc->warning = vp_pci_quiet;
    acc->debug = vp_pci_quiet;
    acc->method = PCI_ACCESS_SYS_BUS_PCI;
    acc->id_lookup_mode = PCI_LOOKUP_NO_HWDB; /* names from pci.ids only: no DNS, no udev hwdb */
    volatile int ok = 0; /* volatile: read after a longjmp */
    /* On an error the half-initialised handle is leaked on purpose: libpci's state is unknown. */
    VP_GUARDED((pci_set_param(acc, "sysfs.path", (char *)sysfs_path), pci_init(acc), ok = 1), vp_copy_message(err, errlen));
    return ok ? acc : NULL;
}

void vp_pci_close(struct pci_access *acc) {
    if (acc) pci_cleanup(acc);
}

int vp_pci_capabilities(struct pci_access *acc, int domain, int bus, int dev, int func, const uint8_t *config, int length,
                        struct vp_pci_capability *caps, int max, char *err, size_t errlen) {
    uint8_t cache[4096];
    if (length < 0) length = 0;
    if (length > (int)sizeof cache) length = (int)sizeof cache;
    memcpy(cache, config, (size_t)length);
    unsigned int fill = 0;
    if (length >= 256) fill |= PCI_FILL_CAPS;
    if (length >= 4096) fill |= PCI_FILL_EXT_CAPS;
    struct pci_dev *volatile d = NULL; /* volatile: read after a longjmp */
    volatile int count = -1;
    VP_GUARDED(({
        d = pci_get_dev(acc, domain, bus, dev, func);
        if (d) {
            pci_setup_cache(d, cache, length);
            if (fill) pci_fill_info(d, (int)fill);
            count = 0;
            for (struct pci_cap *c = d->first_cap; c && count < max; c = c->next, count++) {
                caps[count].id = c->id;
                caps[count].extended = c->type == PCI_CAP_EXTENDED;
                caps[count].offset = (uint16_t)c->addr;
            }
        } else {
            snprintf(vp_message, sizeof vp_message, "libpci has no device %04x:%02x:%02x.%d", domain, bus, dev, func);
        }
    }), count = -1);
    if (d) pci_free_dev(d); /* the cache is ours: libpci does not free it */
    if (count < 0) vp_copy_message(err, errlen);
    return count;
}

const char *vp_pci_ids_file(struct pci_access *acc) { return acc->id_file_name; }

int vp_pci_load_names(struct pci_access *acc, const char *text, size_t length) {
    volatile int ok = 0;
    int fd = text ? memfd_create("vfio-probe-pci.ids", MFD_CLOEXEC) : -1;
    size_t put = 0;
    while (fd >= 0 && put < length) {
        ssize_t n = write(fd, text + put, length - put);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        put += (size_t)n;
    }
    if (fd >= 0 && put == length) {
        char *original = acc->id_file_name ? strdup(acc->id_file_name) : NULL;
        char name[64];
        snprintf(name, sizeof name, "/proc/self/fd/%d", fd);
        VP_GUARDED((pci_set_name_list_path(acc, strdup(name), 1), ok = pci_load_name_list(acc)), ok = 0);
        if (original) pci_set_name_list_path(acc, original, 1); /* the path stays the real one */
    }
    if (fd >= 0) close(fd);
    if (ok) return 1;
    VP_GUARDED(ok = pci_load_name_list(acc), ok = 0); /* the whole file, by libpci itself */
    return ok ? 0 : -1;
}

const char *vp_pci_lookup(struct pci_access *acc, char *buf, int size, int flags, int a, int b) {
    const char *volatile name = NULL;
    VP_GUARDED(name = pci_lookup_name(acc, buf, size, flags | PCI_LOOKUP_NO_NUMBERS, a, b), name = NULL);
    return name;
}
