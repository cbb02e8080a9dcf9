import NIOCore

/// The request body as it arrives from the connection, for the application thread to read:
/// the event loop appends, the application thread waits for bytes.
///
/// Bounded: when more than `highWater` bytes are waiting, the connection stops reading from
/// the socket until the application has consumed them, so a large upload streams into
/// wsgi.input without being held whole in memory.
final class ChannelBodySource: RequestBodySource, @unchecked Sendable {
    enum Failure: RequestBodyError, Equatable, CustomStringConvertible {
        /// The body went past --max-request-body.
        case tooLarge(limit: Int)
        /// The client went away or sent a malformed body.
        case broken(String)
        /// No byte of the body arrived for --body-timeout seconds.
        case timedOut(seconds: Double)

        var status: (code: Int, reason: String) {
            switch self {
            case .tooLarge: return (413, "Content Too Large")
            case .broken: return (400, "Bad Request")
            case .timedOut: return (408, "Request Timeout")
            }
        }

        var description: String {
            switch self {
            case .tooLarge(let limit): return "the request body is larger than \(limit) bytes"
            case .broken(let why): return why
            case .timedOut(let seconds): return "no byte of the request body arrived for \(Self.seconds(seconds)) s (--body-timeout)"
            }
        }

        static func seconds(_ value: Double) -> String { value == value.rounded() ? String(Int(value)) : String(value) }
    }

    /// When this much is waiting for the application, the connection stops reading.
    let highWater: Int
    private let timeout: Double

    private let condition = Condition()
    private var chunks: [ByteBuffer] = []
    private var buffered = 0
    private var ended = false
    private var failure: Failure?
    /// Called on the application thread when the buffer drains below the high-water mark.
    private let onDrained: @Sendable () -> Void
    private var drainedRequested = false
    /// Every byte received, for the body limit.
    private var receivedBytes = 0
    var received: Int { condition.withLock { receivedBytes } }
    private let limit: Int

    /// - Parameters:
    ///   - limit: the largest body (--max-request-body).
    ///   - highWater: bytes buffered before the connection stops reading; at least the size
    ///     of a body read whole before the application is called (--buffer-body).
    ///   - timeout: seconds a read waits for the next bytes (--body-timeout).
    init(limit: Int, highWater: Int = 1 << 20, timeout: Double = 60, onDrained: @escaping @Sendable () -> Void) {
        self.limit = limit
        self.highWater = highWater
        self.timeout = timeout
        self.onDrained = onDrained
    }

    /// Whether the connection should stop reading for now (called on the event loop).
    var isFull: Bool { condition.withLock { buffered >= highWater } }

    /// Whether the whole body has arrived.
    var isComplete: Bool { condition.withLock { ended } }

    /// Event loop: more body bytes arrived.
    func append(_ buffer: ByteBuffer) {
        condition.withLock {
            guard !ended, failure == nil else { return }
            receivedBytes += buffer.readableBytes
            if receivedBytes > limit {
                failure = .tooLarge(limit: limit)
                chunks.removeAll()
                buffered = 0
            } else {
                chunks.append(buffer)
                buffered += buffer.readableBytes
            }
        }
        condition.broadcast()
    }

    /// Event loop: the body is complete.
    func finish() {
        condition.withLock { ended = true }
        condition.broadcast()
    }

    /// Event loop: the body will never complete.
    func fail(_ reason: Failure) {
        condition.withLock { if !ended && failure == nil { failure = reason } }
        condition.broadcast()
    }

    /// The failure, if the body failed.
    var failureReason: Failure? { condition.withLock { failure } }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let (count, notify): (Int, Bool) = try condition.withLock {
            let arrived = condition.wait(timeout: timeout) { !chunks.isEmpty || ended || failure != nil }
            if !arrived { failure = .timedOut(seconds: timeout) }
            if let failure { throw failure }
            guard !chunks.isEmpty else { return (0, false) }
            let wasFull = buffered >= highWater
            let count = min(buffer.count, chunks[0].readableBytes)
            chunks[0].withUnsafeReadableBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0.prefix(count))) }
            chunks[0].moveReaderIndex(forwardBy: count)
            if chunks[0].readableBytes == 0 { chunks.removeFirst() }
            buffered -= count
            return (count, wasFull && buffered < highWater)
        }
        if notify { onDrained() }
        return count
    }
}
