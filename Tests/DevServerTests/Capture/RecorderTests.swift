@testable import DevServer
import XCTest

/// The recorder alone, fed worker events by hand.
final class RecorderTests: XCTestCase {
    static func start(_ id: String, target: String = "/", method: String = "GET", generation: Int = 1, time: Int = 1_000_000) -> WorkerEvent {
        .requestStarted(RequestStart(
            id: id, generation: generation, client: "127.0.0.1:1", time: time, method: method, target: target, version: "HTTP/1.1",
            headers: [HeaderField("Host", "t")], environ: CompactEnviron([EnvironEntry(key: Array("PATH_INFO".utf8), value: Array(target.utf8))])))
    }

    static func finish(_ id: String, status: Int = 200, outcome: String = "complete") -> WorkerEvent {
        .requestFinished(RequestSummary(id: id, generation: 1, client: "c", method: "GET", target: "/", version: "HTTP/1.1", status: status, bytes: 0, durationMicroseconds: 1500, outcome: outcome))
    }

    func testEntriesUpdateLiveChunkByChunkWhileTheRequestRuns() {
        let recorder = Recorder()
        let changes = ChangeLog()
        recorder.subscribe { changes.append($0) }
        let id = recorder.apply(Self.start("1.1"))!
        recorder.apply(.chunk(id: "1.1", offset: 1000, size: 3, bytes: Array("abc".utf8)))
        XCTAssertEqual(recorder.record(id)?.chunks.map(\.offset), [1000])
        XCTAssertTrue(recorder.record(id)!.isInFlight)
        recorder.apply(.chunk(id: "1.1", offset: 2000, size: 3, bytes: Array("def".utf8)))
        XCTAssertEqual(recorder.record(id)?.responseBody, Array("abcdef".utf8))
        recorder.apply(Self.finish("1.1"))
        XCTAssertEqual(recorder.record(id)?.outcome, .complete)
        XCTAssertEqual(changes.all, [.added(id), .updated(id), .updated(id), .updated(id)])
    }

    func testEventsAppliedTogetherNotifyOncePerRecordAndEndAsIfAppliedOneByOne() {
        var configuration = Recorder.Configuration()
        configuration.capacity = 2
        let recorder = Recorder(configuration: configuration)
        recorder.apply(Self.start("1.1"))
        let changes = ChangeLog()
        recorder.subscribe { changes.append($0) }
        let touched = recorder.apply([
            .chunk(id: "1.1", offset: 10, size: 2, bytes: Array("ab".utf8)),
            Self.start("1.2"), .chunk(id: "1.2", offset: 5, size: 1, bytes: [65]), .chunk(id: "1.2", offset: 9, size: 1, bytes: [66]),
            Self.finish("1.1"), Self.finish("1.2"), .heartbeat, Self.start("1.3"),
        ])
        XCTAssertEqual(touched, [1, 2, 2, 2, 1, 2, nil, 3])
        XCTAssertEqual(changes.all, [.updated(1), .added(2), .added(3), .evicted([1])])
        XCTAssertEqual(recorder.snapshot().map(\.id), [2, 3])
        XCTAssertEqual(recorder.record(2)?.responseBody, Array("AB".utf8))
        XCTAssertEqual(recorder.record(2)?.outcome, .complete)
        XCTAssertEqual(recorder.record(3)?.isInFlight, true)
    }

    func testTheOldestEntriesGoFirstWhenTheCountCapIsReached() {
        var configuration = Recorder.Configuration()
        configuration.capacity = 3
        let recorder = Recorder(configuration: configuration)
        let changes = ChangeLog()
        recorder.subscribe { changes.append($0) }
        for n in 1...5 {
            recorder.apply(Self.start("1.\(n)"))
            recorder.apply(Self.finish("1.\(n)"))
        }
        XCTAssertEqual(recorder.snapshot().map(\.id), [3, 4, 5])
        XCTAssertEqual(recorder.statistics.evictions, 2)
        XCTAssertTrue(changes.all.contains(.evicted([1])))
        XCTAssertNil(recorder.record(1))
    }

