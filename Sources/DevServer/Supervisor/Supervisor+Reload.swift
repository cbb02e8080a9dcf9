#if canImport(Glibc)
import Glibc
#endif

/// Reload: a rewritten plugin file, a finished build, or `devserve reload` starts a worker of
/// the next generation beside the one serving; when it reports ready it takes over and the
/// old one finishes its requests and exits. A generation that cannot load or dies starting up
/// leaves the old one serving, and the status says the build is stale and why.
extension Supervisor {
    /// Debounce after the plugin file is closed: linkers write several times in a row.
    static let reloadDebounce = 15_000
    /// Debounce after sources change: editors save several files, or save twice.
    static let buildDebounce = 100_000

    /// Reads the watchers: the plugin rewritten schedules a reload; sources changed schedule
    /// a build (or, without `--build`, a reload).
    func noticeChanges(plugin: Bool, sources: Bool, application: Bool = false) {
        let now = MonotonicClock.now()
        let location = pluginLocation
        let isPlugin: (String) -> Bool = { FileWatcher.directory(of: $0) == location.directory && Self.name(of: $0) == location.name }
        if plugin, configuration.reloadOnChange, pluginWatcher.changes().contains(where: isPlugin), FileStamp(path: configuration.pluginPath) != nil {
            changedAt = changedAt ?? now
            reloadAt = (now + Self.reloadDebounce, "\(configuration.pluginPath) changed")
        }
        if application, configuration.reloadOnChange, let changed = applicationWatcher.changes().first(where: applicationFiles.contains) {
            changedAt = changedAt ?? now
            reloadAt = (now + Self.reloadDebounce, "\(Sanitize.line(changed)) changed")
        }
        guard sources, let sourceWatcher else { return }
        let sources = sourceWatcher.changes().filter { !isPlugin($0) }
        guard let first = sources.first else { return }
        if configuration.build != nil {
            if build != nil {
                buildQueued = true
            } else {
                buildAt = now + Self.buildDebounce
            }
            log.info("\(Sanitize.line(first))\(sources.count > 1 ? " and \(sources.count - 1) more" : "") changed\(build != nil ? ": another build will follow this one" : "")")
        } else {
            reloadAt = (now + Self.buildDebounce, "\(first) changed")
        }
    }

    func runReloadTimers(now: Int) {
        if handingOverFrom != nil { continueHandOver() }
        if let at = buildAt, now >= at {
            buildAt = nil
            startBuild()
        }
        if let scheduled = reloadAt, now >= scheduled.time {
            reloadAt = nil
            startReload(reason: scheduled.reason)
        }
    }

    /// Starts the next generation from the plugin file as it is now.
    func startReload(reason: String) {
        guard !stopping else { return }
        if let previous = candidate {
            // A newer build arrived while the last one was starting: that one is already old.
            previous.killedByUs = true
            kill(previous.pid, SIGKILL)
            previous.retiring = true
            candidate = nil
        }
        generation += 1
        guard let snapshot = snapshot(generation: generation) else {
            markStale("generation \(generation) could not be read")
            return
        }
        log.info("\(reason): starting a new worker (generation \(generation))")
        waitingForChange = nil
        startupFailures = 0
        cancelPendingRestart()
        candidate = spawnWorker(generation: generation, pluginPath: snapshot)
    }

    /// The candidate loaded: the old generation stops accepting, and once it has, the new one
    /// starts (``continueHandOver()``). Until then connections wait in the socket's backlog.
    func handOver(to worker: WorkerProcess) {
        let old = current
        current = worker
        candidate = nil
        stale = nil
        announceReload = true
        if let old, old !== worker {
            old.retiring = true
            handingOverFrom = old
            kill(old.pid, SIGTERM)
        }
        continueHandOver()
        updateStatus()
    }

