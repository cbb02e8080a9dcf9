@testable import DevServer
import Foundation
import XCTest

/// The supervisor keeps a live request's record as the frames its events came in, and decodes
/// them when the record is first read (``RecordBox``): what anyone reads must be what the
/// events, applied one by one, would have made.
final class RecordKeptAsFramesTests: XCTestCase {
    private static let client = "127.0.0.1:50001"

    private static func story(_ id: String, errorsMidway: Bool = false) -> [WorkerEvent] {
        var events: [WorkerEvent] = [
            .requestStarted(RequestStart(
                id: id, generation: 3, client: client, time: 1_700_000_000_000_000, method: "POST", target: "/upload?x=1", version: "HTTP/1.1",
                headers: [HeaderField("Host", "example.test"), HeaderField("Content-Length", "11")],
                environ: CompactEnviron([EnvironEntry(key: Array("PATH_INFO".utf8), value: Array("/upload".utf8)), EnvironEntry(key: Array("QUERY_STRING".utf8), value: Array("x=1".utf8))]))),
            .requestBody(id: id, bytes: Array("hello ".utf8)),
            .requestBody(id: id, bytes: Array("world".utf8)),
            .responseStarted(id: id, status: "201 Created", headers: [HeaderField("Content-Type", "text/plain")], replaced: false),
            .headSent(id: id, head: Array("HTTP/1.1 201 Created\r\nContent-Type: text/plain\r\n\r\n".utf8)),
            .chunk(id: id, offset: 120, size: 6, bytes: Array("first ".utf8)),
        ]
        if errorsMidway { events.append(.errors(id: id, text: "a warning on wsgi.errors\n")) }
        events += [
            .chunk(id: id, offset: 250, size: 12, bytes: Array("second chunk".utf8)),
            .applicationEnviron(id: id, lines: "wsgi.input\t<devserve.Input object>\nflask.app\t<Flask object>\n"),
            .applicationTraceback(id: id, lines: "app.py\t3\tindex\n"),
        ]
        var summary = RequestSummary(id: id, generation: 3, client: client, method: "POST", target: "/upload?x=1", version: "HTTP/1.1", status: 201, bytes: 18, durationMicroseconds: 900, outcome: "complete")
        summary.requestBodySize = 11
        summary.timings.firstByte = 130
        events.append(.requestFinished(summary))
        return events
    }

    /// Feeds `events` to `recorder` as the supervisor does: encoded, read back with a request's
    /// frames lent, in one batch. - Returns: how many frames were kept encoded.
    @discardableResult
    private static func feedAsTheSupervisorDoes(_ events: [WorkerEvent], to recorder: Recorder) throws -> Int {
        var stream: [UInt8] = []
        for event in events { EventFrame.encode(event, into: &stream) }
        var kept = 0
        let consumed = try stream.withUnsafeBytes { bytes in
            try EventFrame.decodeLending(bytes, ring: nil) { batch in
                kept = batch.filter { if case .requestFrame = $0 { true } else { false } }.count
                recorder.apply(batch)
            }
        }
        XCTAssertEqual(consumed, stream.count)
        return kept
    }

