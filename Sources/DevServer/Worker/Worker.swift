import CDevServeShim
import NIOCore
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

/// A worker process: one plugin generation serving HTTP/1.1 on the socket the supervisor
/// passes as fd 3, reporting to it on fd 4 (docs/DESIGN.md, "Two processes").
public enum Worker {
    /// How the supervisor starts a worker.
    public struct Configuration: Sendable {
        public var pluginPath: String
        public var generation: Int
        /// Which worker this is among all the supervisor started: request ids begin with it.
        public var instance = 1
        /// Application threads (`--threads`).
        public var threads = 32
        /// Event loop threads.
        public var eventLoops = 1
        public var limits = HTTPLimits()
        /// SERVER_NAME and SERVER_PORT.
        public var serverName = "127.0.0.1"
        public var serverPort = 8000
        /// Where private copies of the plugin go; by default a new temporary directory.
        public var copyDirectory: String?
        /// Report requests in full for the recorder (false: only the access log's fields).
        public var capture = true
        /// Body bytes kept per request and per response when capturing.
        public var maxBody = 1 << 20
        /// The supervisor's pid: the worker exits if it is no longer its parent.
        public var parentPID: Int32 = 0

        public init(pluginPath: String, generation: Int) {
            self.pluginPath = pluginPath
            self.generation = generation
        }
    }

    /// The listening socket and event stream descriptors (docs/DESIGN.md).
    public static let listenDescriptor: Int32 = 3
    public static let eventDescriptor: Int32 = 4
    /// The shared body ring the supervisor maps too (``SharedBodyRing``), when there is one.
    public static let bodyRingDescriptor: Int32 = 5

    /// `descriptor` duplicated to 500 or above, close-on-exec; the original number is left
    /// on /dev/null, so that a plugin writing to it or closing it touches nothing of ours
    /// (were it closed, the next descriptor NIO opens would take its number).
    static func moveAside(_ descriptor: Int32) -> Int32 {
        let moved = fcntl(descriptor, F_DUPFD_CLOEXEC, 500)
        guard moved >= 0 else { return descriptor }
        let null = open("/dev/null", O_RDWR | O_CLOEXEC)
        if null >= 0 {
            dup2(null, descriptor)
            _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
            close(null)
        } else {
            close(descriptor)
        }
        return moved
    }

