import DevServer
#if canImport(Glibc)
import Glibc
#endif

/// The inspector's speed with a large capture (issue 5): time to draw a frame, to apply a
/// filter, and the latency of a key press while requests flood in. Real curses output (to
/// /dev/null) and the real inspector loop; keys arrive through a pipe as from a terminal.
public enum InspectorBenchmark {
    public struct Options: Sendable {
        public var entries = 100_000
        /// Requests per second recorded during the latency run.
        public var rate = 10_000
        public var seconds = 5.0
        public var width = 200
        public var height = 60

        public init() {}
    }

    /// Runs everything and returns the report, one figure per line.
    public static func run(_ options: Options) throws -> [String] {
        var report: [String] = []
        let recorder = filledRecorder(options.entries)
        report.append("captured: \(recorder.statistics.count) entries, \(recorder.statistics.bytes >> 20) MiB (recorder's estimate)")
        report += try frames(recorder, options)
        report += filters(recorder)
        report.append(largeBody())
        report += try latency(recorder, options)
        return report
    }

    // MARK: Traffic

    static func filledRecorder(_ entries: Int) -> Recorder {
        var configuration = Recorder.Configuration()
        configuration.capacity = entries
        configuration.maxMemory = 1 << 40
        let recorder = Recorder(configuration: configuration)
        let feeder = Feeder(recorder: recorder)
        for _ in 0..<entries { feeder.request() }
        return recorder
    }

    /// Produces the events of one realistic request at a time, as a worker would.
    final class Feeder: @unchecked Sendable {
        let recorder: Recorder
        private var sequence = 0
        private static let paths = ["/", "/api/users", "/api/users/42", "/static/app.js", "/login", "/api/orders?page=3", "/health", "/search?q=lamp"]
        private static let methods = ["GET", "GET", "GET", "POST", "GET", "PUT", "GET", "DELETE"]
        private static let statuses = ["200 OK", "200 OK", "201 Created", "304 Not Modified", "404 Not Found", "200 OK", "500 Internal Server Error", "302 Found"]

        init(recorder: Recorder) { self.recorder = recorder }

