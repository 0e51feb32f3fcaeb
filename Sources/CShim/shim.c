#define _GNU_SOURCE
#include "CShim.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/openat2.h>

int vp_openat_in_root(int rootfd, const char *path, int flags) {
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = (uint64_t)(flags | O_CLOEXEC);
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    long fd;
    do {
        fd = syscall(SYS_openat2, rootfd, path, &how, sizeof how);
    } while (fd < 0 && (errno == EINTR || errno == EAGAIN));
    return (int)fd;
}

const int vp_O_PATH = O_PATH;
int vp_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

long vp_read_small(int dirfd, const char *name, char *buf, long cap) {
    int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return -1;
    long total = 0;
    while (total < cap) {
        long n = read(fd, buf + total, (size_t)(cap - total));
        if (n < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            close(fd);
            errno = e;
            return -1;
        }
        if (n == 0) break;
        total += n;
    }
    close(fd);
    return total;
}
unsigned int vp_major(unsigned long long dev) { return major(dev); }
unsigned int vp_minor(unsigned long long dev) { return minor(dev); }

long vp_pread(int fd, void *buf, size_t count, long long offset) {
    long n;
    do { n = pread(fd, buf, count, (off_t)offset); } while (n < 0 && errno == EINTR);
    return n;
}

void *vp_map_buffer(size_t length) {
    void *p = mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

int vp_unmap_buffer(void *addr, size_t length) { return munmap(addr, length); }

int vp_ioctl_ptr(int fd, unsigned long request, void *arg) { return ioctl(fd, request, arg); }
int vp_ioctl_val(int fd, unsigned long request, unsigned long arg) { return ioctl(fd, request, arg); }

/* libpci's `error` callback is declared noreturn: we longjmp back to the guarded call. */
static __thread jmp_buf *vp_guard;
static __thread char vp_message[256];

__attribute__((noreturn)) static void vp_pci_error(char *msg, ...) {
    va_list ap;
    va_start(ap, msg);
    vsnprintf(vp_message, sizeof vp_message, msg, ap);
    va_end(ap);
    if (vp_guard) longjmp(*vp_guard, 1);
    /* Unguarded error: libpci cannot continue and there is no caller to return to. */
    fprintf(stderr, "vfio-probe: libpci: %s\n", vp_message);
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
    /* Names from pci.ids only: deterministic, no DNS, no udev hwdb. */
    acc->id_lookup_mode = PCI_LOOKUP_NO_HWDB;
    jmp_buf env;
    vp_guard = &env;
    if (setjmp(env)) {
        vp_guard = NULL;
        vp_copy_message(err, errlen);
        return NULL; /* the half-initialised handle is leaked on purpose: libpci state is unknown */
    }
    pci_set_param(acc, "sysfs.path", (char *)sysfs_path);
    pci_init(acc);
    vp_guard = NULL;
    return acc;
}

void vp_pci_close(struct pci_access *acc) {
    if (acc) pci_cleanup(acc);
}

struct vp_pci_function *vp_pci_device(struct pci_access *acc, int domain, int bus, int dev, int func,
                                      unsigned int fill, char *err, size_t errlen) {
    struct vp_pci_function *volatile f = calloc(1, sizeof *f);
    if (!f) return NULL;
    jmp_buf env;
    vp_guard = &env;
    if (setjmp(env)) {
        vp_guard = NULL;
        vp_copy_message(err, errlen);
        if (f->dev) pci_free_dev(f->dev);
        free(f);
        return NULL;
    }
    f->dev = pci_get_dev(acc, domain, bus, dev, func);
    if (f->dev) {
        /* A short read fails as a whole, so step down to what this user may read. */
        static const int sizes[] = {4096, 256, 64};
        for (int i = 0; i < 3; i++) {
            if (pci_read_block(f->dev, 0, f->config, sizes[i])) {
                f->config_length = sizes[i];
                pci_setup_cache(f->dev, f->config, sizes[i]);
                break;
            }
        }
        pci_fill_info(f->dev, (int)fill);
    }
    vp_guard = NULL;
    return f;
}

void vp_pci_free_device(struct vp_pci_function *f) {
    if (!f) return;
    if (f->dev) pci_free_dev(f->dev); /* the cache is ours: libpci does not free it */
    free(f);
}

int vp_pci_read_block(struct pci_dev *d, int pos, uint8_t *buf, int len) {
    jmp_buf env;
    vp_guard = &env;
    if (setjmp(env)) {
        vp_guard = NULL;
        return 0;
    }
    int ok = pci_read_block(d, pos, buf, len);
    vp_guard = NULL;
    return ok;
}

static const char *vp_lookup(struct pci_access *acc, char *buf, int size, int flags, int a, int b) {
    jmp_buf env;
    vp_guard = &env;
    if (setjmp(env)) {
        vp_guard = NULL;
        return NULL;
    }
    const char *name = pci_lookup_name(acc, buf, size, flags | PCI_LOOKUP_NO_NUMBERS, a, b);
    vp_guard = NULL;
    return name;
}

const char *vp_pci_device_name(struct pci_access *acc, char *buf, int size, int vendor, int device) {
    return vp_lookup(acc, buf, size, PCI_LOOKUP_DEVICE, vendor, device);
}
const char *vp_pci_vendor_name(struct pci_access *acc, char *buf, int size, int vendor) {
    return vp_lookup(acc, buf, size, PCI_LOOKUP_VENDOR, vendor, 0);
}
const char *vp_pci_class_name(struct pci_access *acc, char *buf, int size, int class_id) {
    return vp_lookup(acc, buf, size, PCI_LOOKUP_CLASS, class_id, 0);
}