    func testTheByteCapEvictsOldEntriesAndCountsItsBytes() {
        var configuration = Recorder.Configuration()
        configuration.maxMemory = 50_000
        let recorder = Recorder(configuration: configuration)
        for n in 1...10 {
            recorder.apply(Self.start("1.\(n)"))
            recorder.apply(.chunk(id: "1.\(n)", offset: 1, size: 10_000, bytes: [UInt8](repeating: 1, count: 10_000)))
            recorder.apply(Self.finish("1.\(n)"))
        }
        let statistics = recorder.statistics
        XCTAssertLessThanOrEqual(statistics.bytes, 50_000)
        XCTAssertGreaterThan(statistics.evictions, 0)
        XCTAssertEqual(recorder.snapshot().last?.id, 10, "the newest is always kept")
    }

    func testARequestBodyArrivingInPartsIsKeptInOrderUpToTheCapWhereverAPartEnds() {
        var configuration = Recorder.Configuration()
        configuration.maxBody = 10
        let recorder = Recorder(configuration: configuration)
        let id = recorder.apply(Self.start("1.1"))!
        for part in ["abcd", "efgh", "ijkl", "mn"] { recorder.apply(.requestBody(id: "1.1", bytes: Array(part.utf8))) }
        XCTAssertEqual(recorder.record(id)?.requestBody, Array("abcdefghij".utf8), "the first ten bytes, the third part cut at the cap")
    }

    func testRequestBodyPartsLentFromTheSharedRingAreCopiedIntoTheRecordUpToTheCapAndOutliveTheirMemory() {
        var configuration = Recorder.Configuration()
        configuration.maxBody = 10
        let recorder = Recorder(configuration: configuration)
        // The ring's memory, overwritten once each batch was handled, as the worker would.
        let memory = UnsafeMutableRawBufferPointer.allocate(byteCount: 8, alignment: 1)
        defer { memory.deallocate() }
        func lend(_ text: String) -> WorkerEvent {
            let bytes = Array(text.utf8)
            memory.copyBytes(from: bytes)
            return .requestBodyLent(id: "1.1", bytes: LentBytes(bytes: UnsafeRawBufferPointer(rebasing: memory[0..<bytes.count])))
        }
        recorder.apply(lend("early"))
        let id = recorder.apply(Self.start("1.1"))!
        for part in ["abc", "defgh", "ijkl"] {
            recorder.apply([lend(part)])
            memory.copyBytes(from: [UInt8](repeating: 0x2A, count: 8))
        }
        XCTAssertEqual(recorder.record(id)?.requestBody, Array("earlyabcde".utf8), "the parts in order, cut at the cap, none overwritten")
        XCTAssertEqual(recorder.record(id)?.requestBodySize, 10)
    }

    func testBodiesAreKeptUpToTheCapAndTheRestIsCounted() {
        var configuration = Recorder.Configuration()
        configuration.maxBody = 4
        let recorder = Recorder(configuration: configuration)
        let id = recorder.apply(Self.start("1.1"))!
        recorder.apply(.requestBody(id: "1.1", bytes: Array("abcdefgh".utf8)))
        recorder.apply(.chunk(id: "1.1", offset: 1, size: 3, bytes: Array("123".utf8)))
        recorder.apply(.chunk(id: "1.1", offset: 2, size: 3, bytes: Array("456".utf8)))
        var summary = RequestSummary(id: "1.1", generation: 1, client: "c", method: "POST", target: "/", version: "HTTP/1.1", status: 200, bytes: 6, durationMicroseconds: 5, outcome: "complete")
        summary.requestBodySize = 8
        recorder.apply(.requestFinished(summary))
        let record = recorder.record(id)!
        XCTAssertEqual(record.requestBody, Array("abcd".utf8))
        XCTAssertEqual(record.requestBodyDropped, 4)
        XCTAssertEqual(record.responseBody, Array("1234".utf8))
        XCTAssertEqual(record.responseBodyDropped, 2)
        XCTAssertEqual(record.chunks.map(\.size), [3, 3], "every chunk is listed, kept or not")
    }

