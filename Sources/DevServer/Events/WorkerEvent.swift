/// What a worker tells the supervisor over fd 4 (DESIGN.md, "Two processes").
///
/// Framed, binary and versioned (see ``EventFrame``): the supervisor must be able to read a
/// stream from a worker of the same build only, but a version in `hello` lets it say so
/// clearly instead of misreading.
public enum WorkerEvent: Sendable, Equatable {
    /// First frame: the stream's format version, the worker's pid and generation.
    case hello(version: Int, pid: Int, generation: Int)
    /// The plugin loaded; the worker is serving.
    case ready(plugin: String, abi: String, swift: String)
    /// The plugin could not be loaded; the worker exits after this.
    case loadFailed(reason: String)
    /// A request reached the application.
    case requestStarted(id: String, method: String, target: String, client: String)
    /// A request is over (served, failed, or refused before the application).
    case requestFinished(RequestSummary)
    /// Text the application wrote to wsgi.errors.
    case errors(id: String, text: String)
    /// A gateway contract breach.
    case violation(id: String, kind: String, message: String)
    /// The application raised.
    case applicationError(id: String, type: String, message: String)

    /// The stream format this build writes.
    public static let formatVersion = 1
}

/// One line of the access log.
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
    /// RequestOutcome's raw value, or "bad-request" for input refused before the application.
    public var outcome: String

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
