// The plugin syscall seam: the only Swift code of the site-check runner that handles raw
// pointers (posix_spawn's attribute objects and argument vectors) or runs in a signal handler.
// What Swift's Glibc module cannot reach (the _np file actions, variadic prctl and syscall) is
// in CShim's "site check plugins" section. `Spawn.run` (ExternalChecks.swift) is the caller.
#if canImport(Glibc)
import Glibc
#endif
import CShim
import Synchronization
import SystemPackage

extension Spawn {
    /// A pipe with both ends close-on-exec from the start (pipe2 O_CLOEXEC): no other child can
    /// inherit a write end and hold the plugin's output open.
    static func pipe() -> Swift.Result<(read: CInt, write: CInt), Errno> {
        Swift.Result { () throws(Errno) in try FileDescriptor.pipe(options: .closeOnExec) }.map {
            ($0.readEnd.rawValue, $0.writeEnd.rawValue)
        }
    }

    /// posix_spawn of the file behind descriptor `exe` (as /proc/self/fd/3, so what was checked is
    /// what runs, a script included): stdin from /dev/null, stdout and stderr to the given pipes,
    /// descriptor 3 the program itself and nothing else open, "/" its directory, umask 022, in a
    /// process group of its own with default signal dispositions and nothing blocked. Makes this
    /// process a child subreaper first: what the plugin abandons comes back here, to be killed.
    /// Returns the pid, or the errno.
    static func spawn(_ exe: CInt, arguments: [String], environment: [String], out: CInt, err: CInt) -> Swift.Result<pid_t, Errno> {
        // Plain C structs with no pointer into themselves: they may live in Swift variables.
        var actions = posix_spawn_file_actions_t()
        var attributes = posix_spawnattr_t()
        guard posix_spawn_file_actions_init(&actions) == 0 else { return .failure(.noMemory) }
        defer { posix_spawn_file_actions_destroy(&actions) }
        guard posix_spawnattr_init(&attributes) == 0 else { return .failure(.noMemory) }
        defer { posix_spawnattr_destroy(&attributes) }
        var all = sigset_t(), none = sigset_t()
        sigfillset(&all)
        sigemptyset(&none)
        var rc = posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        if rc == 0 { rc = posix_spawn_file_actions_adddup2(&actions, out, 1) }
        if rc == 0 { rc = posix_spawn_file_actions_adddup2(&actions, err, 2) }
        if rc == 0 { rc = posix_spawn_file_actions_adddup2(&actions, exe, 3) }
        if rc == 0 { rc = vp_spawn_close_from_and_chdir_root(&actions, 4) }
        if rc == 0 { rc = posix_spawnattr_setpgroup(&attributes, 0) }
        if rc == 0 {
            rc = posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        }
        if rc == 0 { rc = posix_spawnattr_setsigdefault(&attributes, &all) }
        if rc == 0 { rc = posix_spawnattr_setsigmask(&attributes, &none) }
        vp_become_child_subreaper()
        // NULL-terminated C string vectors for posix_spawn, freed when it has copied them.
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = -1
        let old = umask(0o022)  // the plugin's, not the caller's
        if rc == 0 { rc = posix_spawn(&pid, "/proc/self/fd/3", &actions, &attributes, argv, envp) }
        umask(old)
        return rc == 0 ? .success(pid) : .failure(Errno(rawValue: rc))
    }

    /// While a plugin's process group runs: SIGINT, SIGTERM, SIGHUP and SIGQUIT to the probe kill
    /// the group first (then take their usual course). `end()` puts the former handlers back.
    struct GroupGuard {
        static let signals = [SIGINT, SIGTERM, SIGHUP, SIGQUIT]
        private var saved: [sigaction] = []

        init(group: pid_t) {
            guardedGroup.store(group, ordering: .sequentiallyConsistent)
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { sig in
                let group = guardedGroup.load(ordering: .sequentiallyConsistent)
                if group > 0 { kill(-group, SIGKILL) }
                signal(sig, SIG_DFL)
                raise(sig)
            }
            sigemptyset(&action.sa_mask)
            for sig in Self.signals {
                var old = sigaction()
                sigaction(sig, &action, &old)
                saved.append(old)
            }
        }

        func end() {
            for (sig, old) in zip(Self.signals, saved) {
                var old = old
                sigaction(sig, &old, nil)
            }
            guardedGroup.store(0, ordering: .sequentiallyConsistent)
        }
    }
}

/// The process group the guard's signal handler kills (0: none). An atomic, so that the handler
/// reads it without a lock; set before the handler is installed.
private let guardedGroup = Atomic<pid_t>(0)
