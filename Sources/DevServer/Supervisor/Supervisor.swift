import CDevServeShim
#if canImport(Glibc)
import Glibc
#endif

/// The devserve process the user runs: no plugin code ever runs here (docs/DESIGN.md).
///
/// It owns the listening socket, spawns a worker for the plugin, reads each worker's event
/// stream, stdout and stderr, replaces a worker that dies (at once after a crash while
/// serving; with backoff when it keeps dying on start-up, then only once the plugin file
/// changes), and on SIGINT or SIGTERM lets requests in flight finish before exiting 0.
public final class Supervisor {
    /// Everything `devserve PLUGIN.so` was asked to do.
    public struct Configuration: Sendable {
        public var pluginPath: String
        public var host = "127.0.0.1"
        public var port = 8000
        public var threads = 32
        public var eventLoops = 1
        public var limits = HTTPLimits()
        /// Record requests (false: `--no-capture`, the access log only).
        public var capture = true
        /// The recorder's caps.
        public var recorder = Recorder.Configuration()
        /// Seconds after which a request in flight is marked timed out; nil for never.
        public var requestTimeout: Double?
        /// Reload when the plugin file is rewritten.
        public var reloadOnChange = true
        /// Source paths whose changes run `build` (or, without one, restart the worker).
        public var watch: [String] = []
        /// The build command (`/bin/sh -c`).
        public var build: String?
        /// A file that keeps captured requests across restarts.
        public var journal: String?
        /// What the user asked to serve when it is not the plugin file itself: a Python
        /// application served through the bridge plugin ("app.py:app").
        public var application: String?
        /// `NAME=value` entries added to every worker's environment (the bridge's settings).
        public var workerEnvironment: [String] = []

        /// What the user asked to serve, as they typed it.
        public var displayName: String { application ?? pluginPath }

        public init(pluginPath: String) { self.pluginPath = pluginPath }
    }

    /// The captured history.
    public let recorder: Recorder

    let configuration: Configuration
    let log: ConsoleLog
    let socket: ListeningSocket
    private let executable: String
    let copyDirectory: String
    var workers: [WorkerProcess] = []
    /// Which worker serves, which is starting, retiring or dying, the build and the reload:
    /// every decision about workers is made there, from events; this class performs its
    /// actions.
    var lifecycle: WorkerLifecycle
    let pluginWatcher: FileWatcher
    /// The plugin file's directory and name, to recognise its changes.
    lazy var pluginLocation = (directory: FileWatcher.directory(of: configuration.pluginPath), name: Self.name(of: configuration.pluginPath))
    let sourceWatcher: FileWatcher?
    /// Files the application asked to be watched (devserve.h `watch_file`: a Python
    /// application's imported modules); a change starts a new generation.
    let applicationWatcher = FileWatcher(recursive: false)
    var applicationFiles: Set<String> = []
    var build: BuildProcess?
    /// What is serving and whether it is stale, for `devserve ls` (read on the control thread).
    let status = SharedText()
    /// What is serving and how, for the inspector's status bar.
    public let state = Shared(ServerState())
    /// Requests finished since start.
    var served = 0
    /// Records kept as frames may be waiting to be decoded while nothing else happens.
    var decodingKept = false
    /// When a worker's events last arrived (CLOCK_MONOTONIC µs).
    var lastWorkerEvents = 0
    /// How long no worker event must arrive before kept records are decoded: under load a
    /// worker's writer gathers events for a millisecond, so a poll that waited a millisecond
    /// in vain is no sign of quiet (decoding then cost the supervisor 1.5-2 µs per request).
    static let quietBeforeDecoding = 100_000
    /// The plugin file's stamp when the lifecycle started waiting for a change (with
    /// --no-reload nothing watches it, so the loop compares stamps).
    var waitingStamp: FileStamp?
    var exitCode: Int32 = 0
    private var lastStatus: (generation: Int?, stale: String?, silent: String?)?
    private var control: ControlServer?
    private var memoryTrim: MemoryTrim
    private var lastState = ServerState()
    var journal: Journal?

