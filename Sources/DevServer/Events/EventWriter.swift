#if canImport(Glibc)
import Glibc
#endif

/// Writes worker events to the supervisor's pipe, from any thread.
///
/// Frames are written whole under a lock so concurrent requests never interleave them. If the
/// supervisor is gone the worker has no reason to live: writes fail with EPIPE and the
/// worker's parent-death signal ends it anyway.
public final class EventWriter: @unchecked Sendable {
    private let descriptor: Int32
    private let lock = Lock()
    private var broken = false

    public init(descriptor: Int32) { self.descriptor = descriptor }

    public func send(_ event: WorkerEvent) {
        var bytes: [UInt8] = []
        EventFrame.encode(event, into: &bytes)
        lock.withLock {
            guard !broken else { return }
            var offset = 0
            while offset < bytes.count {
                let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress! + offset, bytes.count - offset) }
                if written < 0 {
                    if errno == EINTR { continue }
                    broken = true
                    return
                }
                offset += written
            }
        }
    }
}
