/// What happens during one request, as the gateway core sees it: the raw material of capture.
public enum GatewayEvent {
    /// The application is about to be called with this environ (lent for the call).
    case started(environ: EnvironView)
    /// start_response was accepted (`replaced` when exc_info replaced an earlier head).
    case responseStarted(status: String, headers: [(name: String, value: String)], replaced: Bool)
    /// The head actually sent, with the server's own headers.
    case headSent([UInt8])
    /// A body chunk as the application produced it (`fromWrite` for write()). The bytes are
    /// the application's, lent for the call: an observer that keeps them copies them.
    case chunk(UnsafeRawBufferPointer, fromWrite: Bool)
    /// A file body sent with sendfile: its size, and its first bytes for capture.
    case fileSent(size: Int, prefix: [UInt8])
    /// Text the application wrote to wsgi.errors (and the server's own error reports).
    case errors(String)
    /// A contract breach.
    case violation(Violation)
    /// The application raised.
    case applicationError(type: String, message: String)
    /// The environ as a bridge's application left it (devserve.h `application_environ`).
    /// "KEY\tDESCRIPTION\n" lines, as the bridge wrote them (see ``ApplicationEnviron``).
    case applicationEnviron(String)
    /// The raised exception's frames, "FILE\tLINE\tFUNCTION\n" lines (``TracebackFrame``).
    case applicationTraceback(String)
    /// The body bytes that went on the wire after the head (framing included): what the
    /// access log counts. Sent just before `finished`.
    case wire(bodyBytes: Int)
    /// The request is over.
    case finished(RequestOutcome)
}

/// How a request ended.
public enum RequestOutcome: String, Sendable, Equatable {
    /// The response was sent in full.
    case complete
    /// The client went away before the response was sent.
    case clientGone = "client-gone"
    /// The application raised; a 500 was sent instead.
    case applicationError = "app-error"
    /// The response was cut off after its headers were sent.
    case aborted
    /// Outside the mount prefix: answered 404 without calling the application.
    case notMounted = "not-mounted"
}

/// Receives a request's events, on the request's thread, in order.
public protocol GatewayObserver: AnyObject {
    func gateway(_ event: GatewayEvent)
    /// False when the observer keeps only a summary (the worker's reporter without capture,
    /// for the access log): the events still come, but `.responseStarted` carries no headers,
    /// sparing their copies on every request.
    var wantsDetail: Bool { get }
}

extension GatewayObserver {
    public var wantsDetail: Bool { true }
}
