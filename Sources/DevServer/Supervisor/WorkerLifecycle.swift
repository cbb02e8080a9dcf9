/// The supervisor's workers as one value (issue 12): which worker serves, which newer
/// generation is starting beside it, which are retiring or dying, the build and the debounced
/// reload, written as states. Events go in (a worker ready, exited, crashed; a file changed; a
/// build finished; a timer; stop) and actions come out (spawn, accept, terminate, kill, build,
/// log, exit) for the supervisor to perform. No process, file or clock is touched here, so every
/// event and every pair of overlapping events is tested without processes
/// (WorkerLifecycleTests), in the manner of ``ResponseStateMachine``.
struct WorkerLifecycle {
    /// A worker as the machine knows it. `instance` is unique for the supervisor's life.
    struct Worker: Hashable, CustomStringConvertible {
        let instance: Int
        let generation: Int
        /// When it was spawned (monotonic microseconds).
        let startedAt: Int
        var description: String { "gen \(generation) #\(instance)" }
    }

    /// The serving slot: what answers the socket, or why nothing does.
    enum Phase: Equatable {
        /// Nothing in the slot: before the start, or while a newer generation (the candidate)
        /// starts after the last one gave up.
        case idle
        /// `worker` will serve once it reports ready (the first worker, or a restart).
        case starting(Worker)
        /// `worker` accepts connections.
        case serving(Worker)
        /// `to` is ready and accepts once `from` stopped accepting, or at `deadline`: two
        /// processes accepting on one socket race for each connection.
        case handingOver(from: Worker, to: Worker, deadline: Int)
        /// The worker died on start-up; its generation restarts at `until`.
        case backingOff(until: Int, generation: Int)
        /// It kept failing to start: nothing runs until the code changes.
        case waitingForChange
        /// Stopping: workers finish their requests until `deadline`, then are killed.
        case stopping(deadline: Int)
    }

    enum Build: Equatable {
        case idle
        case scheduled(at: Int)
        /// Running; `queued` when sources changed again meanwhile.
        case running(queued: Bool)
    }

    struct ScheduledReload: Equatable {
        let at: Int
        let reason: String
    }

    /// What a worker is to the machine, for the supervisor's reports.
    enum Role: Equatable {
        /// The slot's worker (starting, serving, or taking over).
        case current
        /// A newer generation starting beside the current one.
        case candidate
        /// Replaced: it finishes its requests and exits (no crash report).
        case retiring
        /// Its crash handler reported a crash; its replacement already started.
        case dying
        case stopping
        case unknown
    }

    enum Event: Equatable {
        case start(now: Int)
        /// The worker could not be spawned (or its snapshot copied); `reason` says why.
        case spawnFailed(Worker, reason: String)
        case ready(Worker, now: Int)
        case loadFailed(Worker, reason: String, now: Int)
        case stoppedAccepting(Worker, now: Int)
        /// A crash frame from the worker's own crash handler (it is dying).
        case crashReported(Worker, now: Int)
        /// The process exited. `requestsInFlight`: it had some; `failure`: how it ended, in
        /// words, for a candidate that failed.
        case exited(Worker, requestsInFlight: Bool, failure: String, now: Int)
        case heartbeatMissed(Worker)
        case answering(Worker)
        /// The plugin file (or an application module) changed: reload after a short debounce.
        case pluginChanged(reason: String, now: Int)
        /// Watched sources changed: build (with --build), or reload.
        case sourcesChanged(summary: String, now: Int)
        case buildFinished(succeeded: Bool, why: String, now: Int)
        case buildCouldNotStart
        /// Start the next generation now (`devserve reload`, R, SIGHUP, a replacement).
        case reloadRequested(reason: String, now: Int)
        case tick(now: Int)
        case stop(now: Int)
    }

