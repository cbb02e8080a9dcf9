import ArgumentParser
import DevServer
import TUI
#if canImport(Glibc)
import Glibc
#endif

/// `devserve PLUGIN.so [options]`: serve a plugin.
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve a web application (a Python WSGI app or a native plugin) on 127.0.0.1, with an access log or the live inspector.",
        discussion: """
            PLUGIN.so is a shared library exporting devserve_plugin_entry, built with the \
            DevServeSDK (Swift) or against devserve.h (C). The application runs in a worker \
            process: if it crashes, devserve reports why (with the Swift backtrace) and starts a \
            new worker at once; the listening socket never closes.

            Anything else is a Python WSGI application (Flask, Django, any PEP 3333 callable): \
            app.py, app.py:NAME, package.module:NAME, or NAME() / NAME(args) for a factory; \
            without NAME, `application`, then `app`, then create_app() or make_app(). Its \
            directory goes first on sys.path. Each worker embeds the interpreter chosen with \
            --python; saving any source file the application imported starts a new worker \
            (a fresh interpreter), and an import error leaves the last good one serving. \
            print() and logging output written while a request runs is recorded with it.

            On a terminal, the live inspector shows every request as it arrives: Enter opens \
            one (Request, Response, Environ, Chunks and Errors tabs), f filters, E shows the \
            event log, ? lists every key, Q quits. With --no-tui, --no-capture, or when stdin \
            or stdout is not a terminal, an access log is printed instead. In the inspector, r \
            replays a request, e edits and sends it, d diffs a replay against its original, x \
            exports, S shows masked credentials.

            From another terminal: devserve ls [-f FILTER], devserve show ID, devserve replay \
            ID... (or --har FILE [--to URL]), devserve export --har|--curl|--raw, devserve \
            capture pause|resume|clear, devserve reload (each has --help).

            \(limitsHelp)
            """)

    @Argument(help: ArgumentHelp(
        "The application: a plugin (a .so exporting devserve_plugin_entry), or a Python WSGI application: app.py, app.py:NAME, package.module:NAME, NAME() or NAME(args) for a factory.",
        valueName: "application"), completion: .file(extensions: ["so", "py"]))
    var plugin: String

    @Option(help: ArgumentHelp("The Python interpreter for a Python application (default: $VIRTUAL_ENV's python, else python3 on PATH); its version, sys.path and site-packages are what the application sees.", valueName: "path"))
    var python: String?

    @Flag(name: .customLong("validate"), help: "Python: wrap the application in wsgiref.validate.validator; what it asserts is recorded as a violation on the request.")
    var validateWSGI = false

    @Option(help: "Address to listen on. Anything but loopback gets a warning: this is a development server.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on; 0 picks a free port and prints it.")
    var port = 8000

    @Option(help: "Application threads; requests beyond them wait in order.")
    var threads = 32

    @Flag(help: "Print an access log instead of the live inspector (implied when stdin or stdout is not a terminal).")
    var noTui = false

    @OptionGroup var limitOptions: LimitOptions

    @Option(help: "Captured requests kept; the oldest go first.")
    var capacity = Recorder.Configuration().capacity

    @Option(help: "Memory for captured requests (e.g. 256M, 1G); the oldest go first.")
    var maxMemory = ByteSize(Recorder.Configuration().maxMemory)

    @Option(help: "Bytes kept of each request and response body (e.g. 1M); the rest is counted, not kept.")
    var maxBody = ByteSize(Recorder.Configuration().maxBody)

    @Flag(help: "Do not record requests: the access log instead of the inspector.")
    var noCapture = false

    @Option(help: "Seconds a request may run; past them it is marked timed out and its worker replaced, as gunicorn's --timeout (the new worker takes over, the old one gets --shutdown-grace, then a stuck request's client gets a 504). Default: never: a developer may be in a debugger.")
    var requestTimeout: Double?

    @Option(help: ArgumentHelp("A source file or directory to watch (repeatable); a change runs --build, or without it restarts the worker.", valueName: "path"))
    var watch: [String] = []

    @Option(help: ArgumentHelp("The command that rebuilds the plugin (run with /bin/sh -c; one at a time; a rewritten plugin reloads).", valueName: "command"))
    var build: String?

    @Flag(help: "Do not reload when the plugin file is rewritten.")
    var noReload = false

    @Option(help: ArgumentHelp("Keep captured requests in this file across restarts (appended as they finish, loaded at start, bounded by --capacity).", valueName: "file"))
    var journal: String?

    @Option(help: ArgumentHelp("Event loop threads.", visibility: .hidden))
    var eventLoops = 1

    static let limitsHelp = """
        Limits on requests (the defaults of trusted servers): request line 8000 octets (414 \
        beyond, as RFC 9112 recommends), 100 header fields of at most 8190 bytes and 64 KiB in \
        all (431 beyond); malformed framing (Content-Length with Transfer-Encoding, differing \
        Content-Lengths, a Transfer-Encoding other than chunked, bad chunk sizes, obs-fold, \
        NUL or bare CR in a header, a missing or repeated Host on HTTP/1.1) is 400; HTTP \
        versions other than 1.0 and 1.1 are 505. Every refusal closes the connection.
        """

    func validate() throws {
        if journal != nil && noCapture { throw ValidationError("--journal keeps captured requests: it cannot go with --no-capture") }
        if build != nil && watch.isEmpty { throw ValidationError("--build needs --watch: which sources does it build?") }
        for path in watch where access(path, R_OK) != 0 { throw ValidationError("--watch \(path): no such file or directory") }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        guard capacity >= 1 else { throw ValidationError("--capacity must be at least 1") }
        if PythonApplication.isPython(plugin) {
            if let file = PythonApplication.file(of: plugin), access(file, R_OK) != 0 {
                throw ValidationError("\(file): no such file (a Python application: app.py, app.py:NAME or package.module:NAME; a plugin ends in .so)")
            }
        } else {
            guard access(plugin, R_OK) == 0 else { throw ValidationError("\(plugin): no such file (build it first, e.g. `swift build`)") }
            if python != nil || validateWSGI { throw ValidationError("--python and --validate are for Python applications; \(plugin) is a native plugin") }
        }
    }

    /// For a Python application: the interpreter, the bridge plugin, and the bridge's settings.
    private func configurePython(_ configuration: inout Supervisor.Configuration, log: ConsoleLog) throws {
        let interpreter: PythonInterpreter
        do {
            interpreter = try PythonInterpreter.probe(python ?? PythonInterpreter.defaultCommand)
            try interpreter.checkEmbeddable()
        } catch {
            log.error("\(plugin): \(error)")
            throw ExitCode(1)
        }
        let executable = WorkerExecutable.path
        guard let bridge = PythonApplication.bridgePath(executable: executable) else {
            log.error("\(plugin): the Python bridge libdevserve-python.so is not beside \(executable): build it (`swift build`) or set DEVSERVE_PYTHON_BRIDGE")
            throw ExitCode(1)
        }
        var application = PythonApplication(spec: plugin, interpreter: interpreter)
        application.validate = validateWSGI
        application.watch = watch
        application.capture = !noCapture
        configuration.pluginPath = bridge
        configuration.application = "\(plugin) (Python \(interpreter.version))"
        configuration.workerEnvironment = application.workerEnvironment
    }

    func run() throws {
        var configuration = Supervisor.Configuration(pluginPath: plugin)
        configuration.host = host
        configuration.port = port
        configuration.threads = threads
        configuration.eventLoops = eventLoops
        configuration.limits = limitOptions.limits
        configuration.capture = !noCapture
        configuration.recorder.capacity = capacity
        configuration.recorder.maxMemory = maxMemory.bytes
        configuration.recorder.maxBody = maxBody.bytes
        configuration.requestTimeout = requestTimeout
        configuration.watch = watch
        configuration.build = build
        configuration.reloadOnChange = !noReload
        configuration.journal = journal
        let log = ConsoleLog()
        if PythonApplication.isPython(plugin) { try configurePython(&configuration, log: log) }
        let supervisor: Supervisor
        do {
            supervisor = try Supervisor(configuration: configuration, log: log)
        } catch {
            log.error("\(error)")
            throw ExitCode(1)
        }
        let inspector = noTui || noCapture || !Inspector.terminalIsCapable ? nil : startInspector(supervisor, log: log)
        let code = supervisor.run()
        if let (inspector, eventLog) = inspector {
            inspector.stop()
            log.divert(to: nil)
            // The screen is the user's again: say how it ended, and why when it failed.
            let entries = eventLog.snapshot()
            log.replay(code == 0 ? Array(entries.suffix(1)) : entries.filter { $0.level != .info || $0.text.hasPrefix("serving") })
        }
        if code != 0 { throw ExitCode(code) }
    }

    /// Puts the inspector on the terminal and the supervisor's log lines into its event log.
    /// - Returns: nil (after saying why) when the terminal cannot run it: the log stays.
    private func startInspector(_ supervisor: Supervisor, log: ConsoleLog) -> (Inspector, EventLog)? {
        let eventLog = EventLog()
        let recorder = supervisor.recorder
        let state = supervisor.state
        let offset = Self.utcOffset()
        let replayer = supervisor.replayer
        let directory = FileManagerLite.currentDirectory()
        let inspector = Inspector(recorder: recorder, eventLog: eventLog, serverState: state) {
            InspectorApp.Environment(
                source: recorder, eventLog: eventLog, server: { state.value },
                reload: Supervisor.requestReload, quit: Supervisor.requestStop, utcOffset: offset,
                replay: { requests, done in Self.replay(requests, with: replayer, done: done) }, exportDirectory: directory)
        }
        do {
            try inspector.start()
        } catch {
            log.warning("\(error); printing the access log instead")
            return nil
        }
        log.divert(to: eventLog)
        return (inspector, eventLog)
    }

    /// Replays in order on a thread of their own (the inspector's thread only draws).
    private static func replay(_ requests: [(id: Int, edited: RawRequest?)], with replayer: Replayer, done: @escaping @Sendable (String, Bool) -> Void) {
        let work = requests.map { ($0.id, $0.edited) }
        DetachedThread.start {
            var lines: [String] = []
            var failed = false
            for (id, edited) in work {
                do {
                    let outcome = try edited.map { try replayer.send($0, replaying: id) } ?? replayer.replay(id)
                    lines.append(outcome.summary)
                } catch {
                    lines.append("#\(id) not replayed: \(error)")
                    failed = true
                }
            }
            done(lines.count > 2 ? "\(lines.count) replayed; last: \(lines.last ?? "")" : lines.joined(separator: "; "), failed)
        }
    }

    /// Seconds east of UTC here, now.
    private static func utcOffset() -> Int {
        var now = time(nil)
        var parts = tm()
        localtime_r(&now, &parts)
        return parts.tm_gmtoff
    }
}

/// The working directory, where the inspector writes exports.
enum FileManagerLite {
    static func currentDirectory() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getcwd(&buffer, buffer.count) != nil else { return "." }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
