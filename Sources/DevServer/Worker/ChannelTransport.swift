import NIOCore

/// The gateway core's transport over a NIO channel, used from the application thread.
///
/// `write` collects bytes; `flush` hands them to the event loop in one hop and, when more
/// than `highWater` bytes are still waiting to reach the client, blocks until they drain: a
/// slow client makes the application's yield or write() wait instead of devserve buffering
/// without bound.
final class ChannelTransport: GatewayTransport, @unchecked Sendable {
    static let highWater = 1 << 20

    private let eventLoop: EventLoop
    private let send: @Sendable (ByteBuffer, EventLoopPromise<Void>) -> Void
    private let complete: @Sendable (ResponseEnding) -> Void
    private let condition = Condition()
    private var pending: [UInt8] = []
    private var outstanding = 0
    private var gone = false

    struct ClientGone: Error {}

    /// - Parameters:
    ///   - send: runs on the event loop: write and flush a buffer, completing the promise
    ///     when it was written (or failed).
    ///   - complete: runs on the event loop when the response is over.
    init(eventLoop: EventLoop, send: @escaping @Sendable (ByteBuffer, EventLoopPromise<Void>) -> Void, complete: @escaping @Sendable (ResponseEnding) -> Void) {
        self.eventLoop = eventLoop
        self.send = send
        self.complete = complete
    }

    func write(_ bytes: [UInt8]) throws {
        if condition.withLock({ gone }) { throw ClientGone() }
        pending += bytes
    }

    func flush() throws {
        guard !pending.isEmpty else { return }
        let buffer = ByteBuffer(bytes: pending)
        pending.removeAll(keepingCapacity: true)
        let size = buffer.readableBytes
        try condition.withLock {
            if gone { throw ClientGone() }
            outstanding += size
        }
        let promise = eventLoop.makePromise(of: Void.self)
        promise.futureResult.whenComplete { [condition] result in
            condition.withLock {
                self.outstanding -= size
                if case .failure = result { self.gone = true }
            }
            condition.broadcast()
        }
        let send = self.send
        eventLoop.execute { send(buffer, promise) }
        try condition.withLock {
            condition.wait { outstanding <= Self.highWater || gone }
            if gone { throw ClientGone() }
        }
    }

    func finish(_ ending: ResponseEnding) {
        let complete = self.complete
        eventLoop.execute { complete(ending) }
    }

    /// Event loop: the connection closed; wake a waiting writer.
    func connectionClosed() {
        condition.withLock { gone = true }
        condition.broadcast()
    }
}
