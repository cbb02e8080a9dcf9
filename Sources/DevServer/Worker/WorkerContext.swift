import NIOCore
import NIOPosix

/// What every connection of a worker shares: the plugin, the application thread pool, the
/// event stream, the limits, and the count of requests in flight (for a graceful stop).
final class WorkerContext: @unchecked Sendable {
    let plugin: LoadedPlugin
    let pool: ApplicationThreadPool
    let events: EventWriter
    let limits: HTTPLimits
    let gateway: GatewayExchange.Configuration
    let generation: Int
    let instance: Int
    /// Whether to report requests in full (capture) or only for the access log.
    let capture: Bool
    /// Body bytes kept per request and per response when capturing.
    let maxBody: Int
    let connections = ConnectionCounter()
    private let lock = Condition()
    private var counter = 0
    private var inFlight = 0
    private var stopping = false

    init(plugin: LoadedPlugin, pool: ApplicationThreadPool, events: EventWriter, limits: HTTPLimits, gateway: GatewayExchange.Configuration, generation: Int, instance: Int, capture: Bool, maxBody: Int) {
        self.plugin = plugin
        self.pool = pool
        self.events = events
        self.limits = limits
        self.gateway = gateway
        self.generation = generation
        self.instance = instance
        self.capture = capture
        self.maxBody = maxBody
    }

    /// "instance.sequence", unique across the workers of one devserve.
    func nextRequestID() -> String {
        lock.withLock {
            counter += 1
            return "\(instance).\(counter)"
        }
    }

    var isStopping: Bool { lock.withLock { stopping } }

    /// Runs a request's application on the pool; requests beyond the pool's threads wait in
    /// order.
    func serve(_ pending: HTTPConnectionHandler.Pending, connection: ConnectionInfo, transport: ChannelTransport) {
        lock.withLock { inFlight += 1 }
        let summary = RequestSummary(
            id: pending.id, generation: generation, client: connection.client,
            method: pending.head.method, target: pending.head.target, version: pending.head.version.description,
            status: 0, bytes: 0, durationMicroseconds: 0, outcome: "")
        pool.submit { [self] in
            let reporter = RequestReporter(
                events: events, head: pending.head, summary: summary, capture: capture, maxBody: maxBody,
                requestBodySize: { pending.body.received })
            GatewayExchange.serve(
                .init(head: pending.head, connection: connection, body: pending.body, id: pending.id),
                plugin: plugin, transport: transport, observer: reporter, configuration: gateway)
            lock.withLock { inFlight -= 1 }
            lock.broadcast()
        }
    }

    /// Reports request body bytes as they arrive, up to the per-body cap (event loop).
    func captureRequestBody(_ pending: HTTPConnectionHandler.Pending, _ buffer: ByteBuffer) {
        let room = maxBody - pending.capturedBody
        guard room > 0 else { return }
        let count = min(room, buffer.readableBytes)
        pending.capturedBody += count
        buffer.withUnsafeReadableBytes { events.send(requestBodyOf: pending.id, UnsafeRawBufferPointer(rebasing: $0.prefix(count))) }
    }

    /// Reports a request refused before any application ran: a record of its own when
    /// capturing (what arrived, up to `raw`, the head and body sent, the reason in words), so a
    /// client's 400 can be looked into; the access log shows it too.
    func reportRefusal(_ refusal: ErrorResponse, head: RequestHead?, connection: ConnectionInfo, raw: [UInt8], response: ByteBuffer) {
        let id = nextRequestID()
        let client = connection.client
        let bytes = Array(response.readableBytesView)
        let headEnd = bytes.firstRange(of: [13, 10, 13, 10]).map(\.upperBound) ?? bytes.count
        var summary = RequestSummary(
            id: id, generation: generation, client: client,
            method: head?.method ?? "-", target: head?.target ?? "-", version: head?.version.description ?? "-",
            status: refusal.code, bytes: bytes.count - headEnd, durationMicroseconds: 0, outcome: "bad-request: \(refusal.detail)")
        summary.timings.firstByte = 0
        summary.timings.lastByte = 0
        guard capture else { return events.send(.requestFinished(summary)) }
        var batch: [WorkerEvent] = [.requestStarted(RequestStart(
            id: id, generation: generation, client: client, time: WallClock.microseconds(),
            method: summary.method, target: summary.target, version: summary.version,
            headers: head?.headers.map { HeaderField($0.name, $0.value) } ?? [], environ: CompactEnviron()))]
        // A head that did not parse is kept as the bytes that arrived (what else is there to see).
        if head == nil && !raw.isEmpty { batch.append(.requestBody(id: id, bytes: Array(raw.prefix(maxBody))) ) }
        batch.append(.headSent(id: id, head: Array(bytes[..<headEnd])))
        batch.append(.chunk(id: id, offset: 0, size: bytes.count - headEnd, bytes: Array(bytes[headEnd...])))
        batch.append(.requestFinished(summary))
        events.send(contentsOf: batch)
    }

    /// Stops taking new work and waits (at most `grace` seconds) for requests in flight and
    /// for every open connection to finish: a connection accepted just before the stop, whose
    /// request has not been read yet, is still answered (then closed), never dropped.
    /// - Returns: how many requests were still running when the grace ran out.
    func drain(grace: Double) -> Int {
        lock.withLock { stopping = true }
        connections.stopAll()
        let deadline = MonotonicClock.now() + Int(grace * 1_000_000)
        while true {
            let left = lock.withLock { inFlight }
            if (left == 0 && connections.count == 0) || MonotonicClock.now() >= deadline { return left }
            usleepMilliseconds(5)
        }
    }
}

/// The open connections: counted (for the worker's stop and for tests), each with a hook that
/// closes it once it is idle, run on its event loop when the worker stops.
final class ConnectionCounter: @unchecked Sendable {
    private let lock = Lock()
    private var hooks: [ObjectIdentifier: (stop: @Sendable () -> Void, abandon: @Sendable () -> Void)] = [:]

    func opened(_ owner: AnyObject, stop: @escaping @Sendable () -> Void, abandon: @escaping @Sendable () -> Void = {}) {
        lock.withLock { hooks[ObjectIdentifier(owner)] = (stop, abandon) }
    }
    func closed(_ owner: AnyObject) { lock.withLock { hooks[ObjectIdentifier(owner)] = nil } }
    var count: Int { lock.withLock { hooks.count } }

    /// Asks every connection to close as soon as it is idle.
    func stopAll() {
        for hook in lock.withLock({ Array(hooks.values) }) { hook.stop() }
    }

    /// The grace is over: every connection closes now; one whose response has not started
    /// gets a 504 first.
    func abandonAll() {
        for hook in lock.withLock({ Array(hooks.values) }) { hook.abandon() }
    }
}

#if canImport(Glibc)
import Glibc
#endif

func usleepMilliseconds(_ milliseconds: Int) { usleep(useconds_t(milliseconds * 1000)) }
