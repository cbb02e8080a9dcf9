/// What a worker tells the supervisor over fd 4 (docs/DESIGN.md, "Two processes"): the raw
/// material of capture, emitted at the gateway boundary.
///
/// Framed, binary and versioned (see ``EventFrame``): a version in `hello` lets the supervisor
/// say clearly that a worker is from another build instead of misreading it.
public enum WorkerEvent: Sendable, Equatable {
    /// First frame: the stream's format version, the worker's pid and generation.
    case hello(version: Int, pid: Int, generation: Int)
    /// The plugin loaded; the worker waits for SIGUSR1 before it accepts connections (two
    /// workers never accept on the shared socket at once).
    case ready(plugin: String, abi: String, swift: String)
    /// The worker accepts connections.
    case serving
    /// The worker stopped accepting (it was told to stop); it finishes its requests and exits.
    case stoppedAccepting
    /// The plugin could not be loaded; the worker exits after this.
    case loadFailed(reason: String)
    /// The plugin asked for a reload when this file changes (devserve.h `watch_file`).
    case watchFile(path: String)
    /// A request reached the application: its head and the environ exactly as the
    /// application received it.
    case requestStarted(RequestStart)
    /// Request body bytes as they arrived (up to the worker's per-body cap).
    case requestBody(id: String, bytes: [UInt8])
    /// Request body bytes still in the shared body ring (``LentBytes``): made only by the
    /// supervisor's decoding, valid while it handles the batch they came in.
    case requestBodyLent(id: String, bytes: LentBytes)
    /// start_response accepted a status and headers (again when exc_info replaced them).
    case responseStarted(id: String, status: String, headers: [HeaderField], replaced: Bool)
    /// The head actually sent, with the server's own headers.
    case headSent(id: String, head: [UInt8])
    /// A body chunk as the application yielded it or passed it to write(): its offset from
    /// the request's start in microseconds, its size, and its bytes (up to the cap).
    case chunk(id: String, offset: Int, size: Int, bytes: [UInt8])
    /// Text the application wrote to wsgi.errors.
    case errors(id: String, text: String)
    /// A gateway contract breach.
    case violation(id: String, kind: String, message: String)
    /// The application raised.
    case applicationError(id: String, type: String, message: String)
    /// The worker's crash handler caught `signal` on the thread serving `requestID` (empty
    /// when it was no request's thread). Written by C code in the handler (devserve_shim.c).
    case crashed(signal: Int, requestID: String)
    /// Once a second from the worker's event loop: it is alive and its loop is not blocked.
    case heartbeat
    /// The environ as a bridge's application left it.
    case applicationEnviron(id: String, lines: String)
    /// The frames of the exception the application raised.
    case applicationTraceback(id: String, lines: String)
    /// A request is over (served, failed, or refused before the application).
    case requestFinished(RequestSummary)
    /// One of a request's frames, still encoded (``RequestFrame``): made only by the
    /// supervisor's decoding, valid while it handles the batch it came in.
    case requestFrame(RequestFrame)

    /// The stream format this build writes.
    public static let formatVersion = 4
}

/// A header as (name, value).
public struct HeaderField: Sendable, Equatable, Codable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// The start of a request as the worker saw it.
public struct RequestStart: Sendable, Equatable {
    public var id: String
    public var generation: Int
    public var client: String
    /// Wall-clock time, microseconds since the epoch.
    public var time: Int
    public var method: String
    public var target: String
    public var version: String
    public var headers: [HeaderField]
    /// The environ before the application could change it, as raw bytes.
    public var environ: CompactEnviron

    public init(id: String, generation: Int, client: String, time: Int, method: String, target: String, version: String, headers: [HeaderField], environ: CompactEnviron) {
        self.id = id
        self.generation = generation
        self.client = client
        self.time = time
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
        self.environ = environ
    }
}

/// One environ entry, as bytes.
public struct EnvironEntry: Sendable, Equatable {
    public var key: [UInt8]
    public var value: [UInt8]

    public init(key: [UInt8], value: [UInt8]) {
        self.key = key
        self.value = value
    }
}

/// When things happened in a request, in microseconds from its start; -1 when they did not.
public struct RequestTimings: Sendable, Equatable, Codable {
    public var startResponse = -1
    public var firstByte = -1
    public var lastByte = -1
    public var close = -1

    public init() {}
}

/// How a request ended, with the access log's fields.
public struct RequestSummary: Sendable, Equatable {
    public var id: String
    public var generation: Int
    public var client: String
    public var method: String
    public var target: String
    public var version: String
    /// The status sent, or 0 when none was (the client left, the worker crashed).
    public var status: Int
    /// Body bytes the application produced.
    public var bytes: Int
    public var durationMicroseconds: Int
    /// RequestOutcome's raw value, or "bad-request: why" for input refused before the
    /// application.
    public var outcome: String
    public var timings = RequestTimings()
    /// Request body bytes received (all of them, kept or not).
    public var requestBodySize = 0

    public init(id: String, generation: Int, client: String, method: String, target: String, version: String, status: Int, bytes: Int, durationMicroseconds: Int, outcome: String) {
        self.id = id
        self.generation = generation
        self.client = client
        self.method = method
        self.target = target
        self.version = version
        self.status = status
        self.bytes = bytes
        self.durationMicroseconds = durationMicroseconds
        self.outcome = outcome
    }
}
