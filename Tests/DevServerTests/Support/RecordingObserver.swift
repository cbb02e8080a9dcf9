import DevServer

/// Keeps a request's gateway events for assertions.
final class RecordingObserver: GatewayObserver {
    private(set) var events: [GatewayEvent] = []

    func gateway(_ event: GatewayEvent) { events.append(event) }

    var violations: [Violation] {
        events.compactMap { if case .violation(let violation) = $0 { return violation } else { return nil } }
    }

    var violationKinds: [Violation.Kind] { violations.map(\.kind) }

    var errorsText: String {
        events.compactMap { if case .errors(let text) = $0 { return text } else { return nil } }.joined()
    }

    var chunks: [[UInt8]] {
        events.compactMap { if case .chunk(let bytes, _) = $0 { return bytes } else { return nil } }
    }

    /// The environ as the application received it.
    var environ: [String: [UInt8]] {
        for case .started(let environ) in events {
            return Dictionary(environ.entries.map { (String(decoding: $0.key, as: UTF8.self), $0.value) }, uniquingKeysWith: { $1 })
        }
        return [:]
    }

    var outcome: RequestOutcome? {
        for case .finished(let outcome) in events { return outcome }
        return nil
    }
}