    /// Runs the worker until SIGTERM (graceful) or its parent dies. Never returns.
    public static func run(_ configuration: Configuration) -> Never {
        // Die with the supervisor, even if it is killed with SIGKILL.
        _ = devserve_shim_set_parent_death_signal(SIGKILL)
        if configuration.parentPID != 0 && getppid() != configuration.parentPID { exit(1) }
        signal(SIGPIPE, SIG_IGN)
        // Request and response bodies are arrays of up to --buffer-body and beyond: above
        // glibc's default 128 KiB each was a fresh mmap, touched page by page and unmapped
        // (issue 14; docs/DECISIONS.md).
        devserve_shim_keep_large_allocations(32 << 20)
        // Block the stop signals in every thread; one thread waits for them with sigwait.
        var stopSignals = sigset_t()
        sigemptyset(&stopSignals)
        sigaddset(&stopSignals, SIGTERM)
        sigaddset(&stopSignals, SIGINT)
        sigaddset(&stopSignals, devserve_shim_crash_signal())
        var waitSignals = stopSignals
        sigaddset(&waitSignals, SIGUSR1)
        pthread_sigmask(SIG_BLOCK, &waitSignals, nil)

        // The inherited descriptors move out of the way, close-on-exec: a plugin writing to fd 4
        // or closing it finds nothing there (EBADF) instead of silencing capture, and a child
        // it spawns does not keep the listening socket after devserve exits.
        let events = EventWriter(descriptor: moveAside(eventDescriptor), sharedRingDescriptor: bodyRingDescriptor)
        let listening = moveAside(listenDescriptor)
        devserve_shim_set_listening_descriptor(listening)
        events.send(.hello(version: WorkerEvent.formatVersion, pid: Int(getpid()), generation: configuration.generation))
        FileWatchRequests.setHandler { path in events.send(.watchFile(path: path)) }
        let plugin: LoadedPlugin
        do {
            let loader = try PluginLoader(copyDirectory: configuration.copyDirectory)
            plugin = try loader.load(configuration.pluginPath)
        } catch {
            events.send(.loadFailed(reason: String(describing: error)))
            events.flush()
            exit(3)
        }

        let group = MultiThreadedEventLoopGroup(numberOfThreads: configuration.eventLoops)
        let pool = ApplicationThreadPool(threads: configuration.threads)
        var gateway = GatewayExchange.Configuration()
        gateway.environ = EnvironBuilder()
        gateway.filePrefixForObserver = configuration.capture ? configuration.maxBody : 0
        let stopping = StopFlag()
        gateway.serverClosing = { stopping.isSet }
        let worker = WorkerContext(plugin: plugin, pool: pool, events: events, limits: configuration.limits, gateway: gateway, generation: configuration.generation, instance: configuration.instance,
            capture: configuration.capture, maxBody: configuration.maxBody)
        let serverName = configuration.serverName
        let serverPort = configuration.serverPort

        let bootstrap = ServerBootstrap(group: group)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let remote = channel.remoteAddress
                    let connection = ConnectionInfo(
                        remoteAddress: remote?.ipAddress ?? "unknown", remotePort: remote?.port ?? 0,
                        serverName: serverName, serverPort: serverPort)
                    let handler = HTTPConnectionHandler(worker: worker, connection: connection)
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
        // Loaded: say so, then accept only when the supervisor says the previous generation
        // has stopped accepting. Two processes accepting on one socket race for each
        // connection, and NIO asserts when it loses (debug builds).
        events.send(.ready(plugin: plugin.name, abi: plugin.abi.description, swift: SwiftVersion.format(plugin.swiftVersion)))
        var go: Int32 = 0
        sigwait(&waitSignals, &go)
        if go != SIGUSR1 {
            plugin.shutdown()
            events.flush()
            exit(0)
        }
        let server: Channel
        do {
            server = try bootstrap.withBoundSocket(listening).wait()
        } catch {
            events.send(.loadFailed(reason: "cannot serve on the supervisor's socket: \(error)"))
            events.flush()
            exit(4)
        }
        events.send(.serving)
        // A heartbeat from the event loop: a worker stopped (SIGSTOP) or whose loop is
        // blocked goes quiet, and the supervisor says so.
        _ = group.next().scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { _ in
            events.send(.heartbeat)
        }

        // Wait for SIGTERM or SIGINT, then stop accepting and let requests in flight finish.
        var received: Int32 = 0
        sigwait(&stopSignals, &received)
        if received == devserve_shim_crash_signal() {
            // From the crash handler: stop accepting at once (the replacement is starting) and
            // wait for the process to die when the backtracer is done, or for a stop.
            try? server.close().wait()
            while received == devserve_shim_crash_signal() { sigwait(&stopSignals, &received) }
        }
        stopping.set()
        try? server.close().wait()
        // Connections accepted just before the close may not have registered yet (their
        // channelActive is queued on the event loop): let every loop run what is queued, so the
        // drain below counts them and tells them to stop, instead of exiting under them.
        for loop in group.makeIterator() { try? loop.submit {}.wait() }
        events.send(.stoppedAccepting)
        let stuck = worker.drain(grace: configuration.limits.shutdownGrace)
        if stuck > 0 {
            // Requests still running after the grace are stuck in the application: their
            // clients get a 504 (or the cut-off response), and the plugin's shutdown is not
            // run, since it would wait for them (a Python thread holding the GIL).
            worker.connections.abandonAll()
            for _ in 0..<40 where worker.connections.count > 0 { usleepMilliseconds(5) }
            events.flush()
            exit(0)
        }
        plugin.shutdown()
        events.flush()
        exit(0)
    }
}

/// A flag set once, read from any thread: the worker is stopping.
final class StopFlag: @unchecked Sendable {
    private let lock = Lock()
    private var value = false
    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}