        func request() {
            sequence += 1
            let id = "1.\(sequence)"
            let pick = sequence % 8
            let path = Self.paths[pick]
            let headers = [HeaderField("Host", "127.0.0.1:8000"), HeaderField("User-Agent", "curl/8.5.0"), HeaderField("Accept", "*/*")]
            let environ = [
                ("REQUEST_METHOD", Self.methods[pick]), ("PATH_INFO", path), ("QUERY_STRING", ""), ("SERVER_NAME", "127.0.0.1"),
                ("SERVER_PORT", "8000"), ("SERVER_PROTOCOL", "HTTP/1.1"), ("HTTP_HOST", "127.0.0.1:8000"), ("HTTP_USER_AGENT", "curl/8.5.0"),
                ("wsgi.url_scheme", "http"), ("wsgi.multithread", "true"),
            ].map { EnvironEntry(key: Array($0.0.utf8), value: Array($0.1.utf8)) }
            let now = WallClock.microseconds()
            recorder.apply(.requestStarted(RequestStart(
                id: id, generation: 1, client: "127.0.0.1:50000", time: now, method: Self.methods[pick], target: path,
                version: "HTTP/1.1", headers: headers, environ: CompactEnviron(environ))))
            let status = Self.statuses[pick]
            recorder.apply(.responseStarted(id: id, status: status, headers: [HeaderField("Content-Type", "application/json")], replaced: false))
            recorder.apply(.headSent(id: id, head: Array("HTTP/1.1 \(status)\r\nContent-Type: application/json\r\nContent-Length: 27\r\n\r\n".utf8)))
            recorder.apply(.chunk(id: id, offset: 80, size: 27, bytes: Array(#"{"id": 42, "name": "needle"}"#.utf8.prefix(27))))
            recorder.apply(.requestFinished(RequestSummary(
                id: id, generation: 1, client: "127.0.0.1:50000", method: Self.methods[pick], target: path, version: "HTTP/1.1",
                status: Int(status.prefix(3))!, bytes: 27, durationMicroseconds: 150 + (sequence % 50) * 100, outcome: pick == 6 ? "app-error" : "complete")))
        }
    }

    // MARK: Measurements

    private static func frames(_ recorder: Recorder, _ options: Options) throws -> [String] {
        let (terminal, keys) = try offscreenTerminal(options)
        defer {
            terminal.end()
            close(keys)
        }
        let app = InspectorApp(environment: .init(source: recorder))
        var times: [Int] = []
        terminal.draw(app.render(width: options.width, height: options.height))
        for frame in 0..<300 {
            // Scroll up through the list, then jump: every frame differs from the last.
            app.handle(frame % 50 == 49 ? .character("G") : .character("k"))
            let start = MonotonicClock.now()
            terminal.draw(app.render(width: options.width, height: options.height))
            times.append(MonotonicClock.now() - start)
        }
        var full: [Int] = []
        for _ in 0..<50 {
            terminal.invalidate()
            let start = MonotonicClock.now()
            terminal.draw(app.render(width: options.width, height: options.height))
            full.append(MonotonicClock.now() - start)
        }
        return [
            "frame (\(options.width)x\(options.height), list scrolled by a key): \(summary(times)) (target: under 10 ms; p99 is \(ratio(percentile(times, 0.99), 10_000)) of it)",
            "full redraw (after a resize): \(summary(full))",
        ]
    }

    /// Opens the Response tab of a request with a 100 MB body, and searches all of it.
    private static func largeBody() -> String {
        var configuration = Recorder.Configuration()
        configuration.maxBody = 128 << 20
        configuration.maxMemory = 1 << 40
        let recorder = Recorder(configuration: configuration)
        recorder.apply(.requestStarted(RequestStart(
            id: "1.1", generation: 1, client: "127.0.0.1:1", time: WallClock.microseconds(), method: "GET", target: "/big",
            version: "HTTP/1.1", headers: [], environ: CompactEnviron([]))))
        recorder.apply(.responseStarted(id: "1.1", status: "200 OK", headers: [HeaderField("Content-Type", "application/json")], replaced: false))
        var line = Array(#"{"id": 12345, "name": "a line of a large export", "tags": ["x", "y"]}"#.utf8) + [10]
        line += [UInt8](repeating: 32, count: 100 - line.count)
        let chunk = Array([[UInt8]](repeating: line, count: 10_486).joined())
        for index in 0..<100 { recorder.apply(.chunk(id: "1.1", offset: index, size: chunk.count, bytes: chunk)) }
        recorder.apply(.requestFinished(RequestSummary(
            id: "1.1", generation: 1, client: "127.0.0.1:1", method: "GET", target: "/big", version: "HTTP/1.1",
            status: 200, bytes: chunk.count * 100, durationMicroseconds: 1000, outcome: "complete")))
        let app = InspectorApp(environment: .init(source: recorder))
        app.handle(.enter)
        let start = MonotonicClock.now()
        app.handle(.tab)
        let screen = app.render(width: 200, height: 60)
        let opened = MonotonicClock.now() - start
        let searchStart = MonotonicClock.now()
        app.handle(.character("/"))
        for character in "NOT-THERE" { app.handle(.character(character)) }
        app.handle(.enter)
        _ = app.render(width: 200, height: 60)
        let searched = MonotonicClock.now() - searchStart
        let shown = screen.text.contains("a line of a large export") ? "" : " (BODY NOT SHOWN)"
        return "a \((chunk.count * 100) >> 20) MiB response body: Response tab drawn in \(ms(opened)), searched whole in \(ms(searched))\(shown)"
    }

    private static func filters(_ recorder: Recorder) -> [String] {
        let list = ListModel(source: recorder)
        var lines: [String] = []
        for expression in ["~c 5xx", "~m GET & ~u /api", "~b needle", "!(~c 2xx) | ~dur >4ms", ""] {
            var times: [Int] = []
            for _ in 0..<5 {
                let start = MonotonicClock.now()
                try? list.setFilter(expression)
                times.append(MonotonicClock.now() - start)
            }
            let label = expression.isEmpty ? "(clear)" : expression
            lines.append("filter \(label): \(list.ids.count) match, median \(ms(percentile(times, 0.5))) (target: under 100 ms; \(ratio(percentile(times, 0.5), 100_000)))")
        }
        return lines
    }

    private static func latency(_ recorder: Recorder, _ options: Options) throws -> [String] {
        var descriptors: [Int32] = [-1, -1]
        guard pipe(&descriptors) == 0 else { throw SystemCallError(call: "pipe", subject: "benchmark keys", errno: errno) }
        let (readKeys, writeKeys) = (descriptors[0], descriptors[1])
        let frames = KeyFrames()
        let inspector = Inspector(
            recorder: recorder, eventLog: nil, configuration: Inspector.Configuration(),
            environment: { InspectorApp.Environment(source: recorder) }, input: readKeys,
            terminal: { try offscreenTerminal(options, input: readKeys).0 }, onKeyFrame: { frames.record($0) })
        try inspector.start()
        let stop = Flag()
        let feeder = Feeder(recorder: recorder)
        let fed = Counter()
        DetachedThread.start {
            // Paced in 1 ms batches, as the supervisor applies a worker's batched events.
            let start = MonotonicClock.now()
            while !stop.isSet {
                let due = Int(Double(MonotonicClock.now() - start) * Double(options.rate) / 1_000_000)
                while fed.value < due { feeder.request(); fed.increment() }
                usleep(1000)
            }
            stop.acknowledge()
        }
        usleep(300_000)
        var latencies: [Int] = []
        let begin = MonotonicClock.now()
        let fedAtBegin = fed.value
        let presses = max(10, Int(options.seconds * 20))
        for press in 0..<presses {
            var key: UInt8 = press % 2 == 0 ? UInt8(ascii: "k") : UInt8(ascii: "j")
            let before = frames.count
            let sent = MonotonicClock.now()
            _ = write(writeKeys, &key, 1)
            let deadline = sent + 2_000_000
            while frames.count == before && MonotonicClock.now() < deadline { usleep(100) }
            if let drawn = frames.last, frames.count > before { latencies.append(drawn - sent) }
            usleep(UInt32(max(0, 1_000_000 * options.seconds / Double(presses) - 1000)))
        }
        let elapsed = MonotonicClock.now() - begin
        let achieved = Double(fed.value - fedAtBegin) * 1_000_000 / Double(elapsed)
        stop.set()
        stop.waitForAcknowledgement()
        inspector.stop()
        close(writeKeys)
        close(readKeys)
        return [
            "recording while keys were pressed: \(Int(achieved)) requests/s (asked \(options.rate)), \(recorder.statistics.count) entries kept",
            "key press to frame drawn: \(summary(latencies)) over \(latencies.count) presses (target: under 50 ms; p99 is \(ratio(percentile(latencies, 0.99), 50_000)) of it)",
        ]
    }

    /// A curses screen writing to /dev/null, reading keys from a pipe.
    private static func offscreenTerminal(_ options: Options, input: Int32? = nil) throws -> (Terminal, Int32) {
        setenv("LINES", String(options.height), 1)
        setenv("COLUMNS", String(options.width), 1)
        var descriptors: [Int32] = [-1, -1]
        if input == nil { _ = pipe(&descriptors) }
        let output = fopen("/dev/null", "w")
        let keys = fdopen(dup(input ?? descriptors[0]), "r")
        let terminal = try Terminal(output: output, input: keys, type: "xterm-256color", colour: true)
        return (terminal, descriptors[1])
    }

    // MARK: Figures

    static func percentile(_ values: [Int], _ fraction: Double) -> Int {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * fraction))]
    }

