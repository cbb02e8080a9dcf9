#if canImport(Glibc)
import Glibc
#endif

/// Turns one request's gateway events into worker events for the supervisor: errors and
/// violations as they happen, and one summary (the access-log line) at the end.
final class RequestReporter: GatewayObserver {
    private let events: EventWriter
    private var summary: RequestSummary
    private let startedAt = MonotonicClock.now()

    init(events: EventWriter, summary: RequestSummary) {
        self.events = events
        self.summary = summary
    }

    func gateway(_ event: GatewayEvent) {
        switch event {
        case .started:
            events.send(.requestStarted(id: summary.id, method: summary.method, target: summary.target, client: summary.client))
        case .headSent(let head):
            summary.status = Self.status(of: head)
        case .chunk(let bytes, _):
            summary.bytes += bytes.count
        case .errors(let text):
            events.send(.errors(id: summary.id, text: text))
        case .violation(let violation):
            events.send(.violation(id: summary.id, kind: violation.kind.rawValue, message: violation.message))
        case .applicationError(let type, let message):
            events.send(.applicationError(id: summary.id, type: type, message: message))
        case .finished(let outcome):
            summary.outcome = outcome.rawValue
            summary.durationMicroseconds = MonotonicClock.microseconds(since: startedAt)
            events.send(.requestFinished(summary))
        case .responseStarted:
            break
        }
    }

    /// The status code in a serialized head ("HTTP/1.1 200 OK...").
    static func status(of head: [UInt8]) -> Int {
        guard head.count >= 12 else { return 0 }
        return head[9..<12].reduce(0) { $0 * 10 + Int($1) - 48 }
    }
}

/// CLOCK_MONOTONIC in microseconds.
enum MonotonicClock {
    static func now() -> Int {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return time.tv_sec * 1_000_000 + time.tv_nsec / 1000
    }

    static func microseconds(since start: Int) -> Int { now() - start }
}
