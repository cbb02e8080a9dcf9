import DevServer

/// Where the inspector reads requests from: the recorder, or a fixed set in tests.
public protocol RecordSource: AnyObject, Sendable {
    func snapshot() -> [RequestRecord]
    func record(_ id: Int) -> RequestRecord?
    func ids(where predicate: (RequestRecord) -> Bool) -> [Int]
    var statistics: Recorder.Statistics { get }
    func pause()
    func resume()
    func clear()
}

extension Recorder: RecordSource {}
