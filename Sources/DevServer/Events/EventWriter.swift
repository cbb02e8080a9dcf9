#if canImport(Glibc)
import Glibc
#endif

/// Writes worker events to the supervisor's pipe, from any thread, batched.
///
/// `send` only appends the encoded frame to a buffer; one writer thread drains it with as few
/// write(2) calls as the load allows: one per event when idle (so a streamed chunk shows up in
/// the recorder at once), many events per write under load (so capture costs little per
/// request). If the supervisor falls far behind, senders wait rather than buffer without
/// bound. If the supervisor is gone the worker has no reason to live: its parent-death signal
/// ends it.
public final class EventWriter: @unchecked Sendable {
    private static let maxBuffered = 64 << 20
    private let descriptor: Int32
    private let condition = Condition()
    private var buffer: [UInt8] = []
    private var broken = false
    private let writeLock = Lock()

    public init(descriptor: Int32) {
        self.descriptor = descriptor
        DetachedThread.start { [self] in drainForever() }
    }

    public func send(_ event: WorkerEvent) { send(contentsOf: [event]) }

    /// Sends several events with one hand-over to the writer thread.
    public func send(contentsOf events: [WorkerEvent]) {
        guard !events.isEmpty else { return }
        var frame: [UInt8] = []
        for event in events { EventFrame.encode(event, into: &frame) }
        condition.withLock {
            condition.wait { buffer.count < Self.maxBuffered || broken }
            guard !broken else { return }
            buffer += frame
        }
        condition.broadcast()
    }

    /// Sends `event` and returns only once it (and everything before it) is in the pipe: for a
    /// request's start, which must reach the supervisor before the application runs, or a
    /// crash in the application would take the record of its request with it.
    public func sendNow(_ event: WorkerEvent) {
        send(event)
        writeBuffered()
    }

    /// Waits until everything sent so far has been written (before the worker exits).
    public func flush() { writeBuffered() }

    private func drainForever() {
        while true {
            condition.withLock { condition.wait { !buffer.isEmpty || broken } }
            if condition.withLock({ broken }) { return }
            // Gather for a moment: under load many requests' events then share one write(2)
            // and one wake-up of the supervisor; idle, a chunk still shows up within 0.1 ms.
            usleep(100)
            writeBuffered()
        }
    }

    /// Takes what is buffered and writes it, both under `writeLock`, so that batches reach
    /// the pipe in the order their events were sent, whichever thread writes them.
    private func writeBuffered() {
        writeLock.withLock {
            let batch: [UInt8] = condition.withLock {
                defer { buffer.removeAll(keepingCapacity: true) }
                return buffer
            }
            condition.broadcast()
            var offset = 0
            while offset < batch.count {
                let written = batch.withUnsafeBytes { write(descriptor, $0.baseAddress! + offset, batch.count - offset) }
                if written < 0 {
                    if errno == EINTR { continue }
                    condition.withLock { broken = true }
                    condition.broadcast()
                    return
                }
                offset += written
            }
        }
    }
}
