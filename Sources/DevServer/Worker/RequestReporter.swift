#if canImport(Glibc)
import Glibc
#endif

/// Turns one request's gateway events into worker events for the supervisor: the whole story
/// when capture is on (environ, status and headers, the head sent, every chunk with its time
/// offset, errors, violations, timings), or only what the access log needs when it is off.
final class RequestReporter: GatewayObserver {
    private let events: EventWriter
    private let head: RequestHead
    private let capture: Bool
    /// Body bytes kept per response; beyond it chunks are reported by size only.
    private let maxBody: Int
    private var summary: RequestSummary
    private let startedAt = MonotonicClock.now()
    private var kept = 0
    /// Events held back to go with the next one that must go out at once: status and head
    /// travel with the first chunk instead of each waking the event writer.
    private var held: [WorkerEvent] = []
    /// Request body bytes received so far (the body may still be arriving while the
    /// application runs).
    private let requestBodySize: () -> Int

    init(events: EventWriter, head: RequestHead, summary: RequestSummary, capture: Bool, maxBody: Int, requestBodySize: @escaping () -> Int) {
        self.requestBodySize = requestBodySize
        self.events = events
        self.head = head
        self.summary = summary
        self.capture = capture
        self.maxBody = maxBody
    }

    private var offset: Int { MonotonicClock.microseconds(since: startedAt) }

    var wantsDetail: Bool { capture }

    func gateway(_ event: GatewayEvent) {
        switch event {
        case .started(let environ):
            guard capture else { return }
            events.send(requestStartedOf: summary, time: WallClock.microseconds(), head: head, environ: environ.store)
        case .responseStarted(let status, let headers, let replaced):
            if summary.timings.startResponse < 0 { summary.timings.startResponse = offset }
            guard capture else { return }
            held.append(.responseStarted(id: summary.id, status: status, headers: headers.map { HeaderField($0.name, $0.value) }, replaced: replaced))
        case .headSent(let bytes):
            summary.status = Self.status(of: bytes)
            if summary.timings.firstByte < 0 { summary.timings.firstByte = offset }
            summary.timings.lastByte = offset
            guard capture else { return }
            held.append(.headSent(id: summary.id, head: bytes))
        case .chunk(let bytes, _):
            summary.bytes += bytes.count
            let now = offset
            if !bytes.isEmpty { summary.timings.lastByte = now }
            guard capture else { return }
            let count = min(bytes.count, max(0, maxBody - kept))
            kept += count
            flushHeld()
            events.send(chunkOf: summary.id, offset: now, size: bytes.count, UnsafeRawBufferPointer(rebasing: bytes.prefix(count)))
        case .fileSent(let size, let prefix):
            summary.bytes += size
            summary.timings.lastByte = offset
            guard capture else { return }
            let keep = Array(prefix.prefix(max(0, maxBody - kept)))
            kept += keep.count
            send(.chunk(id: summary.id, offset: offset, size: size, bytes: keep))
        case .errors(let text):
            send(.errors(id: summary.id, text: text))
        case .violation(let violation):
            send(.violation(id: summary.id, kind: violation.kind.rawValue, message: violation.message))
        case .applicationError(let type, let message):
            send(.applicationError(id: summary.id, type: type, message: message))
        case .applicationEnviron(let entries):
            guard capture else { return }
            // Not urgent: it travels with the next chunk or the end, like the status.
            held.append(.applicationEnviron(id: summary.id, lines: entries))
        case .applicationTraceback(let lines):
            guard capture else { return }
            held.append(.applicationTraceback(id: summary.id, lines: lines))
        case .wire(let bodyBytes):
            summary.bytes = bodyBytes
        case .finished(let outcome):
            summary.outcome = outcome.rawValue
            summary.durationMicroseconds = offset
            summary.timings.close = summary.durationMicroseconds
            summary.requestBodySize = requestBodySize()
            send(.requestFinished(summary))
        }
    }

    /// Sends what was held back.
    private func flushHeld() {
        guard !held.isEmpty else { return }
        events.send(contentsOf: held)
        held.removeAll(keepingCapacity: true)
    }

    /// Sends `event` after whatever was held back.
    private func send(_ event: WorkerEvent) {
        guard !held.isEmpty else { return events.send(event) }
        held.append(event)
        events.send(contentsOf: held)
        held.removeAll(keepingCapacity: true)
    }

    /// The status code in a serialized head ("HTTP/1.1 200 OK...").
    static func status(of head: [UInt8]) -> Int {
        guard head.count >= 12 else { return 0 }
        return head[9..<12].reduce(0) { $0 * 10 + Int($1) - 48 }
    }
}

/// CLOCK_MONOTONIC in microseconds.
public enum MonotonicClock {
    public static func now() -> Int {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return time.tv_sec * 1_000_000 + time.tv_nsec / 1000
    }

    static func microseconds(since start: Int) -> Int { now() - start }
}

/// CLOCK_REALTIME in microseconds since the epoch.
public enum WallClock {
    public static func microseconds() -> Int {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return time.tv_sec * 1_000_000 + time.tv_nsec / 1000
    }
}
