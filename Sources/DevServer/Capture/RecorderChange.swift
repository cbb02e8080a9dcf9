/// What changed in the recorder, for subscribers (the inspector): they re-read what they
/// show, they never receive the records themselves.
public enum RecorderChange: Sendable, Equatable {
    /// A new request was recorded.
    case added(Int)
    /// A recorded request changed (a chunk arrived, it finished, it crashed).
    case updated(Int)
    /// The oldest requests were dropped to stay under the caps.
    case evicted([Int])
    /// Everything was cleared.
    case cleared
}