    func testABodyArrivingBeforeItsRequestStartsIsKept() {
        let recorder = Recorder()
        recorder.apply(.requestBody(id: "1.2", bytes: Array("early".utf8)))
        let id = recorder.apply(Self.start("1.2"))!
        XCTAssertEqual(recorder.record(id)?.requestBody, Array("early".utf8))
    }

    func testAWorkerCrashFinishesItsRequestsAsCrashedWithTheBacktraceAndKeepsTheRest() {
        let recorder = Recorder()
        let done = recorder.apply(Self.start("1.1"))!
        recorder.apply(Self.finish("1.1"))
        let running = recorder.apply(Self.start("1.2"))!
        recorder.workerCrashed(inFlight: ["1.2"], signal: "SIGILL (Illegal instruction)", backtrace: "Fatal error: boom\nThread 0 crashed:")
        XCTAssertEqual(recorder.record(done)?.outcome, .complete)
        let crashed = recorder.record(running)!
        XCTAssertEqual(crashed.outcome, .crashed)
        XCTAssertEqual(crashed.crash?.signal, "SIGILL (Illegal instruction)")
        XCTAssertTrue(crashed.crash!.backtrace.contains("Fatal error: boom"))
        XCTAssertEqual(recorder.statistics.inFlight, 0)
    }

    func testARequestRunningTooLongIsMarkedTimedOutWithWhatItWasDoing() {
        let recorder = Recorder()
        let id = recorder.apply(Self.start("1.1", time: 0))!
        recorder.apply(.responseStarted(id: "1.1", status: "200 OK", headers: [], replaced: false))
        recorder.apply(.chunk(id: "1.1", offset: 120_000, size: 10, bytes: []))
        XCTAssertEqual(recorder.markTimedOut(after: 5_000_000, now: 1_000_000), [])
        XCTAssertEqual(recorder.markTimedOut(after: 5_000_000, now: 6_000_000), [id])
        let timeout = recorder.record(id)!.timeout!
        XCTAssertTrue(timeout.contains("running for 6000 ms"), timeout)
        XCTAssertTrue(timeout.contains("last chunk (10 bytes) at 120 ms"), timeout)
        XCTAssertEqual(recorder.markTimedOut(after: 5_000_000, now: 7_000_000), [], "marked once")
    }

    func testPausingStopsRecordingNewRequestsAndClearEmptiesTheBuffer() {
        let recorder = Recorder()
        recorder.apply(Self.start("1.1"))
        recorder.pause()
        XCTAssertNil(recorder.apply(Self.start("1.2")))
        recorder.apply(.chunk(id: "1.1", offset: 1, size: 1, bytes: [1]))
        XCTAssertEqual(recorder.snapshot().count, 1)
        XCTAssertEqual(recorder.snapshot()[0].chunks.count, 1, "recorded requests keep updating")
        recorder.resume()
        recorder.apply(Self.start("1.3"))
        XCTAssertEqual(recorder.snapshot().count, 2)
        recorder.clear()
        XCTAssertEqual(recorder.snapshot().count, 0)
        let id = recorder.apply(Self.start("1.4"))!
        XCTAssertEqual(recorder.record(id)?.target, "/", "ids keep counting after a clear")
        XCTAssertGreaterThan(id, 2)
    }
}

/// Collects recorder changes from any thread.
final class ChangeLog: @unchecked Sendable {
    private let lock = NSLock()
    private var changes: [RecorderChange] = []
    func append(_ change: RecorderChange) { lock.lock(); changes.append(change); lock.unlock() }
    var all: [RecorderChange] { lock.lock(); defer { lock.unlock() }; return changes }
}

import Foundation
