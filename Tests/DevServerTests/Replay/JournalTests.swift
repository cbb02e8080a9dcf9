@testable import DevServer
import Foundation
import XCTest

/// --journal: history that survives a restart.
final class JournalTests: XCTestCase {
    private var path: String!

    override func setUp() { path = NSTemporaryDirectory() + "devserve-journal-\(getpid())-\(UUID().uuidString.prefix(8)).jsonl" }
    override func tearDown() { try? FileManager.default.removeItem(atPath: path) }

    private func feed(_ recorder: Recorder, _ journal: Journal, count: Int, replayOfFirst: Bool = false) {
        for n in 1...count {
            let id = "1.\(n)"
            if replayOfFirst && n == count { recorder.expectReplay(from: "127.0.0.1:\(n)", of: 1) }
            recorder.apply(.requestStarted(RequestStart(
                id: id, generation: 1, client: "127.0.0.1:\(n)", time: n * 1000, method: "POST", target: "/\(n)", version: "HTTP/1.1",
                headers: [HeaderField("Host", "t")], environ: CompactEnviron([EnvironEntry(key: Array("PATH_INFO".utf8), value: [0xFF, 0x2F])]))))
            recorder.apply(.requestBody(id: id, bytes: [0, 1, 2, UInt8(n)]))
            recorder.apply(.chunk(id: id, offset: 700, size: 3, bytes: Array("ok\n".utf8)))
            let touched = recorder.apply(.requestFinished(RequestSummary(
                id: id, generation: 1, client: "c", method: "POST", target: "/", version: "HTTP/1.1", status: 200, bytes: 3, durationMicroseconds: 900, outcome: "complete")))
            journal.append(recorder.record(touched!)!, recorder: recorder)
        }
    }

    func testEntriesSurviveARestartByteForByte() throws {
        let first = Recorder()
        let journal = Journal(path: path, capacity: 100)
        try journal.load(into: first)
        feed(first, journal, count: 3, replayOfFirst: true)

        let second = Recorder()
        let (loaded, skipped) = try Journal(path: path, capacity: 100).load(into: second)
        XCTAssertEqual(loaded, 3)
        XCTAssertEqual(skipped, 0)
        let before = first.snapshot()
        let after = second.snapshot()
        XCTAssertEqual(after.map(\.target), ["/1", "/2", "/3"])
        XCTAssertEqual(after.map(\.requestBody), before.map(\.requestBody))
        XCTAssertEqual(after.map(\.environ), before.map(\.environ), "environ bytes, even invalid UTF-8, come back exactly")
        XCTAssertEqual(after.map(\.chunks), before.map(\.chunks))
        XCTAssertEqual(after.last?.replayOf, after.first?.id, "a replay stays linked to its original")
    }

    func testTheJournalIsBoundedByTheCapacity() throws {
        var configuration = Recorder.Configuration()
        configuration.capacity = 4
        let recorder = Recorder(configuration: configuration)
        let journal = Journal(path: path, capacity: 4)
        try journal.load(into: recorder)
        feed(recorder, journal, count: 20)
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").count
        XCTAssertLessThanOrEqual(lines, 8, "rewritten once it holds twice the capacity")
        let restarted = Recorder(configuration: configuration)
        try Journal(path: path, capacity: 4).load(into: restarted)
        XCTAssertEqual(restarted.snapshot().map(\.target), ["/17", "/18", "/19", "/20"])
    }

    func testIdsSurviveARestartAndNewRequestsContinueAfterTheNewest() throws {
        var configuration = Recorder.Configuration()
        configuration.capacity = 4
        let first = Recorder(configuration: configuration)
        let journal = Journal(path: path, capacity: 4)
        try journal.load(into: first)
        feed(first, journal, count: 10)
        let ids = first.snapshot().map(\.id)
        XCTAssertEqual(ids, [7, 8, 9, 10])

        // A damaged line leaves a gap among the restored ids.
        var lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        lines[lines.count - 2] = "{damaged"
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: false, encoding: .utf8)
        let second = Recorder(configuration: configuration)
        try Journal(path: path, capacity: 4).load(into: second)
        XCTAssertEqual(second.snapshot().map(\.id), [7, 8, 10], "#7 is still #7 after the restart")
        XCTAssertEqual(second.record(8)?.target, "/8", "records are found by id across the gap")
        XCTAssertEqual(second.record(10)?.target, "/10")
        XCTAssertNil(second.record(9))
        let next = second.apply(RecorderTests.start("2.1", target: "/new"))
        XCTAssertEqual(next, 11, "the first request after the restart continues after the newest id")
        XCTAssertEqual(second.record(11)?.target, "/new")
        second.apply(RecorderTests.finish("2.1"))
        for n in 2...3 {
            second.apply(RecorderTests.start("2.\(n)"))
            second.apply(RecorderTests.finish("2.\(n)"))
        }
        XCTAssertEqual(second.snapshot().map(\.id), [10, 11, 12, 13], "eviction keeps the newest, across the gap")
        XCTAssertEqual(second.record(10)?.target, "/10")
    }

    func testADamagedLineIsSkippedAndTheRestLoads() throws {
        let recorder = Recorder()
        let journal = Journal(path: path, capacity: 100)
        try journal.load(into: recorder)
        feed(recorder, journal, count: 2)
        let handle = FileHandle(forWritingAtPath: path)!
        handle.seekToEndOfFile()
        handle.write(Data("{not json\n".utf8))
        handle.closeFile()
        let reloaded = Journal(path: path, capacity: 100)
        let (loaded, skipped) = try reloaded.load(into: Recorder())
        XCTAssertEqual(loaded, 2)
        XCTAssertEqual(skipped, 1)
        XCTAssertEqual(try String(contentsOfFile: reloaded.damagedPath, encoding: .utf8), "{not json\n", "kept aside, not deleted by the rewrite")
        unlink(reloaded.damagedPath)
    }

    func testAJournalFarLargerThanTheCapacityLoadsOnlyItsNewestLines() throws {
        // 20,000 lines of about 1 KB: only the last 10 are held and decoded.
        let recorder = Recorder()
        let journal = Journal(path: path, capacity: 100_000)
        try journal.load(into: recorder)
        feed(recorder, journal, count: 3)
        let template = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").last.map(String.init) ?? ""
        var text = ""
        XCTAssertNotNil(template.firstMatch(of: /"target":"[^"]*"/), template)
        for index in 0..<20_000 { text += template.replacing(/"target":"[^"]*"/, with: "\"target\":\"\\/big\(index)\"") + "\n" }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        var configuration = Recorder.Configuration()
        configuration.capacity = 10
        let restarted = Recorder(configuration: configuration)
        let (loaded, skipped) = try Journal(path: path, capacity: 10).load(into: restarted)
        XCTAssertEqual(loaded, 10)
        XCTAssertEqual(skipped, 0)
        XCTAssertEqual(restarted.snapshot().last?.target, "/big19999")
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").count, 10, "rewritten to what is kept")
    }
}