    /// Lets the new generation accept once the old one stopped (or after 1 s at most).
    func continueHandOver() {
        guard let worker = current, !worker.accepting, worker.ready else { return }
        if let old = handingOverFrom, !old.stoppedAccepting, keepWaitingForHandOver() { return }
        handingOverFrom = nil
        handOverDeadline = nil
        worker.startAccepting()
        guard announceReload else { return }
        announceReload = false
        let latency = changedAt.map { " \((MonotonicClock.now() - $0) / 1000) ms after the file changed" } ?? ""
        changedAt = nil
        log.info("reloaded: generation \(worker.generation) serves\(latency); the previous generation finishes its requests and exits")
    }

    /// Whether to keep waiting for `old` to stop accepting (bounded: a stuck worker must not
    /// keep the new build from serving).
    private func keepWaitingForHandOver() -> Bool {
        let now = MonotonicClock.now()
        if handOverDeadline == nil { handOverDeadline = now + 1_000_000 }
        return now < handOverDeadline!
    }

    /// The candidate cannot serve: the old generation keeps serving, stale.
    func candidateFailed(_ worker: WorkerProcess, reason: String) {
        candidate = nil
        worker.retiring = true
        changedAt = nil
        if let current, !current.replaced {
            markStale("generation \(worker.generation) failed: \(reason)")
            log.error("generation \(worker.generation) cannot serve: \(reason)")
            log.error("STALE BUILD: still serving generation \(current.generation); the next change tries again")
        } else {
            log.error("generation \(worker.generation) cannot serve: \(reason); waiting for the next change")
            waitingForChange = FileStamp(path: configuration.pluginPath) ?? FileStamp(size: -1, modified: -1)
            markStale("generation \(worker.generation) failed: \(reason)")
        }
    }

    func markStale(_ reason: String) {
        stale = reason
        updateStatus()
    }

    func updateStatus() {
        let serving = current.map { "serving generation \($0.generation)" } ?? "not serving"
        status.value = stale.map { "\(serving) (STALE: \($0))" } ?? serving
    }

    // MARK: Builds

    func startBuild() {
        guard let command = configuration.build, !stopping else { return }
        guard build == nil else {
            buildQueued = true
            return
        }
        buildQueued = false
        log.info("building: \(command)")
        do {
            build = try BuildProcess.start(command: command, environment: ProcessEnvironment.all())
        } catch {
            log.error("cannot run the build: \(error)")
        }
    }

    func readBuildOutput() {
        guard let running = build, running.output >= 0, let bytes = drain(&running.output) else { return }
        lines(bytes, buffer: &running.lineBuffer, dropped: &running.dropped) { log.text($0, prefix: "  build |") }
    }

    func buildExited(_ finished: BuildProcess, status code: Int32) {
        readBuildOutput()
        if finished.output >= 0 { close(finished.output) }
        if !finished.lineBuffer.isEmpty { log.text(String(decoding: finished.lineBuffer, as: UTF8.self) + "\n", prefix: "  build |") }
        build = nil
        let seconds = Double((MonotonicClock.now() - finished.startedAt) / 10_000) / 100
        if code & 0x7F == 0 && (code >> 8) & 0xFF == 0 {
            log.info("build succeeded in \(seconds) s")
        } else {
            let why = code & 0x7F != 0 ? "was killed by \(Self.signalName(code & 0x7F))" : "failed with status \((code >> 8) & 0xFF)"
            log.error("build \(why) after \(seconds) s\(current.map { ": still serving generation \($0.generation)" } ?? "")")
            markStale("the last build \(why)")
        }
        if buildQueued && !stopping {
            buildAt = MonotonicClock.now()
        }
    }

    static func name(of path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }

    /// Watches a file the application asked for (a Python module it imported): its change
    /// reloads like a rebuilt plugin. Each file's directory is watched (editors replace files).
    func watchApplicationFile(_ path: String) {
        guard configuration.reloadOnChange, path.hasPrefix("/"), applicationFiles.insert(path).inserted else { return }
        applicationWatcher.watch(path)
    }
}
