/// Everything captured about one request: what the application received, what it did, and how
/// it ended. A value: readers get snapshots that never change under them.
public struct RequestRecord: Sendable {
    /// How a recorded request ended (or that it has not yet).
    public enum Outcome: String, Sendable, Codable, CaseIterable {
        case inFlight = "in-flight"
        case complete
        case clientGone = "client-gone"
        case applicationError = "app-error"
        case aborted
        case crashed
        /// In flight in a worker that crashed while serving another request.
        case interrupted
        case notMounted = "not-mounted"
        case badRequest = "bad-request"
    }

    /// One response body chunk: when, how big, and the bytes kept of it.
    public struct Chunk: Sendable, Codable, Equatable {
        /// Microseconds from the request's start.
        public var offset: Int
        public var size: Int
        public var bytes: [UInt8]
    }

    /// A worker crash that took this request with it.
    public struct Crash: Sendable, Codable, Equatable {
        public var signal: String
        /// The Swift runtime's reason and backtrace, from the worker's stderr.
        public var backtrace: String
    }

    /// The recorder's id: 1, 2, 3... in arrival order.
    public internal(set) var id: Int
    /// The worker's id for the request ("instance.sequence").
    public var workerID: String
    public var generation: Int
    public var client: String
    /// Wall-clock start, microseconds since the epoch.
    public var startedAt: Int
    public var method: String
    public var target: String
    public var version: String
    public var requestHeaders: [HeaderField]
    /// The environ exactly as the application received it, kept compact.
    public var compactEnviron: CompactEnviron

    /// The environ exactly as the application received it.
    public var environ: [EnvironEntry] { compactEnviron.entries }
    /// The request body bytes kept (up to the per-body cap).
    public var requestBody: [UInt8] = []
    /// Every request body byte received, kept or not.
    public var requestBodySize = 0
    /// start_response's status and headers, as the application gave them (the last call).
    public var applicationStatus: String?
    public var applicationHeaders: [HeaderField] = []
    /// Whether exc_info replaced an earlier status.
    public var headersReplaced = false
    /// The head actually sent.
    public var sentHead: [UInt8]?
    /// The status sent, 0 while none was.
    public var status = 0
    public var chunks: [Chunk] = []
    /// Every response body byte produced, kept or not.
    public var responseBodySize = 0
    /// wsgi.errors text.
    public var errors = ""
    public var violations: [HeaderField] = []
    /// The exception the application raised: type and message.
    public var applicationError: HeaderField?
    /// For a Python application: its environ as it left it, where that differs from the one
    /// the server built, with the types of the values that are not text; kept as the bridge
    /// sent it ("KEY\tDESCRIPTION\n" lines) and split only when read.
    public var applicationEnvironLines: String?
    /// The frames of the exception the application raised, as the bridge sent them.
    public var applicationTracebackLines: String?

    /// ``applicationTracebackLines`` as frames, innermost last.
    public var applicationTraceback: [TracebackFrame]? {
        get { applicationTracebackLines.map(TracebackFrame.frames) }
        set { applicationTracebackLines = newValue.map(TracebackFrame.lines) }
    }

    /// ``applicationEnvironLines`` as entries.
    public var applicationEnviron: [HeaderField]? {
        get { applicationEnvironLines.map(ApplicationEnviron.entries) }
        set { applicationEnvironLines = newValue.map(ApplicationEnviron.lines) }
    }
    public var outcome = Outcome.inFlight
    /// Why it ended so, when there is more to say (a refused request's reason).
    public var outcomeDetail: String?
    public var crash: Crash?
    /// Set when the request ran past --request-timeout: how long, and its last chunk.
    public var timeout: String?
    public var timings = RequestTimings()
    /// Microseconds from start to end; nil while in flight.
    public var duration: Int?
    /// The record this one replays, if it is a replay.
    public var replayOf: Int?

    init(id: Int, start: RequestStart) {
        self.id = id
        self.workerID = start.id
        self.generation = start.generation
        self.client = start.client
        self.startedAt = start.time
        self.method = start.method
        self.target = start.target
        self.version = start.version
        self.requestHeaders = start.headers
        self.compactEnviron = start.environ
        // What never changes is counted once; see `cost`.
        self.fixedCost = 640 + method.utf8.count + target.utf8.count + client.utf8.count + workerID.utf8.count
            + start.headers.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 64 }
            + start.environ.blob.capacity + start.environ.lengths.capacity * 4 + 64
    }

    private let fixedCost: Int
    /// Response body bytes kept (kept with the chunks; counted here to keep `cost` O(1)).
    var responseBodyKept = 0

    /// The same record under another id (restored from a journal).
    func renumbered(_ newID: Int) -> RequestRecord {
        var copy = self
        copy.id = newID
        return copy
    }

    /// Request body bytes received but not kept.
    public var requestBodyDropped: Int { requestBodySize - requestBody.count }

    /// Response body bytes produced but not kept.
    public var responseBodyDropped: Int { responseBodySize - responseBodyKept }

    /// The response body bytes kept, in order.
    public var responseBody: [UInt8] {
        if chunks.count == 1 { return chunks[0].bytes }
        var body: [UInt8] = []
        body.reserveCapacity(responseBodyKept)
        for chunk in chunks { body.append(contentsOf: chunk.bytes) }
        return body
    }

    /// The response headers as sent, parsed from the head.
    public var sentHeaders: [HeaderField] {
        guard let sentHead else { return [] }
        let lines = String(decoding: sentHead, as: UTF8.self).split(separator: "\r\n").dropFirst()
        return lines.compactMap { line in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return HeaderField(String(line[..<colon]), String(line[line.index(after: colon)...]).trimmingWhitespace())
        }
    }

    /// The request's Content-Type, if any.
    public var requestContentType: String? { requestHeaders.first { $0.name.lowercased() == "content-type" }?.value }

    /// The response's Content-Type as sent (or as the application gave it), if any.
    public var responseContentType: String? {
        (sentHeaders.isEmpty ? applicationHeaders : sentHeaders).first { $0.name.lowercased() == "content-type" }?.value
    }

    /// Whether the request is still running.
    public var isInFlight: Bool { outcome == .inFlight }

    /// What the record costs in memory, roughly, including the allocator's and Swift's
    /// per-array overheads: the recorder's byte cap counts this. O(1): it runs on every update.
    var cost: Int {
        var total = fixedCost + errors.utf8.count + requestBody.capacity + (sentHead?.count ?? 0) + 64
        total += responseBodyKept + chunks.capacity * MemoryLayout<Chunk>.stride + chunks.count * 64
        total += applicationHeaders.count * 96 + violations.count * 160 + (applicationStatus?.utf8.count ?? 0)
        total += crash.map { $0.backtrace.utf8.count + 64 } ?? 0
        total += (applicationEnvironLines?.utf8.count ?? 0) + (applicationTracebackLines?.utf8.count ?? 0)
        return total
    }
}
