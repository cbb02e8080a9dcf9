#if canImport(Glibc)
import Glibc
#endif

/// Replays captured requests against devserve's own socket: the same bytes as the original
/// (method, target, headers, body), and the new entry linked to the one it replays.
public struct Replayer: Sendable {
    /// How one replay went.
    public struct Outcome: Sendable, Equatable {
        public var original: Int
        /// The new entry, once the recorder has it (nil with capture paused).
        public var replay: Int?
        public var status: Int
        public var reason: String
        public var duration: Int

        /// "#3 replayed as #9: 200 OK in 1.2 ms"
        public var summary: String {
            let entry = replay.map { "as #\($0)" } ?? "(not recorded: capture is paused)"
            return "#\(original) replayed \(entry): \(status) \(reason) in \(RecordText.milliseconds(duration))"
        }
    }

    public let recorder: Recorder
    public let client: ReplayClient

    /// - Parameters: host and port: where devserve listens (a wildcard address is reached on
    ///   loopback).
    public init(recorder: Recorder, host: String, port: Int) {
        self.recorder = recorder
        let target = host == "0.0.0.0" ? "127.0.0.1" : host == "::" ? "::1" : host
        self.client = ReplayClient(host: target, port: port)
    }

    /// Replays `id`. - Throws: when the record is gone, cannot be rebuilt, or the send fails.
    public func replay(_ id: Int) throws -> Outcome {
        guard let record = recorder.record(id) else { throw RawRequest.Problem("no captured request #\(id): it may have been evicted") }
        return try send(try RawRequest(record: record), replaying: id)
    }

    /// Sends `request` as a replay of `id` (an edited replay sends what the user saved).
    public func send(_ request: RawRequest, replaying id: Int) throws -> Outcome {
        var local = ""
        let response: ReplayClient.Response
        do {
            response = try client.send(request) { address in
                local = address
                recorder.expectReplay(from: address, of: id)
            }
        } catch {
            if !local.isEmpty { recorder.cancelReplay(from: local) }
            throw error
        }
        // The worker reports the request before its response; the supervisor may still be
        // applying the events: wait a little for the entry.
        var replay: Int?
        let deadline = MonotonicClock.now() + 3_000_000
        while replay == nil && MonotonicClock.now() < deadline && !recorder.statistics.paused {
            replay = recorder.replay(of: id, from: local)
            if replay == nil { usleep(2000) }
        }
        if replay == nil { recorder.cancelReplay(from: local) }
        return Outcome(original: id, replay: replay, status: response.status, reason: response.reason, duration: response.duration)
    }
}
