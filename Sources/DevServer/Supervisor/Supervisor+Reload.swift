#if canImport(Glibc)
import Glibc
#endif

/// Reload: a rewritten plugin file, a finished build, or `devserve reload` starts a worker of
/// the next generation beside the one serving; when it reports ready it takes over and the
/// old one finishes its requests and exits. A generation that cannot load or dies starting up
/// leaves the old one serving, and the status says the build is stale and why.
extension Supervisor {
    /// Reads the watchers: the plugin rewritten schedules a reload; sources changed schedule
    /// a build (or, without `--build`, a reload). The lifecycle debounces.
    func noticeChanges(plugin: Bool, sources: Bool, application: Bool = false) {
        let now = MonotonicClock.now()
        let location = pluginLocation
        let isPlugin: (String) -> Bool = { FileWatcher.directory(of: $0) == location.directory && Self.name(of: $0) == location.name }
        if plugin, configuration.reloadOnChange, pluginWatcher.changes().contains(where: isPlugin), FileStamp(path: configuration.pluginPath) != nil {
            apply(.pluginChanged(reason: "\(configuration.pluginPath) changed", now: now))
        }
        if application, configuration.reloadOnChange, let changed = applicationWatcher.changes().first(where: applicationFiles.contains) {
            apply(.pluginChanged(reason: "\(Sanitize.line(changed)) changed", now: now))
        }
        guard sources, let sourceWatcher else { return }
        let sources = sourceWatcher.changes().filter { !isPlugin($0) }
        guard let first = sources.first else { return }
        let summary = configuration.build == nil ? first : "\(Sanitize.line(first))\(sources.count > 1 ? " and \(sources.count - 1) more" : "")"
        apply(.sourcesChanged(summary: summary, now: now))
    }

    // MARK: Builds

    /// Runs the build command (the lifecycle decided it is time).
    func startBuild() {
        guard let command = configuration.build else { return }
        log.info("building: \(command)")
        do {
            build = try BuildProcess.start(command: command, environment: ProcessEnvironment.all())
        } catch {
            log.error("cannot run the build: \(error)")
            apply(.buildCouldNotStart)
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
        let now = MonotonicClock.now()
        let seconds = Double((now - finished.startedAt) / 10_000) / 100
        if code & 0x7F == 0 && (code >> 8) & 0xFF == 0 {
            log.info("build succeeded in \(seconds) s")
            apply(.buildFinished(succeeded: true, why: "", now: now))
        } else {
            let why = code & 0x7F != 0 ? "was killed by \(Self.signalName(code & 0x7F))" : "failed with status \((code >> 8) & 0xFF)"
            log.error("build \(why) after \(seconds) s\(current.map { ": still serving generation \($0.generation)" } ?? "")")
            apply(.buildFinished(succeeded: false, why: why, now: now))
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