    enum Action: Equatable {
        /// Spawn `worker`; `newSnapshot`: copy the plugin file for its generation first (a
        /// restart loads the snapshot its generation already has).
        case spawn(Worker, newSnapshot: Bool)
        /// Let it accept (SIGUSR1); `announce` is the line to log when it is a reload.
        case startAccepting(Worker, announce: String?)
        /// SIGTERM: stop accepting, finish the requests in flight, exit.
        case terminate(Worker)
        case kill(Worker, KillReason)
        case startBuild
        case terminateBuild
        case killBuild
        case info(String)
        case warning(String)
        case error(String)
        case exit(code: Int32)
    }

    enum KillReason: Equatable {
        /// A newer generation arrived while this candidate was still starting.
        case superseded
        /// Retiring, and still alive after the shutdown grace.
        case overdue
        /// The stop's deadline passed, or Ctrl-C was pressed twice.
        case stopping
        /// Crashed, and more than ``maxWaitingForBacktrace`` crashed workers are waiting for
        /// their backtraces: the oldest go first.
        case backtraceQueueFull(waiting: Int)
    }

    /// Crashed workers left to finish their backtraces: each is a paused process with its
    /// memory, and its backtracer runs at the lowest priority, so a storm of crashes could pile
    /// up hundreds (57 after 50 traps on a debug build).
    static let maxWaitingForBacktrace = 8

    /// A start-up crash is a worker that dies within this long without serving.
    static let startupWindow = 2_000_000
    /// Start-up crashes in a row before waiting for the code to change.
    static let maxStartupFailures = 5
    /// Debounce after the plugin file is closed: linkers write several times in a row.
    static let reloadDebounce = 15_000
    /// Debounce after sources change: editors save several files, or save twice.
    static let buildDebounce = 100_000
    /// How long a new generation waits for the old one to stop accepting.
    static let handOverLimit = 1_000_000

    private(set) var phase: Phase = .idle
    private(set) var candidate: Worker?
    private(set) var build: Build = .idle
    private(set) var reload: ScheduledReload?
    /// The newest generation given out.
    private(set) var generation = 1
    private(set) var startupFailures = 0
    private(set) var everReady = false
    /// Why the generation serving is not the newest build, when it is not.
    private(set) var stale: String?
    /// Retiring workers and when to kill them.
    private(set) var retiring: [Worker: Int] = [:]
    private(set) var dying: Set<Worker> = []
    private(set) var silent: Set<Worker> = []
    private(set) var live: Set<Worker> = []
    private var crashReported: Set<Worker> = []
    /// Crashed workers killed before their backtrace was done.
    private var backtraceAbandoned: Set<Worker> = []
    private var loadFailed: Set<Worker> = []
    /// When the change that started the reload in progress happened, for its latency.
    private var changedAt: Int?
    private var nextInstance = 1

    /// Whether `--build` is set.
    let hasBuild: Bool
    /// Microseconds a retiring worker gets before it is killed, and a stop before all are.
    let shutdownGrace: Int
    /// What the user changes to fix a failing start ("app.so", "its source files").
    let whatToChange: String

    init(hasBuild: Bool, shutdownGrace: Double, whatToChange: String) {
        self.hasBuild = hasBuild
        self.shutdownGrace = Int(shutdownGrace * 1_000_000)
        self.whatToChange = whatToChange
    }

    // MARK: Reading

    /// The slot's worker: starting, serving, or taking over.
    var current: Worker? {
        switch phase {
        case .starting(let worker), .serving(let worker), .handingOver(_, let worker, _): return worker
        case .idle, .backingOff, .waitingForChange, .stopping: return nil
        }
    }

    var isStopping: Bool { if case .stopping = phase { return true } else { return false } }
    var isWaitingForChange: Bool { phase == .waitingForChange }
    /// The generation a restart waiting for its backoff will load.
    var backingOffGeneration: Int? { if case .backingOff(_, let generation) = phase { return generation } else { return nil } }
    /// The slot's worker has reported ready.
    var currentIsReady: Bool {
        switch phase {
        case .serving, .handingOver: return true
        default: return false
        }
    }

