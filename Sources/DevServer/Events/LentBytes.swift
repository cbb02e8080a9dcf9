/// Body bytes a worker placed in the shared body ring, read where they lie instead of copied
/// out first (issue 14: each captured 1 MiB upload was copied from the ring into an array,
/// then from the array into its record, 21% of the supervisor's time under a 1 MiB echo).
///
/// Only the supervisor's decoding of one batch of frames makes them, and they are valid until
/// that batch has been handled: the ring is not handed back to the worker before
/// ``SharedBodyRing/releaseTaken()``. Whoever keeps the bytes copies them
/// (``Recorder`` straight into the record).
public struct LentBytes: @unchecked Sendable, Equatable {
    public let bytes: UnsafeRawBufferPointer

    public var count: Int { bytes.count }

    /// A copy that outlives the batch.
    public var array: [UInt8] { Array(bytes) }

    public static func == (left: LentBytes, right: LentBytes) -> Bool { left.bytes.elementsEqual(right.bytes) }
}
