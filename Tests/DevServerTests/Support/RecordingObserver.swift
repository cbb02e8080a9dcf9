import DevServer

/// Keeps a request's gateway events for assertions.
final class RecordingObserver: GatewayObserver {
    /// Every event but `.chunk`, whose bytes are only lent for the call (``chunks`` keeps copies).
    private(set) var events: [GatewayEvent] = []
    /// The chunks' bytes, copied as they came.
    private(set) var chunks: [[UInt8]] = []

    /// The environ as the application received it (copied at the call: it is only lent).
    private(set) var startedEnviron: CompactEnviron?

    func gateway(_ event: GatewayEvent) {
        if case .started(let environ) = event { startedEnviron = environ.compact }
        if case .chunk(let bytes, _) = event { chunks.append(Array(bytes)) } else { events.append(event) }
    }

    var violations: [Violation] {
        events.compactMap { if case .violation(let violation) = $0 { return violation } else { return nil } }
    }

    var violationKinds: [Violation.Kind] { violations.map(\.kind) }

    var errorsText: String {
        events.compactMap { if case .errors(let text) = $0 { return text } else { return nil } }.joined()
    }

    /// The environ as the application received it.
    var environ: [String: [UInt8]] {
        guard let environ = startedEnviron else { return [:] }
        return Dictionary(environ.entries.map { (String(decoding: $0.key, as: UTF8.self), $0.value) }, uniquingKeysWith: { $1 })
    }

    var outcome: RequestOutcome? {
        for case .finished(let outcome) in events { return outcome }
        return nil
    }
}