    func role(of worker: Worker) -> Role {
        if isStopping { return .stopping }
        if retiring[worker] != nil { return .retiring }
        if dying.contains(worker) { return .dying }
        if worker == candidate { return .candidate }
        if worker == current { return .current }
        return .unknown
    }

    /// The earliest time a ``Event/tick(now:)`` has something to do, if any.
    var nextDeadline: Int? {
        var times: [Int] = retiring.values.filter { $0 != .max }
        switch phase {
        case .handingOver(_, _, let deadline): times.append(deadline)
        case .stopping(let deadline): if deadline != .max { times.append(deadline) }
        case .backingOff(let until, _): times.append(until)
        default: break
        }
        if case .scheduled(let at) = build { times.append(at) }
        if let reload { times.append(reload.at) }
        return times.min()
    }

    // MARK: Events

    /// Applies `event`; returns what the supervisor must do, in order.
    mutating func handle(_ event: Event) -> [Action] {
        var actions: [Action] = []
        switch event {
        case .start(let now):
            let worker = newWorker(generation: generation, now: now)
            phase = .starting(worker)
            actions.append(.spawn(worker, newSnapshot: true))
        case .spawnFailed(let worker, let reason):
            live.remove(worker)
            if worker == candidate {
                candidate = nil
                stale = reason
            } else if worker == current {
                // The reason was said where it happened; nothing else can serve.
                actions.append(.exit(code: 1))
            }
        case .ready(let worker, let now):
            everReady = true
            silent.remove(worker)
            if worker == candidate {
                takeOver(worker, now: now, &actions)
            } else if phase == .starting(worker) {
                phase = .serving(worker)
                actions.append(.startAccepting(worker, announce: nil))
            }
        case .loadFailed(let worker, let reason, let now):
            loadFailed.insert(worker)
            if worker == candidate {
                candidateFailed(worker, reason: reason, now: now, &actions)
            } else if !isStopping {
                actions.append(.error("cannot load \(reason)"))
            }
        case .stoppedAccepting(let worker, let now):
            finishHandOver(from: worker, now: now, &actions)
        case .crashReported(let worker, let now):
            crashReported.insert(worker)
            if !isStopping, currentIsReady, worker == current {
                dying.insert(worker)
                replace(worker, immediately: true, requestsInFlight: true, now: now, &actions)
            }
            let waiting = crashReported.subtracting(backtraceAbandoned).filter(live.contains).sorted { $0.instance < $1.instance }
            for oldest in waiting.prefix(max(0, waiting.count - Self.maxWaitingForBacktrace)) {
                backtraceAbandoned.insert(oldest)
                actions.append(.kill(oldest, .backtraceQueueFull(waiting: waiting.count)))
            }
        case .exited(let worker, let requestsInFlight, let failure, let now):
            exited(worker, requestsInFlight: requestsInFlight, failure: failure, now: now, &actions)
        case .heartbeatMissed(let worker):
            silent.insert(worker)
        case .answering(let worker):
            silent.remove(worker)
        case .pluginChanged(let reason, let now):
            guard !isStopping else { break }
            changedAt = changedAt ?? now
            reload = ScheduledReload(at: now + Self.reloadDebounce, reason: reason)
        case .sourcesChanged(let summary, let now):
            guard !isStopping else { break }
            if !hasBuild {
                reload = ScheduledReload(at: now + Self.buildDebounce, reason: "\(summary) changed")
            } else if case .running = build {
                build = .running(queued: true)
                actions.append(.info("\(summary) changed: another build will follow this one"))
            } else {
                build = .scheduled(at: now + Self.buildDebounce)
                actions.append(.info("\(summary) changed"))
            }
        case .buildFinished(let succeeded, let why, let now):
            let queued = build == .running(queued: true)
            build = queued && !isStopping ? .scheduled(at: now) : .idle
            if !succeeded { stale = "the last build \(why)" }
        case .buildCouldNotStart:
            build = .idle
        case .reloadRequested(let reason, let now):
            startReload(reason: reason, now: now, &actions)
        case .tick(let now):
            tick(now: now, &actions)
        case .stop(let now):
            if isStopping {
                actions.append(.info("stopping now"))
                for worker in live.sorted(by: { $0.instance < $1.instance }) { actions.append(.kill(worker, .stopping)) }
                break
            }
            phase = .stopping(deadline: now + shutdownGrace + 2_000_000)
            reload = nil
            for worker in live.sorted(by: { $0.instance < $1.instance }) { actions.append(.terminate(worker)) }
            if case .running = build { actions.append(.terminateBuild) }
        }
        return actions
    }