    /// Binds the socket; nothing is spawned until ``run()``.
    /// - Throws: `ListeningSocket.BindError` with a message for the user.
    public init(configuration: Configuration, log: ConsoleLog) throws {
        self.configuration = configuration
        self.log = log
        self.recorder = Recorder(configuration: configuration.recorder)
        self.memoryTrim = MemoryTrim(maxMemory: configuration.recorder.maxMemory)
        self.lifecycle = WorkerLifecycle(
            hasBuild: configuration.build != nil, shutdownGrace: configuration.limits.shutdownGrace,
            whatToChange: configuration.application == nil ? configuration.pluginPath : "its source files")
        self.socket = try ListeningSocket.bind(host: configuration.host, port: configuration.port)
        self.executable = WorkerExecutable.path
        let base = ProcessEnvironment.value("TMPDIR") ?? "/tmp"
        Self.removeLeftoverSnapshots(in: base)
        // mkdtemp, not a name derived from our pid: another local user could create that
        // directory first and swap the plugin a restarted worker loads (issue 12).
        self.copyDirectory = try PrivateDirectory.makeUnique(in: base, prefix: "devserve-\(getpid())")
        self.pluginWatcher = FileWatcher(recursive: false)
        if configuration.reloadOnChange { pluginWatcher.watch(configuration.pluginPath) }
        if configuration.watch.isEmpty {
            self.sourceWatcher = nil
        } else {
            let watcher = FileWatcher(recursive: true, isIgnored: FileWatcher.isBuildOrEditorNoise)
            for path in configuration.watch { watcher.watch(path) }
            self.sourceWatcher = watcher
        }
    }

    /// The port the server listens on (the real one with `--port 0`).
    public var port: Int { socket.port }

    /// Replays captured requests against this server's socket.
    public var replayer: Replayer { Replayer(recorder: recorder, host: configuration.host, port: socket.port) }

    /// The URL the server answers on.
    public var url: String { cachedURL }

    private lazy var cachedURL: String = {
        let host = configuration.host.contains(":") ? "[\(configuration.host)]" : configuration.host
        return "http://\(host):\(socket.port)/"
    }()

    /// Serves until stopped. - Returns: the process exit code.
    public func run() -> Int32 {
        // For harnesses (the test suite): die with the process that started us, even if it
        // is killed or crashes, so no server outlives its test. Workers die with us in turn.
        if ProcessEnvironment.value("DEVSERVE_DIE_WITH_PARENT") == "1" {
            _ = devserve_shim_set_parent_death_signal(SIGTERM)
        }
        _ = Self.hadTerminal
        // Captured bodies arrive as arrays of up to --max-body each (see Worker.run).
        devserve_shim_keep_large_allocations(32 << 20)
        do {
            try SignalPipe.install()
        } catch {
            log.error("cannot install signal handlers: \(error)")
            return 1
        }
        log.info("devserve \(DevServeVersion.current): development server: do not use in production")
        log.info("starting \(configuration.displayName) on \(url)")
        if configuration.capture, let path = configuration.journal {
            let journal = Journal(path: path, capacity: configuration.recorder.capacity)
            do {
                let (loaded, skipped) = try journal.load(into: recorder)
                log.info("journal \(path): \(loaded) request\(loaded == 1 ? "" : "s") loaded\(skipped > 0 ? "; \(skipped) damaged line\(skipped == 1 ? "" : "s") kept aside in \(journal.damagedPath)" : "")")
                self.journal = journal
            } catch {
                log.error("\(error)")
                return 1
            }
        }
        if configuration.capture {
            do {
                control = try ControlServer(port: socket.port, recorder: recorder, url: url, status: status, replayer: replayer)
            } catch let error as PrivateDirectory.Unsafe {
                log.error("\(error)")
                exitCode = 1
                cleanUp()
                return 1
            } catch {
                log.warning("no control socket, so devserve ls/show will not reach this instance: \(error)")
            }
        }
        if !ListeningSocket.isLoopback(configuration.host) {
            log.warning("listening on \(configuration.host), not loopback: anyone who can reach this machine can use the application")
        }
        if pluginWatcher.isPolling && configuration.reloadOnChange {
            log.warning("inotify is unavailable: checking \(configuration.pluginPath) for changes every 250 ms")
        }
        apply(.start(now: MonotonicClock.now()))
        while !(stopping && workers.isEmpty && build == nil) && !(exitCode != 0 && workers.isEmpty) {
            pollOnce()
        }
        cleanUp()
        return exitCode
    }

