import CDevServeShim
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// A worker process as the supervisor sees it: its pid and the read ends of its pipes.
///
/// Spawned with posix_spawn and file actions: Foundation's Process cannot pass descriptors
/// beyond 0-2, and fork without exec in a multithreaded Swift process can hang (docs/DESIGN.md).
final class WorkerProcess {
    let pid: pid_t
    /// Who it is to the supervisor's ``WorkerLifecycle``.
    let identity: WorkerLifecycle.Worker
    var generation: Int { identity.generation }
    var instance: Int { identity.instance }
    /// The snapshot of the plugin this worker loads (its generation's build).
    let pluginPath: String
    let startedAt = MonotonicClock.now()
    /// Read ends: the event stream (fd 4 in the worker), its stdout and its stderr.
    var events: Int32
    var stdout: Int32
    var stderr: Int32
    /// The event stream read and not yet decoded (a frame's first part, at most).
    var eventBuffer = ByteBuffer()
    /// Where its captured bodies of 4 KiB and more lie (nil if the ring could not be made).
    var bodyRing: SharedBodyRing?
    var stdoutLine: [UInt8] = []
    var stderrLine: [UInt8] = []
    /// Bytes of an over-long output line not kept (see ``Supervisor/maxLine``).
    var stdoutDropped = 0
    var stderrDropped = 0
    /// The last 64 KiB of stderr, for the crash report.
    var stderrTail: [UInt8] = []
    var ready = false
    /// Told to accept (SIGUSR1 sent).
    var accepting = false
    var loadFailure: String?
    /// Its crash handler reported a crash: the process is dying.
    var crashing = false
    /// The signal its crash handler caught.
    var crashSignal: Int32?
    /// The request whose thread crashed, when the crash happened on one.
    var culprit: String?
    /// When the worker last said anything on its event stream (its heartbeat at least once a
    /// second while it serves).
    var lastHeard = MonotonicClock.now()
    /// What `devserve ls` says while the worker is not answering (the lifecycle knows whether
    /// it is; this is the words, with the requests in flight then).
    var silentReport: String?
    /// Why it is being replaced, when it is not a reload (--request-timeout, devserve restart).
    var replacedBecause: String?
    /// devserve sent it SIGKILL (so a SIGKILL death is not the OOM killer's).
    var killedByUs = false
    /// Its resident memory at the last sample, in bytes, and when that was.
    var lastRSS: Int?
    var memorySampledAt = 0
    /// Requests started and not finished: what a crash takes with it.
    var inFlight: [String: (method: String, target: String)] = [:]
    var pluginName = ""

    private init(pid: pid_t, identity: WorkerLifecycle.Worker, pluginPath: String, events: Int32, stdout: Int32, stderr: Int32) {
        self.pid = pid
        self.pluginPath = pluginPath
        self.identity = identity
        self.events = events
        self.stdout = stdout
        self.stderr = stderr
    }

    /// Spawns `executable arguments…` with fd 3 = `listen`, fd 4 = an event pipe, and stdout
    /// and stderr as pipes; every other descriptor is closed in the child.
    static func spawn(executable: String, arguments: [String], listen: Int32, environment: [String], identity: WorkerLifecycle.Worker, pluginPath: String) throws -> WorkerProcess {
        var eventPipe: [Int32] = [0, 0]
        var outPipe: [Int32] = [0, 0]
        var errPipe: [Int32] = [0, 0]
        for index in 0..<3 {
            let result = index == 0 ? devserve_shim_pipe_cloexec(&eventPipe) : index == 1 ? devserve_shim_pipe_cloexec(&outPipe) : devserve_shim_pipe_cloexec(&errPipe)
            if result != 0 { throw SystemCallError(call: "pipe2", errno: errno) }
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // dup2 clears close-on-exec on the target descriptor.
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        posix_spawn_file_actions_adddup2(&actions, listen, Worker.listenDescriptor)
        posix_spawn_file_actions_adddup2(&actions, eventPipe[1], Worker.eventDescriptor)
        // Captured bodies cross this pipe: at the default 64 KiB a 1 MiB echo's events took
        // 35 reads and as many wake-ups of each side; 1 MiB is the unprivileged maximum.
        _ = devserve_shim_set_pipe_size(eventPipe[0], 1 << 20)
        // Captured bodies of 4 KiB and more skip the pipe: the worker writes them into a ring
        // mapped by both (without one, they travel in their frames as before).
        let ring = SharedBodyRing()
        if let ring { posix_spawn_file_actions_adddup2(&actions, ring.descriptor, Worker.bodyRingDescriptor) }
        _ = devserve_shim_spawn_addclosefrom(&actions, ring == nil ? Worker.bodyRingDescriptor : Worker.bodyRingDescriptor + 1)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // The worker gets default signal handling and an empty mask, whatever ours are.
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGTERM, SIGCHLD, SIGPIPE, SIGHUP, SIGUSR1] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        var pid: pid_t = 0
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        let status = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        for descriptor in [eventPipe[1], outPipe[1], errPipe[1]] + (ring.map { [$0.descriptor] } ?? []) { close(descriptor) }
        guard status == 0 else {
            for descriptor in [eventPipe[0], outPipe[0], errPipe[0]] { close(descriptor) }
            throw SystemCallError(call: "posix_spawn", subject: executable, errno: status)
        }
        for descriptor in [eventPipe[0], outPipe[0], errPipe[0]] { _ = fcntl(descriptor, F_SETFL, O_NONBLOCK) }
        let process = WorkerProcess(pid: pid, identity: identity, pluginPath: pluginPath, events: eventPipe[0], stdout: outPipe[0], stderr: errPipe[0])
        process.bodyRing = ring
        return process
    }

    /// Lets the worker accept connections.
    func startAccepting() {
        guard !accepting else { return }
        accepting = true
        kill(pid, SIGUSR1)
    }

    /// Closes whichever pipes are still open.
    func closePipes() {
        for descriptor in [events, stdout, stderr] where descriptor >= 0 { close(descriptor) }
        events = -1
        stdout = -1
        stderr = -1
    }

    /// The line of stderr that best says why the worker died: the Swift runtime's "Fatal
    /// error" line, else the backtracer's "Program crashed" banner, else the last line.
    var crashSummary: String? {
        let lines = String(decoding: stderrTail, as: UTF8.self).split(separator: "\n").map(String.init)
        if let fatal = lines.first(where: { $0.contains("Fatal error") }) { return fatal.trimmingWhitespace() }
        if let crashed = lines.first(where: { $0.contains("Program crashed") }) {
            var text = crashed.drop(while: { !$0.isLetter }).trimmingWhitespace()
            while text.hasSuffix("*") { text = String(text.dropLast()).trimmingWhitespace() }
            return text
        }
        return lines.last?.trimmingWhitespace()
    }
}
