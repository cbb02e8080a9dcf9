import CDevServeShim
import DevServer
#if canImport(Glibc)
import Glibc
#endif

/// The live inspector: runs ``InspectorApp`` on a terminal, on one thread of its own (all
/// curses calls happen there), woken through a pipe when the recorder or the event log
/// changes (docs/DESIGN.md: 0.1 ms, against 25 ms for a getch timeout). Changes are applied in
/// batches and frames capped at 30 a second, so a flood of requests never makes the screen lag
/// behind the keyboard: a key press is handled and drawn at once.
public final class Inspector: @unchecked Sendable {
    public struct Configuration: Sendable {
        /// Most frames a second drawn for recorder changes (key presses draw at once).
        public var maxFramesPerSecond = 30
        /// Colours: nil decides from NO_COLOR and the terminal.
        public var colour: Bool?

        public init() {}
    }

    private let environment: @Sendable () -> InspectorApp.Environment
    private let recorder: Recorder
    private let eventLog: EventLog?
    private let configuration: Configuration
    private let lock = Lock()
    private let started = Condition()
    private var pending: [RecorderChange] = []
    private var wakeScheduled = false
    private var stopRequested = false
    private var startError: Error?
    private var running = false
    private var finished = false
    private var wakeRead: Int32 = -1
    private var wakeWrite: Int32 = -1
    private var tokens: (recorder: Int, events: Int?) = (0, nil)
    /// Where keys come from (the benchmark's pipe; else the terminal).
    private let inputDescriptor: Int32
    private let makeTerminal: () throws -> Terminal
    /// Called after each frame drawn for a key press, with its monotonic time (benchmarks).
    private let onKeyFrame: ((Int) -> Void)?

    /// - Parameter environment: builds the app's environment on the inspector's thread.
    /// - Parameter serverState: the supervisor's published state; a change wakes the screen.
    public convenience init(recorder: Recorder, eventLog: EventLog?, serverState: Shared<ServerState>? = nil,
                            configuration: Configuration = Configuration(),
                            environment: @escaping @Sendable () -> InspectorApp.Environment) {
        self.init(recorder: recorder, eventLog: eventLog, configuration: configuration, environment: environment,
                  input: STDIN_FILENO, terminal: { try Terminal(colour: configuration.colour) }, onKeyFrame: nil)
        serverState?.observe { [weak self] in self?.wake() }
    }

    init(recorder: Recorder, eventLog: EventLog?, configuration: Configuration, environment: @escaping @Sendable () -> InspectorApp.Environment,
         input: Int32, terminal: @escaping () throws -> Terminal, onKeyFrame: ((Int) -> Void)?) {
        self.recorder = recorder
        self.eventLog = eventLog
        self.configuration = configuration
        self.environment = environment
        self.inputDescriptor = input
        self.makeTerminal = terminal
        self.onKeyFrame = onKeyFrame
    }

    /// Whether devserve should run the inspector: stdin and stdout are a terminal that can
    /// address the cursor.
    public static var terminalIsCapable: Bool {
        guard isatty(STDIN_FILENO) == 1 && isatty(STDOUT_FILENO) == 1 else { return false }
        let term = getenv("TERM").map { String(cString: $0) } ?? ""
        return !term.isEmpty && term != "dumb"
    }

    /// Takes over the terminal on a thread of its own. - Throws: when curses cannot start.
    public func start() throws {
        var fds: [Int32] = [-1, -1]
        guard devserve_shim_pipe_cloexec(&fds) == 0 else { throw SystemCallError(call: "pipe2", subject: "inspector wake pipe", errno: errno) }
        (wakeRead, wakeWrite) = (fds[0], fds[1])
        for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        tokens.recorder = recorder.subscribe { [weak self] change in self?.enqueue(change) }
        tokens.events = eventLog?.subscribe { [weak self] in self?.wake() }
        DetachedThread.start { [self] in run() }
        started.withLock { started.wait { running || finished } }
        if let startError = started.withLock({ startError }) { throw startError }
    }

    /// Leaves the screen as it was and waits for the inspector's thread to end.
    public func stop() {
        lock.withLock { stopRequested = true }
        wake(force: true)
        started.withLock { started.wait { finished } }
        recorder.unsubscribe(tokens.recorder)
        if let token = tokens.events { eventLog?.unsubscribe(token) }
        close(wakeRead)
        close(wakeWrite)
    }