    private mutating func newWorker(generation: Int, now: Int) -> Worker {
        let worker = Worker(instance: nextInstance, generation: generation, startedAt: now)
        nextInstance += 1
        live.insert(worker)
        return worker
    }

    private mutating func retire(_ worker: Worker, now: Int, _ actions: inout [Action]) {
        retiring[worker] = now + shutdownGrace + 1_000_000
        actions.append(.terminate(worker))
    }

    /// The candidate is ready: it takes the slot; the worker there retires.
    private mutating func takeOver(_ worker: Worker, now: Int, _ actions: inout [Action]) {
        candidate = nil
        stale = nil
        switch phase {
        case .serving(let old):
            retire(old, now: now, &actions)
            phase = .handingOver(from: old, to: worker, deadline: now + Self.handOverLimit)
        case .handingOver(let old, let unstarted, let deadline):
            // The one waiting to take over never accepted: it retires at once.
            retire(unstarted, now: now, &actions)
            phase = .handingOver(from: old, to: worker, deadline: deadline)
        case .starting(let old):
            retire(old, now: now, &actions)
            phase = .serving(worker)
            actions.append(.startAccepting(worker, announce: announcement(worker, now: now)))
        case .idle, .backingOff, .waitingForChange:
            phase = .serving(worker)
            actions.append(.startAccepting(worker, announce: announcement(worker, now: now)))
        case .stopping:
            break
        }
    }

    private mutating func announcement(_ worker: Worker, now: Int) -> String {
        let latency = changedAt.map { " \((now - $0) / 1000) ms after the file changed" } ?? ""
        changedAt = nil
        return "reloaded: generation \(worker.generation) serves\(latency); the previous generation finishes its requests and exits"
    }

    /// `worker` stopped accepting (it said so, or exited): the one waiting for it starts.
    private mutating func finishHandOver(from worker: Worker, now: Int, _ actions: inout [Action]) {
        guard case .handingOver(let old, let next, _) = phase, old == worker else { return }
        phase = .serving(next)
        actions.append(.startAccepting(next, announce: announcement(next, now: now)))
    }

    private mutating func exited(_ worker: Worker, requestsInFlight: Bool, failure: String, now: Int, _ actions: inout [Action]) {
        let role = role(of: worker)
        live.remove(worker)
        silent.remove(worker)
        defer {
            retiring[worker] = nil
            dying.remove(worker)
            crashReported.remove(worker)
            backtraceAbandoned.remove(worker)
            loadFailed.remove(worker)
        }
        switch role {
        case .stopping, .dying, .unknown:
            break
        case .retiring:
            finishHandOver(from: worker, now: now, &actions)
        case .candidate:
            candidateFailed(worker, reason: failure, now: now, &actions)
        case .current:
            if loadFailed.contains(worker) && !everReady {
                // The very first build does not load: nothing to serve; the reason was said.
                actions.append(.exit(code: 1))
                return
            }
            replace(worker, immediately: false, requestsInFlight: requestsInFlight, now: now, &actions)
        }
    }