    // MARK: The loop

    private func pollOnce() {
        var descriptors = [pollfd(fd: SignalPipe.readEnd, events: Int16(POLLIN), revents: 0)]
        for descriptor in [pluginWatcher.descriptor, sourceWatcher?.descriptor, applicationWatcher.descriptor, build.map(\.output)].compactMap({ $0 }) where descriptor >= 0 {
            descriptors.append(pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0))
        }
        for worker in workers {
            for descriptor in [worker.events, worker.stdout, worker.stderr] where descriptor >= 0 {
                descriptors.append(pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0))
            }
        }
        let ready = poll(&descriptors, nfds_t(descriptors.count), pollTimeout())
        let readable = Set(descriptors.filter { $0.revents != 0 }.map(\.fd))
        // Nothing happened for a moment: decode some of the records kept as frames (see
        // Recorder.decodeKept), a slice at a time so that events are never kept waiting.
        if ready == 0 && decodingKept && MonotonicClock.now() - lastWorkerEvents >= Self.quietBeforeDecoding {
            decodingKept = recorder.decodeKept(limit: 256)
        }
        for signal in SignalPipe.drain() { handle(signal: signal) }
        for worker in workers { readPipes(of: worker, readable: readable) }
        readBuildOutput()
        // Watchers are read when inotify says so, not on every wake-up (under load the loop
        // wakes thousands of times a second for worker events).
        noticeChanges(
            plugin: pluginWatcher.isPolling || pluginWatcher.descriptor.map(readable.contains) == true,
            sources: sourceWatcher.map { $0.isPolling || $0.descriptor.map(readable.contains) == true } ?? false,
            application: !applicationFiles.isEmpty && (applicationWatcher.isPolling || applicationWatcher.descriptor.map(readable.contains) == true))
        reapChildren()
        runTimers()
        publishState()
        log.flush()
    }

    /// Publishes ``state`` when something in it changed (every loop iteration: keep it cheap).
    private func publishState() {
        var next = lastState
        next.url = url
        next.pluginPath = configuration.displayName
        let serving = current ?? lifecycle.candidate.flatMap(process)
        next.generation = serving?.generation ?? lifecycle.generation
        next.workerPID = serving?.pid
        next.stale = lifecycle.stale
        next.building = build != nil
        next.served = served
        if stopping {
            next.worker = .stopping
        } else if lifecycle.isWaitingForChange {
            next.worker = .waitingForChange
        } else if lifecycle.candidate != nil && lifecycle.current != nil {
            next.worker = .reloading
        } else if lifecycle.backingOffGeneration != nil {
            next.worker = .restarting
        } else if let worker = lifecycle.current, lifecycle.silent.contains(worker) {
            next.worker = .stuck
        } else if lifecycle.currentIsReady {
            next.worker = .serving
        } else {
            next.worker = .starting
        }
        updateStatus()
        if next != lastState {
            var unchanged = lastState
            unchanged.served = next.served
            lastState = next
            // The served count changes with every request: readers sample it, nobody is woken.
            state.set(next, notify: unchanged != next)
        }
    }

    /// Whether devserve had a controlling terminal at start; a SIGHUP after it is gone is the
    /// terminal hanging up, not a request to reload.
    private static let hadTerminal: Bool = {
        let descriptor = open("/dev/tty", O_RDONLY | O_CLOEXEC | O_NOCTTY)
        if descriptor >= 0 { close(descriptor) }
        return descriptor >= 0
    }()

    static var terminalHungUp: Bool {
        guard hadTerminal else { return false }
        let descriptor = open("/dev/tty", O_RDONLY | O_CLOEXEC | O_NOCTTY)
        if descriptor >= 0 { close(descriptor) }
        return descriptor < 0
    }

    /// Asks the loop to stop as on SIGTERM (from another thread: the inspector's `Q`).
    public static func requestStop() { SignalPipe.wake(SIGTERM) }

    /// Asks the loop to start the next generation, as `devserve reload` does.
    public static func requestReload() { SignalPipe.wake(SignalPipe.inspectorReloadRequest) }

    private func pollTimeout() -> Int32 {
        var milliseconds = 1000
        if let deadline = lifecycle.nextDeadline { milliseconds = max(0, min(milliseconds, (deadline - MonotonicClock.now()) / 1000 + 1)) }
        if stopping || lifecycle.isWaitingForChange || configuration.requestTimeout != nil || !lifecycle.retiring.isEmpty || pluginWatcher.isPolling
            || (sourceWatcher?.isPolling ?? false) || (applicationWatcher.isPolling && !applicationFiles.isEmpty) {
            milliseconds = min(milliseconds, 200)
        }
        if decodingKept {
            // Woken when the quiet has lasted long enough, then a slice every millisecond.
            let quiet = MonotonicClock.now() - lastWorkerEvents
            milliseconds = min(milliseconds, max(1, (Self.quietBeforeDecoding - quiet) / 1000 + 1))
        }
        if configuration.capture && memoryTrim.isPending(evictions: recorder.statistics.evictions) {
            milliseconds = min(milliseconds, MemoryTrim.quietInterval / 1000 + 50)
        }
        return Int32(milliseconds)
    }

    private func runTimers() {
        let now = MonotonicClock.now()
        if stopping {
            apply(.tick(now: now))
            return
        }
        if let timeout = configuration.requestTimeout, configuration.capture {
            let timedOut = recorder.markTimedOut(after: Int(timeout * 1_000_000))
            for id in timedOut {
                if let record = recorder.record(id) {
                    log.warning("[\(record.workerID)] \(record.method) \(Sanitize.line(record.target)) timed out: \(record.timeout ?? "")")
                }
            }
            enforceRequestTimeout(newlyTimedOut: timedOut)
        }
        checkHeartbeats(now: now)
        sampleMemory(now: now)
        trimMemoryAfterEvictions(now: now)
        // Waiting for a fixed build: the plugin watcher notices it (one debounced reload).
        // Only with --no-reload is there no watcher, so the file's stamp is checked here and
        // feeds the same reload path; two paths would start two generations for one change.
        if !configuration.reloadOnChange, lifecycle.reload == nil, lifecycle.isWaitingForChange, let stamp = waitingStamp,
           let current = FileStamp(path: configuration.pluginPath), current != stamp {
            waitingStamp = current
            apply(.pluginChanged(reason: "\(configuration.pluginPath) changed", now: now))
        }
        apply(.tick(now: now))
    }

    /// Hands the memory evicted records left free back to the kernel, when ``MemoryTrim`` says.
    private func trimMemoryAfterEvictions(now: Int) {
        guard configuration.capture else { return }
        let quiet = { self.workers.allSatisfy { $0.inFlight.isEmpty && now - $0.lastHeard >= MemoryTrim.quietInterval } }
        if memoryTrim.shouldTrim(now: now, evictions: recorder.statistics.evictions, quiet: quiet, freeBytes: { devserve_shim_free_heap_bytes() }) {
            _ = devserve_shim_malloc_trim()
        }
    }

    // MARK: Workers

    /// Starts `worker`, loading `pluginPath` (its generation's snapshot). - Returns: why not.
    private func spawnWorker(_ worker: WorkerLifecycle.Worker, pluginPath: String) -> String? {
        var environment = ProcessEnvironment.all()
        if ProcessEnvironment.value("SWIFT_BACKTRACE") == nil {
            // The backtrace is the only diagnostic of a release-mode trap: keep it on, and
            // plain (it goes to a pipe), and short: the crashed thread, no registers.
            environment.append("SWIFT_BACKTRACE=enable=yes,interactive=no,color=no,threads=crashed,registers=none,images=none")
        }
        // Ours win over inherited ones of the same name (getenv returns the first).
        let ours = Set(configuration.workerEnvironment.map { $0.prefix { $0 != "=" } })
        environment.removeAll { ours.contains($0.prefix { $0 != "=" }) }
        environment += configuration.workerEnvironment
        let limits = configuration.limits
        let arguments = [
            "worker", pluginPath,
            "--generation", String(worker.generation), "--instance", String(worker.instance),
            "--threads", String(configuration.threads), "--event-loops", String(configuration.eventLoops),
            "--server-name", configuration.host, "--server-port", String(socket.port),
            "--copy-dir", copyDirectory, "--parent", String(getpid()),
            "--max-request-body", String(limits.maxRequestBody),
            "--header-timeout", String(limits.headerTimeout), "--idle-timeout", String(limits.idleTimeout),
            "--body-timeout", String(limits.bodyTimeout), "--buffer-body", String(limits.bufferBody),
            "--shutdown-grace", String(limits.shutdownGrace),
            "--max-body", String(configuration.recorder.maxBody),
        ] + (configuration.capture ? [] : ["--no-capture"])
        do {
            workers.append(try WorkerProcess.spawn(
                executable: executable, arguments: arguments, listen: socket.descriptor,
                environment: environment, identity: worker, pluginPath: pluginPath))
            return nil
        } catch {
            log.error("cannot start a worker: \(error)")
            return "cannot start a worker: \(error)"
        }
    }

    /// Copies the plugin file to this generation's snapshot: the worker of this generation,
    /// and any worker restarted after it crashes, load these bytes, whatever the file on disk
    /// becomes. Copying runs no plugin code.
    func snapshot(generation: Int) -> String? {
        let path = snapshotPath(generation: generation)
        do {
            try FileCopy.copy(from: configuration.pluginPath, to: path)
            return path
        } catch {
            log.error("cannot read the plugin \(configuration.pluginPath): \(error)")
            return nil
        }
    }

    /// Where `generation`'s snapshot is.
    func snapshotPath(generation: Int) -> String {
        let name = configuration.pluginPath.split(separator: "/").last.map(String.init) ?? "plugin.so"
        return "\(copyDirectory)/generation-\(generation)-\(name)"
    }

    /// Reaps the workers and the build that exited; only those: another thread's children
    /// (the inspector's editor) are theirs to wait for.
    private func reapChildren() {
        for pid in workers.map(\.pid) + (build.map { [$0.pid] } ?? []) {
            var status: Int32 = 0
            guard waitpid(pid, &status, WNOHANG) == pid else { continue }
            if let running = build, running.pid == pid {
                buildExited(running, status: status)
                continue
            }
            guard let index = workers.firstIndex(where: { $0.pid == pid }) else { continue }
            let worker = workers.remove(at: index)
            readPipes(of: worker)
            worker.closePipes()
            workerExited(worker, status: status)
            removeCopies(of: worker)
        }
    }

    private func workerExited(_ worker: WorkerProcess, status: Int32) {
        let signalled = status & 0x7F != 0
        let code = (status >> 8) & 0xFF
        let who = "worker gen \(worker.generation) pid \(worker.pid)"
        let role = lifecycle.role(of: worker.identity)
        var failure = ""
        defer { apply(.exited(worker.identity, requestsInFlight: !worker.inFlight.isEmpty, failure: failure, now: MonotonicClock.now())) }
        if role == .stopping {
            log.info("\(who) stopped")
            return
        }
        if role == .retiring {
            if worker.ready { log.info("\(who) retired") }
            if !worker.inFlight.isEmpty {
                let why = worker.replacedBecause.map { "the worker was replaced (\($0)) and ended before this request finished" }
                    ?? "the worker retired (a reload) and ended before this request finished"
                let touched = recorder.abandoned(inFlight: Array(worker.inFlight.keys), detail: why)
                if let journal { for id in touched { if let record = recorder.record(id) { journal.append(record, recorder: recorder) } } }
            }
            return
        }
        if role == .candidate {
            let cause = status & 0x7F != 0 ? "crashed with \(Self.signalName(status & 0x7F))" : "exited with status \((status >> 8) & 0xFF)"
            failure = worker.loadFailure ?? "\(cause) during start-up\(worker.crashSummary.map { ": \($0)" } ?? "")"
            return
        }
        if signalled && status & 0x7F == SIGKILL && !worker.killedByUs && !worker.crashing {
            // Not us: most likely the kernel's OOM killer (dmesg says for sure).
            let rss = worker.lastRSS.map { "; its memory was \($0 >> 20) MiB a moment before" } ?? ""
            log.error("\(who) was killed by SIGKILL, not by devserve: probably out of memory (the kernel's OOM killer)\(rss)")
        } else if signalled {
            let number = status & 0x7F
            let summary = worker.crashSummary.map { ": \($0)" } ?? ""
            log.error("\(who) crashed with \(Self.signalName(number))\(summary)")
        } else if worker.loadFailure == nil {
            log.error("\(who) exited with status \(code)")
        }
        // Blame: the request whose thread crashed (the crash handler said which) is the one
        // that crashed; the others were only interrupted. Without that word (kill -9, OOM,
        // exit()), every request in flight is marked crashed, as nothing tells them apart.
        let culprit = worker.culprit.flatMap { worker.inFlight[$0] != nil ? $0 : nil }
        for (id, request) in worker.inFlight.sorted(by: { $0.key < $1.key }) {
            let fate = culprit == nil || id == culprit ? "crashed" : "interrupted (the crash was [\(culprit!)]'s)"
            log.error("[\(id)] \(request.method) \(Sanitize.line(request.target)) was in flight when the worker died: \(fate)")
        }
        if !worker.inFlight.isEmpty {
            let cause = signalled ? Self.signalName(status & 0x7F) : "exit status \(code)"
            let backtrace = String(decoding: worker.stderrTail, as: UTF8.self)
            var touched: [Int]
            if let culprit {
                let others = worker.inFlight.keys.filter { $0 != culprit }
                touched = recorder.workerInterrupted(inFlight: Array(others), culprit: culprit, signal: cause)
                touched += recorder.workerCrashed(inFlight: [culprit], signal: cause, backtrace: backtrace)
            } else {
                touched = recorder.workerCrashed(inFlight: Array(worker.inFlight.keys), signal: cause, backtrace: backtrace)
            }
            if let journal { for id in touched { if let record = recorder.record(id) { journal.append(record, recorder: recorder) } } }
        }
    }

    // MARK: Performing the lifecycle's actions

    /// Crashed workers left to finish their backtraces (``WorkerLifecycle``).
    public static let maxDyingWorkers = WorkerLifecycle.maxWaitingForBacktrace

    /// The slot's worker process: starting, serving, or taking over.
    var current: WorkerProcess? { lifecycle.current.flatMap(process) }

    var stopping: Bool { lifecycle.isStopping }

    func process(_ worker: WorkerLifecycle.Worker) -> WorkerProcess? {
        workers.first { $0.instance == worker.instance }
    }

    /// Feeds `event` to the lifecycle and performs what it answers.
    func apply(_ event: WorkerLifecycle.Event) {
        let actions = lifecycle.handle(event)
        for action in actions { perform(action) }
        if lifecycle.isWaitingForChange {
            if waitingStamp == nil { waitingStamp = FileStamp(path: configuration.pluginPath) ?? FileStamp(size: -1, modified: -1) }
        } else {
            waitingStamp = nil
        }
    }

    private func perform(_ action: WorkerLifecycle.Action) {
        switch action {
        case .spawn(let worker, let newSnapshot):
            let path: String
            if newSnapshot {
                guard let copied = snapshot(generation: worker.generation) else {
                    apply(.spawnFailed(worker, reason: "generation \(worker.generation) could not be read"))
                    return
                }
                path = copied
            } else {
                path = snapshotPath(generation: worker.generation)
            }
            if let failure = spawnWorker(worker, pluginPath: path) { apply(.spawnFailed(worker, reason: failure)) }
        case .startAccepting(let worker, let announce):
            process(worker)?.startAccepting()
            if let announce { log.info(announce) }
        case .terminate(let worker):
            if let process = process(worker) { kill(process.pid, SIGTERM) }
        case .kill(let worker, let reason):
            guard let process = process(worker) else { return }
            switch reason {
            case .overdue:
                log.warning("worker gen \(process.generation) pid \(process.pid) did not finish within --shutdown-grace: killed; \(inFlightText(process, now: MonotonicClock.now()))")
            case .backtraceQueueFull(let waiting):
                log.warning("worker gen \(process.generation) pid \(process.pid) is killed before its backtrace is done: \(waiting) crashed workers are waiting for theirs")
            case .superseded, .stopping:
                break
            }
            process.killedByUs = true
            if process.crashing { Self.killChildren(of: process.pid) }
            kill(process.pid, SIGKILL)
        case .startBuild:
            startBuild()
        case .terminateBuild:
            if let build { kill(-build.pid, SIGTERM) }
        case .killBuild:
            if let build { kill(-build.pid, SIGKILL) }
        case .info(let text):
            log.info(text)
        case .warning(let text):
            log.warning(text)
        case .error(let text):
            log.error(text)
        case .exit(let code):
            exitCode = code
        }
    }

    /// Kills the processes `pid` started: for a crashed worker, the Swift runtime's
    /// `swift-backtrace`, which would otherwise outlive devserve symbolicating a process that
    /// is gone (it runs at the lowest priority, so under load it is still at work when the
    /// worker is killed). Read from /proc/PID/task/TID/children.
    static func killChildren(of pid: pid_t) {
        for task in PrivateDirectory.names(in: "/proc/\(pid)/task") {
            guard let text = FileBytes.read("/proc/\(pid)/task/\(task)/children").map({ String(decoding: $0, as: UTF8.self) }) else { continue }
            for child in text.split(separator: " ").compactMap({ pid_t($0) }) { kill(child, SIGKILL) }
        }
    }

    /// `devserve ls`'s status line, when what it says changed.
    func updateStatus() {
        let worker = current
        let silentText = worker?.silentReport
        let key = (generation: worker?.generation, stale: lifecycle.stale, silent: silentText)
        if let last = lastStatus, last == key { return }
        lastStatus = key
        let serving = worker.map { "serving generation \($0.generation)" } ?? "not serving"
        if let silentText {
            status.value = "\(serving) (\(silentText))"
        } else {
            status.value = lifecycle.stale.map { "\(serving) (STALE: \($0))" } ?? serving
        }
    }

    // MARK: Stopping

    private func handle(signal: Int32) {
        switch signal {
        case SIGCHLD:
            break  // reaped after every poll
        case SignalPipe.reloadRequest:
            apply(.reloadRequested(reason: "`devserve reload` asked for a reload", now: MonotonicClock.now()))
        case SignalPipe.inspectorReloadRequest:
            if let current, lifecycle.silent.contains(current.identity) {
                replaceWorker(current, because: "R pressed in the inspector while the worker was not answering")
            } else {
                apply(.reloadRequested(reason: "R pressed in the inspector", now: MonotonicClock.now()))
            }
        case SignalPipe.restartRequest:
            if let current {
                replaceWorker(current, because: "`devserve restart` asked for a new worker")
            } else {
                apply(.reloadRequested(reason: "`devserve restart` asked for a new worker", now: MonotonicClock.now()))
            }
        case SIGHUP:
            if Self.terminalHungUp {
                // The terminal devserve runs in went away: stop, as any program in it would.
                handle(signal: SIGTERM)
            } else {
                // gunicorn's habit: `kill -HUP` reloads the application.
                apply(.reloadRequested(reason: "SIGHUP received", now: MonotonicClock.now()))
            }
        case SIGINT, SIGTERM:
            if !stopping {
                let inFlight = workers.reduce(0) { $0 + $1.inFlight.count }
                log.info("stopping: \(inFlight) request(s) in flight get up to \(Int(configuration.limits.shutdownGrace)) s to finish (press Ctrl-C again to stop now)")
            }
            apply(.stop(now: MonotonicClock.now()))
        default:
            break
        }
    }

    private func cleanUp() {
        close(socket.descriptor)
        control?.remove()
        PrivateDirectory.remove(copyDirectory)
        if exitCode == 0 { log.info("stopped") }
    }

    // MARK: Helpers

    static func signalName(_ number: Int32) -> String {
        let names: [Int32: String] = [SIGILL: "SIGILL", SIGSEGV: "SIGSEGV", SIGBUS: "SIGBUS", SIGABRT: "SIGABRT", SIGKILL: "SIGKILL",
                                      SIGTERM: "SIGTERM", SIGFPE: "SIGFPE", SIGTRAP: "SIGTRAP", SIGINT: "SIGINT"]
        let description = strsignal(number).map { String(cString: $0) } ?? "signal \(number)"
        return "\(names[number] ?? "signal \(number)") (\(description))"
    }
}

/// A file's size and modification time, to notice that it changed.
struct FileStamp: Equatable {
    let size: Int
    let modified: Int

    init(size: Int, modified: Int) {
        self.size = size
        self.modified = modified
    }

    init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        size = Int(info.st_size)
        modified = info.st_mtim.tv_sec * 1_000_000_000 + info.st_mtim.tv_nsec
    }
}