    private func enqueue(_ change: RecorderChange) {
        let needsWake: Bool = lock.withLock {
            pending.append(change)
            defer { wakeScheduled = true }
            return !wakeScheduled
        }
        if needsWake { wake(force: true) }
    }

    private func wake(force: Bool = false) {
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)
    }

    // MARK: The inspector's thread

    private func run() {
        let terminal: Terminal
        do {
            terminal = try makeTerminal()
        } catch {
            started.withLock {
                startError = error
                finished = true
            }
            started.broadcast()
            return
        }
        started.withLock { running = true }
        started.broadcast()
        defer {
            terminal.end()
            started.withLock { finished = true }
            started.broadcast()
        }
        let app = InspectorApp(environment: environment())
        app.notices.wake = { [weak self] in self?.wake() }
        app.edit = { text in Self.edit(text, terminal: terminal) }
        loop(app, terminal: terminal)
    }

    private func loop(_ app: InspectorApp, terminal: Terminal) {
        let frameInterval = 1_000_000 / max(1, configuration.maxFramesPerSecond)
        var dirty = true
        var lastFrame = 0
        var drain = [UInt8](repeating: 0, count: 256)
        while !lock.withLock({ stopRequested }) {
            let now = MonotonicClock.now()
            if dirty && now - lastFrame >= frameInterval {
                draw(app, terminal)
                lastFrame = now
                dirty = false
            }
            // Idle, wake every 250 ms anyway: a resize is only seen by reading keys, and
            // spinners and rates move with time.
            let timeout = dirty ? max(1, (frameInterval - (now - lastFrame)) / 1000) : 250
            var descriptors = [pollfd(fd: inputDescriptor, events: Int16(POLLIN), revents: 0), pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
            _ = poll(&descriptors, 2, Int32(timeout))
            if descriptors[0].revents & Int16(POLLHUP | POLLERR | POLLNVAL) != 0 {
                // The terminal went away (its window closed): stop devserve as a hung-up
                // terminal would, instead of polling a dead descriptor forever.
                app.environment.quit()
                break
            }
            while read(wakeRead, &drain, drain.count) > 0 {}
            let changes: [RecorderChange] = lock.withLock {
                wakeScheduled = false
                defer { pending.removeAll(keepingCapacity: true) }
                return pending
            }
            if !changes.isEmpty {
                app.apply(changes)
                dirty = true
            }
            if eventLogChanged() || app.notices.hasPending || app.serverChanged { dirty = true }
            var pressed = false
            for key in terminal.readKeys() where app.handle(key) { pressed = true }
            if pressed {
                // Input never waits for the frame cap.
                draw(app, terminal)
                lastFrame = MonotonicClock.now()
                dirty = false
                onKeyFrame?(lastFrame)
            } else if app.needsTicks && MonotonicClock.now() - lastFrame >= 250_000 {
                dirty = true
            }
        }
    }

    private var seenEvents = 0

    /// Runs $VISUAL or $EDITOR (else vi) on `text` with the screen suspended. - Returns: the
    /// saved bytes, or nil when the editor failed or the file was left unchanged.
    static func edit(_ text: String, terminal: Terminal) -> [UInt8]? {
        let editor = [getenv("VISUAL"), getenv("EDITOR")].compactMap { $0.map { String(cString: $0) } }.first { !$0.isEmpty } ?? "vi"
        let directory = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        var template = Array("\(directory)/devserve-edit-XXXXXX.http".utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemps($0.baseAddress!, 5) }
        guard descriptor >= 0 else { return nil }
        let path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        defer { unlink(path) }
        let original = Array(text.utf8)
        FileBytes.write(original, to: descriptor)
        close(descriptor)
        terminal.suspend()
        defer { terminal.resume() }
        var pid: pid_t = 0
        let arguments = ["/bin/sh", "-c", "\(editor) \"$1\"", "sh", path]
        var argv = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        guard posix_spawn(&pid, "/bin/sh", nil, nil, &argv, environ) == 0 else { return nil }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        guard status == 0, let saved = FileBytes.read(path), saved != original else { return nil }
        return saved
    }

    private func eventLogChanged() -> Bool {
        guard let eventLog else { return false }
        let total = eventLog.totalAdded
        defer { seenEvents = total }
        return total != seenEvents
    }

    private func draw(_ app: InspectorApp, _ terminal: Terminal) {
        let size = terminal.size
        terminal.draw(app.render(width: size.width, height: size.height))
    }
}
