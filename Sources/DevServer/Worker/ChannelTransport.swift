import NIOCore

/// The gateway core's transport over a NIO channel, used from the application thread.
///
/// `write` collects bytes; `flush` hands them to the event loop in one hop and, when more
/// than `highWater` bytes are still waiting to reach the client, blocks until they drain: a
/// slow client makes the application's yield or write() wait instead of devserve buffering
/// without bound.
final class ChannelTransport: FileSendingTransport, @unchecked Sendable {
    static let highWater = 1 << 20

    private let eventLoop: EventLoop
    private let send: @Sendable (ByteBuffer, EventLoopPromise<Void>) -> Void
    private let complete: @Sendable (ResponseEnding) -> Void
    private let sendRegion: @Sendable (FileRegionBox, EventLoopPromise<Void>) -> Void
    private let condition = Condition()
    /// Written and not yet flushed: the bytes' one copy on their way to the socket.
    private var pending = ByteBuffer()
    private var outstanding = 0
    /// The connection closed (the client left, or closed after reading the whole response).
    private var gone = false
    /// A write failed: bytes of this response did not reach the client.
    private var failed = false

    struct ClientGone: Error {}

    /// - Parameters:
    ///   - send: runs on the event loop: write and flush a buffer, completing the promise
    ///     when it was written (or failed).
    ///   - complete: runs on the event loop when the response is over.
    init(
        eventLoop: EventLoop, send: @escaping @Sendable (ByteBuffer, EventLoopPromise<Void>) -> Void,
        sendRegion: @escaping @Sendable (FileRegionBox, EventLoopPromise<Void>) -> Void, complete: @escaping @Sendable (ResponseEnding) -> Void
    ) {
        self.eventLoop = eventLoop
        self.send = send
        self.sendRegion = sendRegion
        self.complete = complete
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        if condition.withLock({ gone }) { throw ClientGone() }
        pending.writeBytes(bytes)
    }

    func flush() throws {
        guard pending.readableBytes > 0 else { return }
        // Handed over whole; the next write starts a fresh buffer.
        let buffer = pending
        pending = ByteBuffer()
        let size = buffer.readableBytes
        try condition.withLock {
            if gone { throw ClientGone() }
            outstanding += size
        }
        let promise = eventLoop.makePromise(of: Void.self)
        promise.futureResult.whenComplete { [condition] result in
            condition.withLock {
                self.outstanding -= size
                if case .failure = result {
                    self.gone = true
                    self.failed = true
                }
            }
            condition.broadcast()
        }
        let send = self.send
        eventLoop.execute { send(buffer, promise) }
        try condition.withLock {
            condition.wait { outstanding <= Self.highWater || gone }
            // A client that closes once it has read the whole response is not gone for this
            // write: only a write that failed, or one still waiting on a closed connection, is.
            // (Reading `gone` alone marked the first request of a fresh worker client-gone
            // when curl closed before the application thread woke up.)
            if failed || (gone && outstanding > 0) { throw ClientGone() }
        }
    }

    /// Sends the file range with a NIO FileRegion (sendfile), on a duplicate of the
    /// descriptor that is closed once written; waits until it was.
    func sendFile(descriptor: Int32, offset: Int, count: Int) throws {
        try flush()
        let duplicate = dup(descriptor)
        guard duplicate >= 0 else { throw ClientGone() }
        let handle = NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: duplicate)
        let region = FileRegionBox(region: FileRegion(fileHandle: handle, readerIndex: offset, endIndex: offset + count))
        let promise = eventLoop.makePromise(of: Void.self)
        let done = Condition()
        let state = Completion()
        promise.futureResult.whenComplete { result in
            try? handle.close()
            done.withLock {
                state.finished = true
                if case .failure = result { state.failed = true }
            }
            done.broadcast()
        }
        let sendRegion = self.sendRegion
        eventLoop.execute { sendRegion(region, promise) }
        done.withLock { done.wait { state.finished } }
        if done.withLock({ state.failed }) {
            condition.withLock {
                gone = true
                failed = true
            }
            throw ClientGone()
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

/// Whether a file write finished, and how (guarded by its condition).
private final class Completion: @unchecked Sendable {
    var finished = false
    var failed = false
}

/// A FileRegion handed to the event loop (it is used there only).
struct FileRegionBox: @unchecked Sendable {
    let region: FileRegion
}

#if canImport(Glibc)
import Glibc
#endif
