#define _GNU_SOURCE
#include "CShim.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <dirent.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/openat2.h>

/* openat2(2) with O_CLOEXEC and the given resolve flags, retried on EINTR and EAGAIN. */
static int vp_openat2(int dirfd, const char *path, int flags, uint64_t resolve) {
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

int vp_openat_in_root(int rootfd, const char *path, int flags) {
    return vp_openat2(rootfd, path, flags, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
}

const int vp_O_PATH = O_PATH;
/* Not an open(2) flag: taken off before any call. */
const int vp_O_REGULAR = 0x40000000;

/* Whether what `st` describes may be opened with `flags` in a tree. */
static int vp_openable(const struct stat *st, int flags) {
    if (S_ISREG(st->st_mode)) return !(flags & O_DIRECTORY);
    return S_ISDIR(st->st_mode);
}

int vp_open_in_tree(int rootfd, const char *path, int flags) {
    int regular = flags & vp_O_REGULAR;
    flags &= ~vp_O_REGULAR;
    if (flags & O_PATH) return vp_openat_in_root(rootfd, path, flags);
    if (!regular) return vp_openat_in_root(rootfd, path, flags | O_NONBLOCK | O_NOCTTY);
    int p = vp_openat_in_root(rootfd, path, O_PATH);
    if (p < 0) return -1;
    struct stat st;
    if (fstat(p, &st) != 0 || !vp_openable(&st, flags)) {
        close(p);
        errno = ENXIO;
        return -1;
    }
    char proc[64];
    /* thread-self: a reader thread may have a descriptor table of its own (unshare). */
    snprintf(proc, sizeof proc, "/proc/thread-self/fd/%d", p);
    int fd;
    do {
        fd = open(proc, flags | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    int e = errno;
    close(p);
    errno = e;
    return fd;
}
int vp_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

int vp_open_plugin(int dirfd, const char *name) {
    return vp_openat2(dirfd, name, O_PATH, RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS);
}

int vp_spawn_plugin(int exe, const char *const argv[], const char *const envp[], int out, int err) {
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    if (posix_spawn_file_actions_init(&fa) != 0) return -ENOMEM;
    if (posix_spawnattr_init(&attr) != 0) {
        posix_spawn_file_actions_destroy(&fa);
        return -ENOMEM;
    }
    int rc = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    if (!rc) rc = posix_spawn_file_actions_adddup2(&fa, out, 1);
    if (!rc) rc = posix_spawn_file_actions_adddup2(&fa, err, 2);
    if (!rc) rc = posix_spawn_file_actions_adddup2(&fa, exe, 3);
    if (!rc) rc = posix_spawn_file_actions_addclosefrom_np(&fa, 4);
    if (!rc) rc = posix_spawn_file_actions_addchdir_np(&fa, "/");
    if (!rc) rc = posix_spawnattr_setpgroup(&attr, 0);
    if (!rc) rc = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    sigset_t all, none;
    sigfillset(&all);
    sigemptyset(&none);
    if (!rc) rc = posix_spawnattr_setsigdefault(&attr, &all);
    if (!rc) rc = posix_spawnattr_setsigmask(&attr, &none);
    pid_t pid = -1;
    /* Whatever the plugin starts and abandons comes back to the probe, to be killed. */
    (void)prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    mode_t old = umask(022); /* the plugin's, not the caller's */
    if (!rc) rc = posix_spawn(&pid, "/proc/self/fd/3", &fa, &attr, (char *const *)argv, (char *const *)envp);
    umask(old);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    return rc ? -rc : (int)pid;
}

int vp_pidfd_open(int pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }

/* Whether /proc/PID/environ holds the NUL-terminated entry `mark`. */
static int vp_environ_has(long pid, const char *mark) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/environ", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    char env[65536];
    ssize_t n = read(fd, env, sizeof env - 1);
    close(fd);
    if (n <= 0) return 0;
    env[n] = 0;
    size_t len = strlen(mark);
    for (ssize_t i = 0; i < n; i += (ssize_t)strlen(env + i) + 1)
        if (strncmp(env + i, mark, len + 1) == 0) return 1;
    return 0;
}

int vp_reap_orphans(const char *mark) {
    int killed = 0, empty = 0;
    pid_t self = getpid();
    for (int round = 0; round < 50; round++) {
        int found = 0;
        DIR *d = opendir("/proc");
        if (!d) break;
        struct dirent *e;
        while ((e = readdir(d))) {
            char *end;
            long pid = strtol(e->d_name, &end, 10);
            if (*end || pid <= 0) continue;
            char path[64], buf[512];
            snprintf(path, sizeof path, "/proc/%ld/stat", pid);
            int fd = open(path, O_RDONLY | O_CLOEXEC);
            if (fd < 0) continue;
            ssize_t n = read(fd, buf, sizeof buf - 1);
            close(fd);
            if (n <= 0) continue;
            buf[n] = 0;
            char *paren = strrchr(buf, ')'); /* comm may hold spaces and parentheses */
            long ppid = 0;
            char state = 0;
            if (!paren || sscanf(paren + 1, " %c %ld", &state, &ppid) != 2 || ppid != self) continue;
            if (!vp_environ_has(pid, mark)) continue;
            found++;
            kill((pid_t)pid, SIGKILL);
            int status;
            while (waitpid((pid_t)pid, &status, 0) < 0 && errno == EINTR) {}
            killed++;
        }
        closedir(d);
        if (!found) {
            if (++empty > 3) break;
            usleep(20000); /* a moment for what is being reparented */
        } else {
            empty = 0;
        }
    }
    return killed;
}

static volatile sig_atomic_t vp_guarded_group;
static struct sigaction vp_saved[4];
static const int vp_guarded_signals[4] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

static void vp_kill_group_then_die(int sig) {
    if (vp_guarded_group > 0) kill(-vp_guarded_group, SIGKILL);
    signal(sig, SIG_DFL);
    raise(sig);
}

void vp_guard_process_group(int pgid) {
    if (pgid > 0) {
        vp_guarded_group = pgid;
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = vp_kill_group_then_die;
        sigemptyset(&sa.sa_mask);
        for (int i = 0; i < 4; i++) sigaction(vp_guarded_signals[i], &sa, &vp_saved[i]);
    } else {
        for (int i = 0; i < 4; i++) sigaction(vp_guarded_signals[i], &vp_saved[i], NULL);
        vp_guarded_group = 0;
    }
}

/* read, close and readlinkat without glibc's cancellation bookkeeping: in a threaded process every
 * cancellable call switches asynchronous cancellation on and off around the system call, which
 * over tens of thousands of small sysfs files is measurable (perf: 3% of the probe's user time).
 * No thread of the probe is ever cancelled. */
static long vp_sys_read(int fd, void *buf, size_t n) { return syscall(SYS_read, fd, buf, n); }
static void vp_sys_close(int fd) { (void)syscall(SYS_close, fd); }

int vp_open_beneath(int dirfd, const char *path, int flags) {
    int regular = flags & vp_O_REGULAR;
    flags &= ~vp_O_REGULAR;
    if (!(flags & O_PATH)) flags |= O_NONBLOCK | O_NOCTTY; /* openat2 takes no other flag with O_PATH */
    /* Relative, and no "." or ".." component: with no link followed either, the walk cannot
       leave dirfd. (RESOLVE_BENEATH would say the same, but it takes a reference on dirfd's
       dentry for every open, and threads sharing a folder then contend on it.) */
    for (const char *c = path;;) {
        const char *slash = strchr(c, '/');
        size_t len = slash ? (size_t)(slash - c) : strlen(c);
        if (len == 0 || (len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.')) {
            errno = EXDEV;
            return -1;
        }
        if (!slash) break;
        c = slash + 1;
    }
    struct stat before;
    if (regular && !(flags & O_PATH)) {
        /* Looked at before it is opened, so that no FIFO or device node a tree holds is opened;
           and after, so that what was opened is what was looked at. (An O_PATH descriptor
           reopened through /proc would close even the window between the two, at a third of the
           cost of a tree read: a tree is not written while it is read, and whoever could swap
           a device node in gets nothing read from it.) */
        if (fstatat(dirfd, path, &before, AT_SYMLINK_NOFOLLOW) != 0) return -1;
        if (!S_ISLNK(before.st_mode) && !vp_openable(&before, flags)) {
            errno = ENXIO;
            return -1;
        }
    }
    int fd = vp_openat2(dirfd, path, flags, RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
    if (fd >= 0 && regular && !(flags & O_PATH)) {
        struct stat after;
        if (fstat(fd, &after) != 0 || after.st_dev != before.st_dev || after.st_ino != before.st_ino || !vp_openable(&after, flags)) {
            close(fd);
            errno = ENXIO;
            return -1;
        }
    }
    if (fd >= 0 || errno != ENOSYS) return fd;
    /* Kernels before 5.6: one component at a time, none followed. */
    char part[256];
    int at = dirfd, owned = -1;
    const char *p = path;
    for (;;) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if (len >= sizeof part) {
            if (owned >= 0) close(owned);
            errno = ENAMETOOLONG;
            return -1;
        }
        memcpy(part, p, len);
        part[len] = 0;
        int next;
        do {
            next = openat(at, part, (slash ? O_RDONLY | O_DIRECTORY : flags) | O_NOFOLLOW | O_CLOEXEC);
        } while (next < 0 && errno == EINTR);
        int e = errno;
        if (owned >= 0) close(owned);
        if (next < 0) {
            errno = e;
            return -1;
        }
        if (!slash) return next;
        at = owned = next;
        p = slash + 1;
    }
}

/* "within/name" into tmp, or name itself when there is no `within`. NULL (ENAMETOOLONG) when
   it does not fit. */
static const char *vp_join(char *tmp, size_t cap, const char *within, const char *name) {
    if (!within || !*within) return name;
    size_t a = strlen(within), b = strlen(name);
    if (a + 1 + b + 1 > cap) {
        errno = ENAMETOOLONG;
        return NULL;
    }
    memcpy(tmp, within, a);
    tmp[a] = '/';
    memcpy(tmp + a + 1, name, b + 1);
    return tmp;
}

long vp_readlink(int dirfd, const char *within, const char *name, char *buf, long cap) {
    char tmp[512];
    const char *path = vp_join(tmp, sizeof tmp, within, name);
    if (!path) return -1;
    return syscall(SYS_readlinkat, dirfd, path, buf, (size_t)cap);
}

long vp_read_attribute(int dirfd, const char *within, const char *name, void *buf, long cap, int flags) {
    char tmp[512];
    const char *path = vp_join(tmp, sizeof tmp, within, name);
    if (!path) return -1;
    int fd = vp_open_beneath(dirfd, path, O_RDONLY | flags);
    if (fd < 0) return -1;
    long total = 0;
    while (total < cap) {
        long n = vp_sys_read(fd, (char *)buf + total, (size_t)(cap - total));
        if (n < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            vp_sys_close(fd);
            errno = e;
            return -1;
        }
        total += n;
        if (n == 0 || total < cap) break; /* a short read is the whole attribute */
    }
    vp_sys_close(fd);
    return total;
}

int vp_first_entry(int dirfd, const char *within, const char *name, const char *prefix, char *out, size_t outlen) {
    char tmp[512];
    const char *path = vp_join(tmp, sizeof tmp, within, name);
    if (!path) return -1;
    int fd = vp_open_beneath(dirfd, path, O_RDONLY | O_DIRECTORY);
    if (fd < 0) return -1;
    size_t plen = strlen(prefix);
    int found = 0;
    char buf[4096] __attribute__((aligned(8)));
    for (;;) {
        ssize_t n = getdents64(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int e = errno;
            vp_sys_close(fd);
            errno = e;
            return -1;
        }
        if (n == 0) break;
        for (ssize_t off = 0; off < n;) {
            struct dirent64 *d = (struct dirent64 *)(buf + off);
            off += d->d_reclen;
            size_t len = strlen(d->d_name);
            if (len < plen || strncmp(d->d_name, prefix, plen) != 0 || len + 1 > outlen) continue;
            if (!found || strcmp(d->d_name, out) < 0) {
                memcpy(out, d->d_name, len + 1);
                found = 1;
            }
        }
        /* A function's vfio-dev holds its one device: no second call for the end of a listing
           that has already named it. */
        if (found) break;
    }
    vp_sys_close(fd);
    return found;
}

unsigned int vp_major(unsigned long long dev) { return major(dev); }
unsigned int vp_minor(unsigned long long dev) { return minor(dev); }

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

static void vp_release_dev(struct vp_pci_function *f) {
    if (f->dev) {
        pci_free_dev(f->dev);
        f->dev = NULL;
    }
}

int vp_pci_parse(struct pci_access *acc, struct vp_pci_function *f, int domain, int bus, int dev, int func,
                 const uint8_t *config, int length, char *err, size_t errlen) {
    vp_release_dev(f);
    if (length < 0) length = 0;
    if (length > (int)sizeof f->config) length = (int)sizeof f->config;
    memcpy(f->config, config, (size_t)length);
    f->config_length = length;
    unsigned int fill = 0;
    if (length >= 256) fill |= PCI_FILL_CAPS;
    if (length >= 4096) fill |= PCI_FILL_EXT_CAPS;
    jmp_buf env;
    vp_guard = &env;
    if (setjmp(env)) {
        vp_guard = NULL;
        vp_copy_message(err, errlen);
        vp_release_dev(f);
        return -1;
    }
    f->dev = pci_get_dev(acc, domain, bus, dev, func);
    if (f->dev) {
        pci_setup_cache(f->dev, f->config, length);
        if (fill) pci_fill_info(f->dev, (int)fill);
    }
    vp_guard = NULL;
    return f->dev ? 0 : -1;
}

void vp_pci_release(struct vp_pci_function *f) {
    if (f) vp_release_dev(f); /* the cache is f->config: libpci does not free it */
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

/* Four hex digits at `p` (a vendor or device id in pci.ids); -1 when they are not. */
static long vp_ids_hex4(const char *p, size_t len) {
    if (len < 4) return -1;
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
        if (d < 0) return -1;
        v = v << 4 | (unsigned)d;
    }
    return (long)v;
}

/* The first index in sorted `xs` whose value is >= v. */
static int vp_lower_bound(const uint32_t *xs, int n, uint32_t v) {
    int lo = 0, hi = n;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (xs[mid] < v) lo = mid + 1; else hi = mid;
    }
    return lo;
}

struct vp_text { char *bytes; size_t used, cap; };

static int vp_text_append(struct vp_text *t, const char *p, size_t n) {
    if (t->used + n > t->cap) {
        size_t cap = t->cap ? t->cap : 64 << 10;
        while (cap < t->used + n) cap *= 2;
        char *b = realloc(t->bytes, cap);
        if (!b) return 0;
        t->bytes = b;
        t->cap = cap;
    }
    memcpy(t->bytes + t->used, p, n);
    t->used += n;
    return 1;
}

/* libpci's pci.ids, mapped: what vp_ids_load copies lines from. */
struct vp_ids {
    const char *text;
    size_t size;
    size_t classes;  /* where the class list starts ("C 00"); `size` when there is none */
};

/* The line after the one at `at` (or `end`). */
static size_t vp_next_line(const char *text, size_t at, size_t end) {
    const char *nl = at < end ? memchr(text + at, '\n', end - at) : NULL;
    return nl ? (size_t)(nl - text) + 1 : end;
}

/* A vendor line at `at`: four hex digits and two spaces. The vendor, or -1. */
static long vp_vendor_line(const char *text, size_t at, size_t end) {
    if (end - at < 6 || text[at + 4] != ' ' || text[at + 5] != ' ') return -1;
    return vp_ids_hex4(text + at, end - at);
}

/* Maps libpci's pci.ids. NULL when libpci must read it itself (a compressed database, or it
 * cannot be mapped): vp_ids_load then has libpci load it whole. */
struct vp_ids *vp_ids_open(struct pci_access *acc) {
    const char *path = acc->id_file_name;
    size_t plen = path ? strlen(path) : 0;
    char plain[4096];
    if (!path || plen >= sizeof plain) return NULL;
    if (plen > 3 && strcmp(path + plen - 3, ".gz") == 0) {
        /* libpci tries the compressed database first, then the plain one beside it. */
        if (access(path, F_OK) == 0) return NULL;
        memcpy(plain, path, plen - 3);
        plain[plen - 3] = 0;
        path = plain;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return NULL;
    struct stat st;
    const char *text = MAP_FAILED;
    if (fstat(fd, &st) == 0 && st.st_size > 0) text = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (text == MAP_FAILED) return NULL;
    struct vp_ids *ix = calloc(1, sizeof *ix);
    if (!ix) {
        munmap((void *)text, (size_t)st.st_size);
        return NULL;
    }
    ix->text = text;
    ix->size = (size_t)st.st_size;
    /* The class list closes the file: found by walking back from the end, line by line, to the
     * last vendor line (a few hundred lines, not the 36,000 before them). */
    ix->classes = ix->size;
    size_t line = ix->size;
    while (line > 0) {
        size_t start = line - 1;  /* the '\n' ending the previous line, or its last byte */
        while (start > 0 && text[start - 1] != '\n') start--;
        if (text[start] == 'C' && line - start > 1 && text[start + 1] == ' ') ix->classes = start;
        else if (vp_vendor_line(text, start, ix->size) >= 0) break;
        line = start;
    }
    return ix;
}

void vp_ids_close(struct vp_ids *ix) {
    if (!ix) return;
    munmap((void *)ix->text, ix->size);
    free(ix);
}

/* The vendor line of `vendor` before the class list: by bisection over byte offsets (pci.ids is
 * kept sorted by vendor), then, for a vendor that is not where sorting puts it, by a search of the
 * whole list. (size_t)-1 when pci.ids does not name it. */
static size_t vp_find_vendor(const struct vp_ids *ix, uint32_t vendor) {
    size_t lo = 0, hi = ix->classes;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        size_t at = mid == 0 ? 0 : vp_next_line(ix->text, mid - 1, hi);  /* the first line starting at or after mid */
        long v = -1;
        while (at < hi && (v = vp_vendor_line(ix->text, at, hi)) < 0) at = vp_next_line(ix->text, at, hi);
        if (at >= hi) {
            hi = mid;
        } else if ((uint32_t)v == vendor) {
            return at;
        } else if ((uint32_t)v < vendor) {
            lo = vp_next_line(ix->text, at, hi);
        } else {
            hi = mid;
        }
    }
    char key[8];
    snprintf(key, sizeof key, "\n%04x  ", vendor);
    const char *hit = memmem(ix->text, ix->classes, key, 7);
    return hit ? (size_t)(hit - ix->text) + 1 : (size_t)-1;
}

/* Loads into `acc` only the pci.ids lines that name `ids` (vendor << 16 | device, sorted) and
 * `classes` (base << 8 | subclass, sorted): each vendor's line and the lines of the devices asked
 * for under it, each base class's line and its subclasses asked for, copied from `ix` into an
 * anonymous memfd that libpci then parses through /proc/self/fd. The database has 36,000 lines
 * (Intel's block alone 8,000) and parsing all of it costs milliseconds, twice a dataplane's whole
 * --device start; a host has a handful of identities. The host's files are untouched.
 * 1: the subset is loaded; 0: libpci loaded the whole file itself (no index, no memfd, no
 * /proc); -1: no names at all. */
int vp_ids_load(struct pci_access *acc, const struct vp_ids *ix, const uint32_t *ids, int count, const uint32_t *classes, int class_count) {
    struct vp_text out = { NULL, 0, 0 };
    int memfd = -1, result = -1, whole = !ix, ok = 1;
    for (int i = 0; ix && ok && i < count;) {
        uint32_t vendor = ids[i] >> 16;
        int end = i;
        while (end < count && ids[end] >> 16 == vendor) end++;
        size_t start = vp_find_vendor(ix, vendor);
        for (size_t at = start; start != (size_t)-1 && ok && at < ix->classes;) {
            const char *line = ix->text + at;
            size_t next = vp_next_line(ix->text, at, ix->classes), len = next - at;
            if (at == start) {
                ok = vp_text_append(&out, line, len);  /* the vendor's line */
            } else if (vp_vendor_line(ix->text, at, ix->classes) >= 0) {
                break;  /* the next vendor's block */
            } else if (line[0] == '\t' && len > 1 && line[1] != '\t') {
                /* a device line (one tab); subsystem lines (two) are not looked up */
                long d = vp_ids_hex4(line + 1, len - 1);
                int k = d >= 0 ? vp_lower_bound(ids + i, end - i, vendor << 16 | (uint32_t)d) + i : end;
                if (k < end && ids[k] == (vendor << 16 | (uint32_t)d)) ok = vp_text_append(&out, line, len);
            }
            at = next;
        }
        i = end;
    }
    /* The class list: "C cc" base classes, "\tss" subclasses (what is looked up), "\t\tpp"
     * programming interfaces (never). */
    int keep_base = 0;
    uint32_t base = 0;
    for (size_t at = ix ? ix->classes : 0; ix && ok && at < ix->size;) {
        const char *line = ix->text + at;
        const char *nl = memchr(line, '\n', ix->size - at);
        size_t len = nl ? (size_t)(nl - line) + 1 : ix->size - at;
        at += len;
        if (line[0] == 'C' && len > 4) {
            char two[4] = { '0', '0', line[2], line[3] };
            long bc = vp_ids_hex4(two, 4);
            base = bc >= 0 ? (uint32_t)bc : 0;
            int k = vp_lower_bound(classes, class_count, base << 8);
            keep_base = bc >= 0 && k < class_count && classes[k] >> 8 == base;
            if (keep_base) ok = vp_text_append(&out, line, len);
        } else if (keep_base && line[0] == '\t' && len > 3 && line[1] != '\t') {
            char two[4] = { '0', '0', line[1], line[2] };
            long sub = vp_ids_hex4(two, 4);
            int k = sub >= 0 ? vp_lower_bound(classes, class_count, base << 8 | (uint32_t)sub) : class_count;
            if (k < class_count && classes[k] == (base << 8 | (uint32_t)sub)) ok = vp_text_append(&out, line, len);
        }
    }
    if (!whole) {
        memfd = ok ? memfd_create("vfio-probe-pci.ids", MFD_CLOEXEC) : -1;
        size_t put = 0;
        while (memfd >= 0 && put < out.used) {
            ssize_t n = write(memfd, out.bytes + put, out.used - put);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;
            put += (size_t)n;
        }
        if (memfd < 0 || put != out.used) whole = 1;
    }
    jmp_buf env;
    vp_guard = &env;
    if (setjmp(env)) {
        vp_guard = NULL;
        result = -1;
        goto done;
    }
    if (!whole) {
        char *original = acc->id_file_name ? strdup(acc->id_file_name) : NULL;
        char name[64];
        snprintf(name, sizeof name, "/proc/self/fd/%d", memfd);
        pci_set_name_list_path(acc, strdup(name), 1);
        if (pci_load_name_list(acc)) result = 1;
        else whole = 1;  /* no /proc: the whole file after all */
        if (original) pci_set_name_list_path(acc, original, 1);  /* the path stays the real one */
    }
    if (whole) result = pci_load_name_list(acc) ? 0 : -1;
    vp_guard = NULL;
done:
    if (memfd >= 0) close(memfd);
    free(out.bytes);
    return result;
}

/* The calling thread gets a file descriptor table of its own (a copy), for HostFS's reader
 * threads: see ReaderThreads.swift. 0, or -errno (EPERM under a seccomp filter that refuses it). */
int vp_unshare_files(void) {
    return unshare(CLONE_FILES) == 0 ? 0 : -errno;
}
