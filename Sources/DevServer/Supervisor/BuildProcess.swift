import CDevServeShim
#if canImport(Glibc)
import Glibc
#endif

/// The `--build` command, run with `/bin/sh -c` and its output (stdout and stderr together)
/// read by the supervisor's loop. One at a time; the supervisor queues one more when sources
/// change during a build.
final class BuildProcess {
    let pid: pid_t
    /// The read end of the output pipe; -1 once closed.
    var output: Int32
    var lineBuffer: [UInt8] = []
    /// Bytes of an over-long output line not kept.
    var dropped = 0
    let startedAt = MonotonicClock.now()

    private init(pid: pid_t, output: Int32) {
        self.pid = pid
        self.output = output
    }

    static func start(command: String, environment: [String]) throws -> BuildProcess {
        var fds: [Int32] = [0, 0]
        guard devserve_shim_pipe_cloexec(&fds) == 0 else { throw SystemCallError(call: "pipe2", errno: errno) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGTERM, SIGCHLD, SIGPIPE, SIGHUP] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        // Its own process group, so stopping devserve can stop the whole build.
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP))
        let words: [String] = ["/bin/sh", "-c", command]
        let argv = words.map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, "/bin/sh", &actions, &attributes, argv, envp)
        close(fds[1])
        guard status == 0 else {
            close(fds[0])
            throw SystemCallError(call: "posix_spawn", subject: "/bin/sh -c \(command)", errno: status)
        }
        _ = fcntl(fds[0], F_SETFL, O_NONBLOCK)
        return BuildProcess(pid: pid, output: fds[0])
    }
}
