import CDevServeShim
#if canImport(Glibc)
import Glibc
#endif

/// The supervisor's side of a worker's shared body ring (devserve_shim.h): captured body parts
/// of ``minimumShared`` bytes and more lie here, and their event frame carries only where.
///
/// The pipe copied every captured byte twice in the kernel and allocated and freed its pages;
/// the ring is written once by the worker and read once by the supervisor (issue 14). When the
/// ring is full the worker sends the bytes in the frame as before, so nothing waits on it.
final class SharedBodyRing {
    /// The ring's size (the memfd holds a header page more): a supervisor busy with other work
    /// falls behind the worker by several MiB under a 1 MiB echo load, and a ring that fills
    /// sends the rest through the pipe (8 MiB: 621 requests/s; 32: 712; 64: 1,036). Touched
    /// pages count in both processes' resident memory; the worker gives them back a second
    /// after the last body placed, once all were taken (devserve_shim.h).
    static let size = 64 << 20
    /// Smaller parts travel in their frames: a ring position costs about as much as the bytes.
    static let minimumShared = 4096
    /// The descriptor the worker inherits (``Worker/bodyRingDescriptor``); the supervisor
    /// closes its own once the worker is spawned.
    let descriptor: Int32
    private let mapping: UnsafeMutableRawPointer

    init?() {
        var descriptor: Int32 = -1
        guard let mapping = devserve_shim_ring_create(Self.size, &descriptor) else { return nil }
        self.mapping = mapping
        self.descriptor = descriptor
    }

    deinit { munmap(mapping, Self.size + Int(DEVSERVE_RING_HEADER)) }

    /// The end of the last part taken or lent and not yet handed back (``releaseTaken()``).
    private var takenEnd: Int?

    /// Copies the `count` bytes at ring position `position` out. The ring is handed back to
    /// the worker only by ``releaseTaken()``.
    /// - Throws: `EventFrameError` for a position or count outside the ring.
    func take(count: Int, at position: Int) throws -> [UInt8] {
        try lend(count: count, at: position).array
    }

    /// The `count` bytes at ring position `position`, where they lie: valid until
    /// ``releaseTaken()``.
    /// - Throws: `EventFrameError` for a position or count outside the ring.
    func lend(count: Int, at position: Int) throws -> LentBytes {
        guard count > 0, count <= Self.size, position >= 0, position % Self.size + count <= Self.size else {
            throw EventFrameError(detail: "shared body of \(count) bytes at \(position), outside the ring")
        }
        let start = mapping + Int(DEVSERVE_RING_HEADER) + position % Self.size
        takenEnd = max(takenEnd ?? 0, position + count)
        return LentBytes(bytes: UnsafeRawBufferPointer(start: start, count: count))
    }

    /// Tells the worker the ring is free up to the end of everything taken or lent so far
    /// (parts are placed and taken in order): once the batch they came in was handled.
    func releaseTaken() {
        guard let end = takenEnd else { return }
        takenEnd = nil
        devserve_shim_ring_consumed(mapping, UInt64(end))
    }
}
