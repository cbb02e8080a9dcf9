@testable import DevServer
@testable import TUI

/// Builds recorder contents as the workers would, event by event, at fixed times.
final class Traffic {
    let recorder: Recorder
    /// 2026-11-21 10:00:00 UTC, in microseconds.
    static let baseTime = 1_795_255_200_000_000
    private var sequence = 0

    init(capacity: Int = 1000) {
        var configuration = Recorder.Configuration()
        configuration.capacity = capacity
        recorder = Recorder(configuration: configuration)
    }

    /// Starts a request. - Returns: its worker id.
    @discardableResult
    func start(_ method: String = "GET", _ target: String, at milliseconds: Int = 0, headers: [HeaderField] = [],
               body: String = "", generation: Int = 1) -> String {
        sequence += 1
        let id = "1.\(sequence)"
        let allHeaders = [HeaderField("Host", "127.0.0.1:8000")] + headers
        var environ = [
            ("REQUEST_METHOD", method), ("PATH_INFO", String(target.split(separator: "?").first ?? "")),
            ("QUERY_STRING", target.contains("?") ? String(target.split(separator: "?", maxSplits: 1)[1]) : ""),
            ("SERVER_PROTOCOL", "HTTP/1.1"), ("wsgi.url_scheme", "http"),
        ]
        for header in allHeaders { environ.append(("HTTP_" + header.name.uppercased().replacingOccurrences("-", "_"), header.value)) }
        recorder.apply(.requestStarted(RequestStart(
            id: id, generation: generation, client: "127.0.0.1:50000", time: Self.baseTime + milliseconds * 1000, method: method,
            target: target, version: "HTTP/1.1", headers: allHeaders,
            environ: CompactEnviron(environ.map { EnvironEntry(key: Array($0.0.utf8), value: Array($0.1.utf8)) }))))
        if !body.isEmpty { recorder.apply(.requestBody(id: id, bytes: Array(body.utf8))) }
        return id
    }

    func respond(_ id: String, _ status: String = "200 OK", headers: [HeaderField] = [HeaderField("Content-Type", "text/plain")]) {
        recorder.apply(.responseStarted(id: id, status: status, headers: headers, replaced: false))
        var head = "HTTP/1.1 \(status)\r\n"
        for header in headers { head += "\(header.name): \(header.value)\r\n" }
        head += "Date: Sat, 21 Nov 2026 10:00:00 GMT\r\nServer: devserve/0.1.0\r\n\r\n"
        recorder.apply(.headSent(id: id, head: Array(head.utf8)))
    }

    func chunk(_ id: String, _ bytes: [UInt8], atMilliseconds offset: Double) {
        recorder.apply(.chunk(id: id, offset: Int(offset * 1000), size: bytes.count, bytes: bytes))
    }

    func chunk(_ id: String, _ text: String, atMilliseconds offset: Double) { chunk(id, Array(text.utf8), atMilliseconds: offset) }

    func finish(_ id: String, status: Int = 200, microseconds: Int = 1500, outcome: String = "complete") {
        recorder.apply(.requestFinished(RequestSummary(
            id: id, generation: 1, client: "127.0.0.1:50000", method: "GET", target: "/", version: "HTTP/1.1",
            status: status, bytes: 0, durationMicroseconds: microseconds, outcome: outcome)))
    }

    /// A complete text/plain request.
    @discardableResult
    func simple(_ method: String = "GET", _ target: String, status: String = "200 OK", body: String = "ok\n", at milliseconds: Int,
                microseconds: Int = 1500, type: String = "text/plain") -> String {
        let id = start(method, target, at: milliseconds)
        respond(id, status, headers: [HeaderField("Content-Type", type)])
        chunk(id, body, atMilliseconds: Double(microseconds) / 2000)
        finish(id, status: Int(status.prefix(3))!, microseconds: microseconds)
        return id
    }

    /// The mixed traffic most screen tests show: successes, a redirect, a 404, a 500 with an
    /// exception, a crash and a stream still running.
    /// When screens are drawn: a second after the first request.
    static let now = baseTime + 1_000_000

    static func mixed() -> Traffic {
        let traffic = Traffic()
        traffic.simple("GET", "/", at: 0, microseconds: 850)
        traffic.simple("GET", "/users?page=2", body: #"{"users": [{"id": 1, "name": "Ada"}], "page": 2}"#, at: 120, microseconds: 2300, type: "application/json")
        traffic.simple("POST", "/login", status: "302 Found", body: "", at: 300, microseconds: 640)
        traffic.simple("GET", "/missing", status: "404 Not Found", body: "not found\n", at: 450, microseconds: 410)
        let failing = traffic.start("GET", "/boom", at: 600)
        traffic.recorder.apply(.errors(id: failing, text: "Traceback: something went wrong\n"))
        traffic.recorder.apply(.applicationError(id: failing, type: "ValueError", message: "bad value 42"))
        traffic.respond(failing, "500 Internal Server Error")
        traffic.chunk(failing, "Internal Server Error\n", atMilliseconds: 1.2)
        traffic.finish(failing, status: 500, microseconds: 1900, outcome: "app-error")
        let crashing = traffic.start("GET", "/trap", at: 800)
        traffic.recorder.workerCrashed(inFlight: [crashing], signal: "SIGILL (Illegal instruction)", backtrace: "Fatal error: Index out of range\n0 trap() at Router.swift:42", now: baseTime + 812_000)
        let stream = traffic.start("GET", "/stream?n=20", at: 900)
        traffic.respond(stream, "200 OK", headers: [HeaderField("Content-Type", "text/plain; charset=utf-8")])
        traffic.chunk(stream, "chunk 1 ....\n", atMilliseconds: 0.5)
        traffic.chunk(stream, "chunk 2 ....\n", atMilliseconds: 50.7)
        return traffic
    }
}

extension String {
    func replacingOccurrences(_ target: Character, _ replacement: Character) -> String {
        String(map { $0 == target ? replacement : $0 })
    }
}

/// The recorder, with its memory estimate pinned: the estimate counts array capacities, which
/// the allocator rounds differently from run to run, and screens are compared as text.
final class StableSource: RecordSource, @unchecked Sendable {
    let recorder: Recorder

    init(_ recorder: Recorder) { self.recorder = recorder }

    func snapshot() -> [RequestRecord] { recorder.snapshot() }
    func record(_ id: Int) -> RequestRecord? { recorder.record(id) }
    func ids(where predicate: (RequestRecord) -> Bool) -> [Int] { recorder.ids(where: predicate) }
    var statistics: Recorder.Statistics {
        var statistics = recorder.statistics
        statistics.bytes = statistics.count * 1400
        return statistics
    }
    func pause() { recorder.pause() }
    func resume() { recorder.resume() }
    func clear() { recorder.clear() }
}

extension Traffic {
    /// What the screen tests read from.
    var source: RecordSource { StableSource(recorder) }
}
