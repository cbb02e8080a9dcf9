#if canImport(Glibc)
import Glibc
#endif
import CDevServeShim

/// Writes worker events to the supervisor's pipe, from any thread, batched.
///
/// `send` only appends the encoded frame to a buffer; one writer thread drains it with as few
/// write(2) calls as the load allows: one per event when idle (so a streamed chunk shows up in
/// the recorder within 0.1 ms), many events per write under load, at most 1 ms late (so
/// capture costs little per request). If the supervisor falls far behind, senders wait rather
/// than buffer without bound. If the supervisor is gone the worker has no reason to live: its parent-death signal
/// ends it.
public final class EventWriter: @unchecked Sendable {
    private static let maxBuffered = 64 << 20
    /// How long the writer gathers events before a write (microseconds): briefly when the
    /// first event found it idle, longer while events keep coming.
    static let idleGather: UInt32 = 100
    static let busyGather: UInt32 = 1_000
    private let descriptor: Int32
    private let condition = Condition()
    /// Bytes handed to the C buffer and not yet taken by a writer.
    private var buffered = 0
    /// Where ``sendEncoded(_:)`` encodes (guarded by `condition`).
    private var scratch: [UInt8] = []
    private var broken = false
    /// The shared body ring is mapped: body parts of ``SharedBodyRing/minimumShared`` bytes
    /// and more go there.
    private let sharedRing: Bool

    /// - Parameter sharedRingDescriptor: the shared body ring the supervisor passed, mapped
    ///   then closed; when there is none, bodies travel in their frames.
    public init(descriptor: Int32, sharedRingDescriptor: Int32? = nil) {
        self.descriptor = descriptor
        self.sharedRing = sharedRingDescriptor.map(Self.attachSharedRing) ?? false
        // Pending bytes live in C so the crash handler can write them (see devserve_shim.h).
        devserve_shim_flush_events_on_crash(descriptor)
        DetachedThread.start { [self] in drainForever() }
    }

    public func send(_ event: WorkerEvent) { sendEncoded { EventFrame.encode(event, into: &$0) } }

    /// Sends several events with one hand-over to the writer thread.
    public func send(contentsOf events: [WorkerEvent]) {
        guard !events.isEmpty else { return }
        sendEncoded { frames in
            for event in events { EventFrame.encode(event, into: &frames) }
        }
    }

    /// Encodes frames into ``scratch`` (kept from one send to the next: a fresh array per send
    /// was one or two allocations per request) and appends them to the C buffer; waits while
    /// too much is buffered.
    private func sendEncoded(_ encode: (inout [UInt8]) -> Void) {
        appending {
            scratch.removeAll(keepingCapacity: true)
            encode(&scratch)
            scratch.withUnsafeBytes { devserve_shim_events_append2($0.baseAddress, $0.count, nil, 0) }
            let count = scratch.count
            // A large frame (a captured file's first bytes) is not kept.
            if scratch.capacity > 64 << 10 { scratch = [] }
            return count
        }
    }

    /// Runs `append` under the lock that orders frames, once fewer than ``maxBuffered`` bytes
    /// wait (a stopped writer drops everything); `append` puts bytes into the C buffer and says
    /// how many (nil: none, the caller does something else). Wakes the writer when it did.
    @discardableResult
    private func appending(_ append: () -> Int?) -> Bool {
        let appended: Bool = condition.withLock {
            condition.wait { buffered < Self.maxBuffered || broken }
            guard !broken else { return true }
            guard let count = append() else { return false }
            buffered += count
            return true
        }
        if appended { condition.broadcast() }
        return appended
    }

    /// Maps the shared body ring on `descriptor`, then closes it; false when there is none.
    private static func attachSharedRing(descriptor: Int32) -> Bool {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return false }
        defer { close(descriptor) }
        return (info.st_mode & S_IFMT) == S_IFREG && devserve_shim_ring_attach(descriptor) == 0
    }

    /// A request reached the application: the frame of ``WorkerEvent/requestStarted(_:)``,
    /// encoded from the head and the environ's arena as they are.
    func send(requestStartedOf summary: RequestSummary, time: Int, head: RequestHead, environ: EnvironStore) {
        sendEncoded { EventFrame.encodeRequestStarted(summary: summary, time: time, head: head, environ: environ, into: &$0) }
    }

    /// Captures a part of a request body.
    func send(requestBodyOf id: String, _ body: UnsafeRawBufferPointer) {
        send(body, shared: EventFrame.sharedBodyFrame(requestBodyOf: id, count: body.count), inline: EventFrame.bodyFramePrefix(requestBodyOf: id, count: body.count))
    }

    /// Captures a response chunk (the first `body.count` bytes of its `size`), produced `offset` µs in.
    func send(chunkOf id: String, offset: Int, size: Int, _ body: UnsafeRawBufferPointer) {
        send(
            body, shared: EventFrame.sharedBodyFrame(chunkOf: id, offset: offset, size: size, count: body.count),
            inline: EventFrame.bodyFramePrefix(chunkOf: id, offset: offset, size: size, count: body.count))
    }

    /// A body part goes into the shared ring when it is large enough and there is room, its
    /// frame into the buffer; otherwise the bytes go in the frame.
    private func send(_ body: UnsafeRawBufferPointer, shared: @autoclosure () -> [UInt8], inline: @autoclosure () -> [UInt8]) {
        if sharedRing && body.count >= SharedBodyRing.minimumShared {
            var frame = shared()
            let placed = appending {
                frame.withUnsafeMutableBytes { devserve_shim_events_append_shared($0.baseAddress, $0.count, body.baseAddress, body.count) } == 1 ? frame.count : nil
            }
            if placed { return }
        }
        send(prefix: inline(), body: body)
    }

    /// Sends a frame whose last field is body bytes: `prefix` (``EventFrame/bodyFramePrefix``)
    /// then `body`, appended to the C buffer together, with no copy in between; waits while too
    /// much is buffered.
    private func send(prefix: [UInt8], body: UnsafeRawBufferPointer) {
        appending {
            prefix.withUnsafeBytes { devserve_shim_events_append2($0.baseAddress, $0.count, body.baseAddress, body.count) }
            return prefix.count + body.count
        }
    }

    /// Waits until everything sent so far has been written (before the worker exits).
    public func flush() { writeBuffered() }

    private func drainForever() {
        var lastWrite = 0
        while true {
            condition.withLock { condition.wait { buffered > 0 || broken } }
            if condition.withLock({ broken }) { return }
            // Gather for a moment: idle, a chunk shows up in the recorder within 0.1 ms; when
            // events came again within 1 ms of the last write (load), for 1 ms, so that many
            // requests share one write(2) and one wake-up of each side (issue 14: at 0.1 ms
            // under load, 10,000 wake-ups a second cost the worker 2 µs and the supervisor
            // 0.5 µs per hello request, and 10% of the requests per second).
            let busy = MonotonicClock.now() - lastWrite < Int(Self.busyGather)
            usleep(busy ? Self.busyGather : Self.idleGather)
            writeBuffered()
            lastWrite = MonotonicClock.now()
            if !busy { devserve_shim_ring_release_if_idle() }
        }
    }

    /// Takes what is buffered and writes it, in C under the lock the crash handler takes too:
    /// batches reach the pipe in the order their events were sent, whichever thread writes
    /// them, and a crash never writes a batch a second time.
    private func writeBuffered() {
        condition.withLock { buffered = 0 }
        condition.broadcast()
        if devserve_shim_events_write(descriptor) != 0 {
            condition.withLock { broken = true }
            condition.broadcast()
        }
    }
}
