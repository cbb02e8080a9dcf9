import DevServer
import Foundation
import XCTest

/// Issue 12, section 4: a crash costs only its own request, and is blamed on it alone; crash
/// detection comes from the worker's own signal handler, never from text.
final class CrashBlameTests: XCTestCase {
    func testACrashIsBlamedOnItsOwnRequestAndTheOthersInFlightAreInterrupted() throws {
        let server = try DevServeProcess(plugin: "errors")
        let slow = try RawClient(port: server.port)
        try slow.send("GET /slow?ms=3000 HTTP/1.1\r\nHost: t\r\n\r\n")
        Thread.sleep(forTimeInterval: 0.3)
        let trapping = try RawClient(port: server.port)
        try trapping.send("GET /trap HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertTrue(server.waitForLog("was in flight when the worker died"), server.log)
        XCTAssertTrue(server.log.contains("caught SIGILL (Illegal instruction) while serving ["), server.log)
        let entries = try devserveJSON([RecordJSON.Summary].self, ["ls"], port: server.port)
        XCTAssertEqual(entries.map(\.target), ["/slow?ms=3000", "/trap"])
        XCTAssertEqual(entries.map(\.outcome), ["interrupted", "crashed"], "only the trapping request crashed")
        guard entries.count == 2 else { return }
        let innocent = try devserveJSON(RecordJSON.Full.self, ["show", String(entries[0].id)], port: server.port)
        XCTAssertNil(innocent.crash, "the trap's backtrace is not pinned on an innocent request")
        XCTAssertEqual(innocent.outcomeDetail, "interrupted: the worker crashed (SIGILL (Illegal instruction)) while serving #\(entries[1].id)")
        let culprit = try devserveJSON(RecordJSON.Full.self, ["show", String(entries[1].id)], port: server.port)
        XCTAssertTrue(culprit.crash?.backtrace.contains("Fatal error: Unexpectedly found nil") == true, "\(String(describing: culprit.crash))")
    }

    func testTextThatLooksLikeACrashReportDoesNotRestartTheWorker() throws {
        let directory = try makeScratchDirectory("crashtext")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Written to the worker's real stderr, as a plugin's own logging would be.
        try """
            import sys
            def application(environ, start_response):
                sys.__stderr__.write("*** Program crashed: Bad pointer dereference at 0x0000000000000000 ***\\n")
                sys.__stderr__.flush()
                start_response("200 OK", [("Content-Type", "text/plain")])
                return [b"fine"]

            """.write(toFile: directory + "/liar.py", atomically: false, encoding: .utf8)
        let server = try PythonSupport.serve(directory + "/liar.py", python: "python3")
        for _ in 0..<20 {
            XCTAssertEqual(try PythonSupport.request(server.port, "/").bodyText, "fine")
        }
        Thread.sleep(forTimeInterval: 0.3)
        XCTAssertEqual(server.workerPIDs.count, 1, "one worker, never replaced: \(server.log)")
        XCTAssertFalse(server.log.contains("restarting"), server.log)
    }

    func testTheCrashFrameTheHandlerWritesDecodesAsACrashEvent() throws {
        var buffer = EventFrame.crashFrame(signal: 11, requestID: "12.345")
        var encoded: [UInt8] = []
        EventFrame.encode(.crashed(signal: 11, requestID: "12.345"), into: &encoded)
        XCTAssertEqual(buffer, encoded, "C and Swift write the same bytes")
        XCTAssertEqual(try EventFrame.decode(&buffer), [.crashed(signal: 11, requestID: "12.345")])
        XCTAssertEqual(buffer, [], "the whole frame was read")
    }
}
