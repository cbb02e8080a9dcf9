/// Limits on what a client may send, with the defaults trusted servers use.
public struct HTTPLimits: Sendable {
    /// Longest request line accepted; longer is 414. RFC 9112 section 3 recommends supporting
    /// at least 8000 octets.
    public var maxRequestLine = 8000
    /// Largest single header field (name and value); larger is 431. Apache's 8190.
    public var maxHeaderField = 8190
    /// Largest header block; larger is 431.
    public var maxHeaderBlock = 64 * 1024
    /// Most header fields; more is 431. gunicorn's and Apache's 100.
    public var maxHeaderCount = 100
    /// Largest request body; larger is 413.
    public var maxRequestBody = 1 << 30
    /// Seconds a client may take to send a request's head, from the connection's start or the
    /// first byte of the head; then 408 (or a quiet close when it sent nothing at all).
    public var headerTimeout: Double = 10
    /// Seconds a request body may pause between two reads (nginx's client_body_timeout);
    /// then 408 if the application has not started its response, and its read fails.
    public var bodyTimeout: Double = 60
    /// Request bodies up to this many bytes are read before the application is called, on the
    /// event loop: a slow upload costs a connection, not an application thread. Larger ones,
    /// and those that ask for 100-continue, stream to the application as they arrive.
    public var bufferBody = 1 << 20
    /// Seconds an idle keep-alive connection stays open.
    public var idleTimeout: Double = 75
    /// Seconds in-flight requests get to finish when the worker stops.
    public var shutdownGrace: Double = 10

    public init() {}
}