    private static func json(_ record: RequestRecord?) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(RecordJSON.full(try XCTUnwrap(record))), as: UTF8.self)
    }

    func testARecordKeptAsItsFramesReadsTheSameAsOneBuiltEventByEventBodyCapsIncluded() throws {
        for errorsMidway in [false, true] {
            var configuration = Recorder.Configuration()
            configuration.maxBody = 15
            let byEvent = Recorder(configuration: configuration)
            let asFrames = Recorder(configuration: configuration)
            byEvent.apply(Self.story("2.7", errorsMidway: errorsMidway))
            let kept = try Self.feedAsTheSupervisorDoes(Self.story("2.7", errorsMidway: errorsMidway), to: asFrames)
            XCTAssertEqual(kept, 9, "the start, both body parts, status, head, both chunks, environ and traceback stay encoded")
            let expected = try Self.json(byEvent.record(1))
            XCTAssertTrue(expected.contains(#""errors":"a warning"#) == errorsMidway)
            XCTAssertEqual(try Self.json(asFrames.record(1)), expected, errorsMidway ? "decoded midway by the errors, the rest applied at once" : "decoded when read")
            XCTAssertEqual(try Self.json(asFrames.record(1)), expected, "and the same when read again")
        }
    }

    func testARecordKeptAsFramesKeepsItsReplayLinkAndIsFoundAsTheReplayBeforeItIsRead() throws {
        let recorder = Recorder()
        recorder.expectReplay(from: Self.client, of: 41)
        try Self.feedAsTheSupervisorDoes(Self.story("2.8"), to: recorder)
        XCTAssertEqual(recorder.replay(of: 41, from: Self.client), 1)
        XCTAssertEqual(recorder.record(1)?.replayOf, 41)
        XCTAssertEqual(recorder.record(1)?.target, "/upload?x=1")
    }

    func testAnInFlightRecordKeptAsFramesThatIsEvictedForgetsItsRequestSoLaterFramesTouchNothing() throws {
        var configuration = Recorder.Configuration()
        configuration.capacity = 1
        let recorder = Recorder(configuration: configuration)
        let first = Self.story("2.9")
        try Self.feedAsTheSupervisorDoes(Array(first.prefix(4)), to: recorder)
        XCTAssertEqual(recorder.statistics.inFlight, 1)
        try Self.feedAsTheSupervisorDoes(Array(Self.story("2.10").prefix(1)), to: recorder)
        XCTAssertEqual(recorder.statistics.inFlight, 1, "the first request's record was evicted, and its worker id forgotten")
        XCTAssertNil(recorder.record(workerID: "2.9"))
        try Self.feedAsTheSupervisorDoes(Array(first.dropFirst(4)), to: recorder)
        XCTAssertEqual(recorder.statistics.count, 1)
        XCTAssertEqual(recorder.record(2)?.workerID, "2.10")
        XCTAssertNil(recorder.record(2)?.sentHead, "the first request's head went nowhere")
    }

    func testAKeptFrameThatDoesNotDecodeLeavesWhatCameBeforeItAndSaysWhatIsMissing() throws {
        let recorder = Recorder()
        try Self.feedAsTheSupervisorDoes(Array(Self.story("3.1").prefix(1)), to: recorder)
        // A status frame whose fields stop short: its header and id are right, the rest is not.
        var fields: [UInt8] = [3, 0, 0, 0] + Array("3.1".utf8) + [200, 0, 0, 0] + Array("2".utf8)
        fields.insert(6, at: 0)   // kind: responseStarted
        let length = UInt32(fields.count)
        var frame: [UInt8] = withUnsafeBytes(of: length.littleEndian) { Array($0) }
        frame.append(EventFrame.headerCheck(length: length, kind: 6))
        frame += fields
        try frame.withUnsafeBytes { bytes in
            _ = try EventFrame.decodeLending(bytes, ring: nil) { recorder.apply($0) }
        }
        let record = try XCTUnwrap(recorder.record(1))
        XCTAssertEqual(record.target, "/upload?x=1", "the start still reads")
        XCTAssertNil(record.applicationStatus)
        XCTAssertTrue(record.errors.contains("did not decode"), record.errors)
    }

    func testWhileIdleKeptRecordsAreDecodedOldestFirstASliceAtATimeAndReadTheSame() throws {
        let recorder = Recorder()
        let byEvent = Recorder()
        for index in 1...5 {
            try Self.feedAsTheSupervisorDoes(Self.story("5.\(index)"), to: recorder)
            byEvent.apply(Self.story("5.\(index)"))
        }
        XCTAssertEqual(recorder.keptAsFrames, 5)
        XCTAssertTrue(recorder.decodeKept(limit: 2), "some are left")
        XCTAssertEqual(recorder.keptAsFrames, 3)
        XCTAssertFalse(recorder.decodeKept(limit: 10))
        XCTAssertEqual(recorder.keptAsFrames, 0)
        XCTAssertFalse(recorder.decodeKept(limit: 10), "nothing to do")
        try Self.feedAsTheSupervisorDoes(Self.story("5.6"), to: recorder)
        byEvent.apply(Self.story("5.6"))
        XCTAssertFalse(recorder.decodeKept(limit: 10), "a new one is decoded too")
        XCTAssertEqual(recorder.keptAsFrames, 0)
        for id in 1...6 { XCTAssertEqual(try Self.json(recorder.record(id)), try Self.json(byEvent.record(id))) }
    }

    func testIdleDecodingStopsBeforeTheMemoryCapAndEvictsNothing() throws {
        let probe = Recorder()
        for index in 1...5 { try Self.feedAsTheSupervisorDoes(Self.story("6.\(index)"), to: probe) }
        var configuration = Recorder.Configuration()
        // The five kept as frames take just over seven eighths of the cap.
        configuration.maxMemory = probe.statistics.bytes * 8 / 7 - 64
        let recorder = Recorder(configuration: configuration)
        for index in 1...5 { try Self.feedAsTheSupervisorDoes(Self.story("6.\(index)"), to: recorder) }
        XCTAssertEqual(recorder.statistics.count, 5)
        XCTAssertFalse(recorder.decodeKept(limit: 10), "no room to decode")
        XCTAssertEqual(recorder.keptAsFrames, 5)
        XCTAssertEqual(recorder.statistics.evictions, 0, "nothing evicted for it")
        XCTAssertEqual(try Self.json(recorder.record(5)).contains(#""target":"\/upload?x=1""#), true, "a read still decodes it")
    }
}
