#define _GNU_SOURCE
#include "CShim.h"

#include <errno.h>
#include <fcntl.h>
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

const char *vp_pci_lookup(struct pci_access *acc, char *buf, int size, int flags, int a, int b) {
    const char *volatile name = NULL;
    VP_GUARDED(name = pci_lookup_name(acc, buf, size, flags | PCI_LOOKUP_NO_NUMBERS, a, b), name = NULL);
    return name;
}