    static func summary(_ values: [Int]) -> String {
        "median \(ms(percentile(values, 0.5))), p99 \(ms(percentile(values, 0.99))), max \(ms(values.max() ?? 0))"
    }

    static func ms(_ microseconds: Int) -> String {
        let value = Double(microseconds) / 1000
        return value < 10 ? "\(Double(Int(value * 100)) / 100) ms" : "\(Int(value)) ms"
    }

    static func ratio(_ value: Int, _ target: Int) -> String {
        "\(Double(Int(Double(value) / Double(target) * 1000)) / 10)%"
    }

    final class KeyFrames: @unchecked Sendable {
        private let lock = Lock()
        private var times: [Int] = []
        func record(_ time: Int) { lock.withLock { times.append(time) } }
        var count: Int { lock.withLock { times.count } }
        var last: Int? { lock.withLock { times.last } }
    }

    final class Counter: @unchecked Sendable {
        private let lock = Lock()
        private var count = 0
        var value: Int { lock.withLock { count } }
        func increment() { lock.withLock { count += 1 } }
    }

    final class Flag: @unchecked Sendable {
        private let condition = Condition()
        private var raised = false
        private var acknowledged = false
        var isSet: Bool { condition.withLock { raised } }
        func set() { condition.withLock { raised = true } }
        func acknowledge() {
            condition.withLock { acknowledged = true }
            condition.broadcast()
        }
        func waitForAcknowledgement() { condition.withLock { condition.wait { acknowledged } } }
    }
}
