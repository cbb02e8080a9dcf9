/// The gateway core's only view of the network: PEP 3333's logic never touches a socket.
///
/// wsgiref's `BaseHandler` works the same way (its `_write`, `_flush` and `close`), which is
/// why its protocol can be tested with in-memory streams; so can ours.
public protocol GatewayTransport: AnyObject {
    /// Queues bytes for the client, copying them (the caller's memory is only lent for the
    /// call). Blocks while too much is queued (a slow client makes the application wait
    /// instead of devserve buffering without bound).
    /// - Throws: when the client has gone away.
    func write(_ bytes: UnsafeRawBufferPointer) throws
    /// Pushes what was written to the client now: every chunk is sent as soon as it is
    /// produced, never held back waiting for the next.
    func flush() throws
    /// The response is over; `ending` says whether the connection can serve another request.
    func finish(_ ending: ResponseEnding)
}

/// A transport that can send part of a file without the bytes passing through the
/// application's memory (sendfile): the core uses it for wsgi.file_wrapper bodies of regular
/// files with a known length (PEP 3333, "Optional Platform-Specific File Handling").
public protocol FileSendingTransport: GatewayTransport {
    /// Sends `count` bytes of the open file `descriptor` from `offset`; returns when they
    /// were sent. The descriptor stays the caller's.
    /// - Throws: when the client has gone away.
    func sendFile(descriptor: Int32, offset: Int, count: Int) throws
}

extension GatewayTransport {
    /// Queues bytes the caller holds as an array.
    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }
}