    /// The slot's worker died (or is dying): start its replacement, at once, after a backoff,
    /// or not until the code changes.
    private mutating func replace(_ worker: Worker, immediately: Bool, requestsInFlight: Bool, now: Int, _ actions: inout [Action]) {
        let wasReady = currentIsReady
        let crashed = crashReported.contains(worker)
        if !wasReady || (now - worker.startedAt < Self.startupWindow && !requestsInFlight && !crashed) {
            startupFailures += 1
        } else {
            startupFailures = 0
        }
        if loadFailed.contains(worker) || startupFailures >= Self.maxStartupFailures {
            phase = .waitingForChange
            actions.append(.error("the application keeps failing to start: waiting for \(whatToChange) to change"))
            return
        }
        if candidate != nil {
            actions.append(.info("a newer generation is starting: it takes over"))
            phase = .idle
            return
        }
        if startupFailures > 0 && !immediately {
            let delay = min(5_000_000, 100_000 << (startupFailures - 1))
            actions.append(.info("restarting in \(delay / 1000) ms"))
            phase = .backingOff(until: now + delay, generation: worker.generation)
        } else {
            actions.append(.info("restarting the worker"))
            let next = newWorker(generation: worker.generation, now: now)
            phase = .starting(next)
            actions.append(.spawn(next, newSnapshot: false))
        }
    }

    /// The candidate cannot serve: the generation serving keeps serving, stale.
    private mutating func candidateFailed(_ worker: Worker, reason: String, now: Int, _ actions: inout [Action]) {
        candidate = nil
        changedAt = nil
        if live.contains(worker) { retiring[worker] = now + shutdownGrace + 1_000_000 }
        let failed = "generation \(worker.generation) failed: \(reason)"
        if let current {
            stale = failed
            actions.append(.error("generation \(worker.generation) cannot serve: \(reason)"))
            actions.append(.error("STALE BUILD: still serving generation \(current.generation); the next change tries again"))
        } else {
            actions.append(.error("generation \(worker.generation) cannot serve: \(reason); waiting for the next change"))
            phase = .waitingForChange
            stale = failed
        }
    }

    private mutating func startReload(reason: String, now: Int, _ actions: inout [Action]) {
        guard !isStopping else { return }
        if let previous = candidate {
            // A newer build arrived while the last one was starting: that one is already old.
            retiring[previous] = .max
            actions.append(.kill(previous, .superseded))
            candidate = nil
        }
        generation += 1
        actions.append(.info("\(reason): starting a new worker (generation \(generation))"))
        switch phase {
        case .waitingForChange, .backingOff: phase = .idle
        default: break
        }
        startupFailures = 0
        let worker = newWorker(generation: generation, now: now)
        candidate = worker
        actions.append(.spawn(worker, newSnapshot: true))
    }

    private mutating func tick(now: Int, _ actions: inout [Action]) {
        if case .stopping(let deadline) = phase {
            if now >= deadline {
                phase = .stopping(deadline: .max)
                for worker in live.sorted(by: { $0.instance < $1.instance }) { actions.append(.kill(worker, .stopping)) }
                if case .running = build { actions.append(.killBuild) }
            }
            return
        }
        if case .handingOver(_, let next, let deadline) = phase, now >= deadline {
            phase = .serving(next)
            actions.append(.startAccepting(next, announce: announcement(next, now: now)))
        }
        for (worker, at) in retiring.sorted(by: { $0.key.instance < $1.key.instance }) where now >= at {
            retiring[worker] = .max
            actions.append(.kill(worker, .overdue))
        }
        if case .backingOff(let until, let generation) = phase, now >= until {
            let worker = newWorker(generation: generation, now: now)
            phase = .starting(worker)
            actions.append(.spawn(worker, newSnapshot: false))
        }
        if case .scheduled(let at) = build, now >= at {
            build = .running(queued: false)
            actions.append(.startBuild)
        }
        if let scheduled = reload, now >= scheduled.at {
            reload = nil
            startReload(reason: scheduled.reason, now: now, &actions)
        }
    }
}
