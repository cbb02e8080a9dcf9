import NIOCore

/// The gateway core's transport over a NIO channel, used from the application thread.
///
/// `write` collects bytes; `flush` hands them to the event loop in one hop and, when more
/// than `highWater` bytes are still waiting to reach the client, blocks until they drain: a
/// slow client makes the application's yield or write() wait instead of devserve buffering
/// without bound. What has reached the socket is learnt from one write in every
/// ``confirmEvery`` bytes, not from each.
final class ChannelTransport: FileSendingTransport, @unchecked Sendable {
    static let highWater = 1 << 20
    /// A write is given a promise once this many bytes went out without one. Small responses
    /// go without (a promise, its callback and a lock per flush were 0.5 µs of a 13 µs hello
    /// request; issue 14), and a writer over ``highWater`` always has a confirmation coming that
    /// brings it back under.
    static let confirmEvery = 64 << 10

    private let eventLoop: EventLoop
    private let send: @Sendable (ByteBuffer, EventLoopPromise<Void>?) -> Void
    private let complete: @Sendable (ResponseEnding) -> Void
    private let sendRegion: @Sendable (FileRegionBox, EventLoopPromise<Void>) -> Void
    private let condition = Condition()
    /// Written and not yet flushed: the bytes' one copy on their way to the socket. After a
    /// flush it still holds them (``handedOver``) until the next write: one buffer serves
    /// the connection's responses, not two allocations and a reallocation each (issue 14).
    private var pending = ByteBuffer()
    /// `pending`'s bytes were handed over (or there were none yet): the next write clears it.
    private var handedOver = true
    /// Room for a small response's head and body, so that it is written without growing.
    static let startingCapacity = 1024
    /// A buffer grown larger than this (a large body) is not kept for the next response.
    static let keptCapacity = 64 << 10
    /// Bytes handed to the event loop on this connection, all responses together.
    private var handed = 0
    /// Of those, the bytes known to have reached the socket.
    private var confirmed = 0
    /// `handed` as of the last write given a promise.
    private var promised = 0
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
        eventLoop: EventLoop, send: @escaping @Sendable (ByteBuffer, EventLoopPromise<Void>?) -> Void,
        sendRegion: @escaping @Sendable (FileRegionBox, EventLoopPromise<Void>) -> Void, complete: @escaping @Sendable (ResponseEnding) -> Void
    ) {
        self.eventLoop = eventLoop
        self.send = send
        self.sendRegion = sendRegion
        self.complete = complete
    }

    /// Only collects: whether the client is gone is `flush`'s to say (the core flushes every
    /// output it writes).
    func write(_ bytes: UnsafeRawBufferPointer) throws {
        if handedOver {
            handedOver = false
            pending.clear(minimumCapacity: Self.startingCapacity)
        }
        pending.writeBytes(bytes)
    }

    func flush() throws {
        guard !handedOver, pending.readableBytes > 0 else { return }
        // Handed over whole, and kept: the next write clears it, by when the event loop has
        // usually written and let go of its copy, so that its storage is reused.
        let buffer = pending
        handedOver = true
        if pending.capacity > Self.keptCapacity { pending = ByteBuffer() }
        let size = buffer.readableBytes
        let mark = try condition.withLock { () -> Int? in
            if gone || failed { throw ClientGone() }
            handed += size
            guard handed - promised >= Self.confirmEvery else { return nil }
            promised = handed
            return handed
        }
        let promise = mark.map { confirmation(upTo: $0) }
        let send = self.send
        eventLoop.execute { send(buffer, promise) }
        try condition.withLock {
            condition.wait { handed - confirmed <= Self.highWater || gone }
            // A client that closes once it has read the whole response is not gone for this
            // write: only a write that failed, or bytes still waiting on a closed connection
            // (which only a wait lets pass), are. Reading `gone` alone marked the first request
            // of a fresh worker client-gone when curl closed before the application thread
            // woke up; so would bytes not yet confirmed, which most are.
            if failed || (gone && handed - confirmed > Self.highWater) { throw ClientGone() }
        }
    }

    /// A promise for the write that brings the bytes handed over to `mark`: writes complete in
    /// order, so when it succeeds every byte up to `mark` has reached the socket.
    private func confirmation(upTo mark: Int) -> EventLoopPromise<Void> {
        let promise = eventLoop.makePromise(of: Void.self)
        promise.futureResult.whenComplete { [condition] result in
            condition.withLock {
                self.confirmed = max(self.confirmed, mark)
                if case .failure = result {
                    self.gone = true
                    self.failed = true
                }
            }
            condition.broadcast()
        }
        return promise
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
