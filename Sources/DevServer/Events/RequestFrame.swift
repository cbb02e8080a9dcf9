/// One of a request's capture frames as it arrived, not decoded: the supervisor keeps a
/// request's frames as bytes and decodes them into a ``RequestRecord`` only when the record is
/// read (issue 14: decoding every frame into strings and arrays, building a record and later
/// freeing it were half of the supervisor's time per hello request, for records most of which
/// no one ever looks at).
///
/// Made only by the supervisor's decoding of one read (``EventFrame``), for the frames that
/// carry no more than text and small bytes (the start, the status, the head sent, an inline
/// chunk, a bridge's environ and traceback); `bytes` are lent from the read and valid while
/// that batch is handled.
public struct RequestFrame: Sendable, Equatable {
    /// The worker's request id.
    public let id: String
    /// For the frame that starts its request (``WorkerEvent/requestStarted(_:)``), what the
    /// supervisor needs of it at once, read when the frame was: the client (the recorder's replay
    /// link), the method and the target (the supervisor's requests in flight).
    public let start: Start?

    public struct Start: Sendable, Equatable {
        public let client: String
        public let method: String
        public let target: String
    }
    /// The whole frame, header included, as ``EventFrame/decode(_:)-swift.type.method`` reads it.
    public let bytes: LentBytes
}
