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
        XCTAssertTrue(server.log.contains("] GET /trap; starting its replacement"), "the request is named from its start frame: \(server.log)")
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

    func testACrashAnswersItsOwnClient500AndTheOthersInFlight503WithRetryAfter() throws {
        let server = try DevServeProcess(plugin: "errors")
        let slow = try RawClient(port: server.port)
        try slow.send("GET /slow?ms=3000 HTTP/1.1\r\nHost: t\r\n\r\n")
        let streaming = try RawClient(port: server.port)
        try streaming.send("GET /log HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(streaming.readResponse().status, 200, "a keep-alive connection, idle when the trap comes")
        Thread.sleep(forTimeInterval: 0.3)
        let trapping = try RawClient(port: server.port)
        try trapping.send("GET /trap HTTP/1.1\r\nHost: t\r\n\r\n")
        let culprit = RawResponse(trapping.readUntilClose().bytes)
        XCTAssertEqual(culprit.status, 500, "the trapping request's client gets an answer, not an empty reply")
        XCTAssertEqual(culprit.header("Connection"), "close")
        XCTAssertTrue(culprit.bodyText.contains("the application crashed while serving this request; see request #"), culprit.bodyText)
        let innocent = RawResponse(slow.readUntilClose().bytes)
        XCTAssertEqual(innocent.status, 503, "a request in flight on the crashed worker is told to retry")
        XCTAssertEqual(innocent.header("Retry-After"), "0")
        XCTAssertEqual(innocent.header("Connection"), "close")
        XCTAssertTrue(innocent.bodyText.contains("the worker crashed while serving another request"), innocent.bodyText)
        XCTAssertEqual(streaming.readUntilClose().bytes, [], "an idle connection closes without a stray answer")
        XCTAssertTrue(server.waitForLog("was in flight when the worker died"), server.log)
    }

    func testAnExitInsideARequestAnswersItsClient500() throws {
        let application = try ScratchApplication("quitter", source: """
            import ctypes
            def application(environ, start_response):
                if environ["PATH_INFO"] == "/exit":
                    ctypes.CDLL(None).exit(3)  # libc's exit(), as a native library would call it
                start_response("200 OK", [("Content-Type", "text/plain")])
                return [b"fine"]

            """)
        defer { application.remove() }
        let server = try PythonSupport.serve(application.path, python: "python3")
        let client = try RawClient(port: server.port)
        try client.send("GET /exit HTTP/1.1\r\nHost: t\r\n\r\n")
        let response = RawResponse(client.readUntilClose().bytes)
        XCTAssertEqual(response.status, 500, server.log)
        XCTAssertTrue(response.bodyText.contains("the application exited while serving this request"), response.bodyText)
        XCTAssertEqual(try PythonSupport.request(server.port, "/").bodyText, "fine", "a new worker serves the next request")
    }

    func testACrashStormKeepsAtMostEightCrashedWorkersWaitingForTheirBacktraces() throws {
        let server = try DevServeProcess(plugin: "errors")
        for _ in 0..<14 {
            let client = try RawClient(port: server.port)
            try client.send("GET /trap HTTP/1.1\r\nHost: t\r\n\r\n")
            XCTAssertEqual(RawResponse(client.readUntilClose().bytes).status, 500)
        }
        let alive = server.workerPIDs.filter { kill($0, 0) == 0 }
        XCTAssertLessThanOrEqual(alive.count, Supervisor.maxDyingWorkers + 2, "crashed workers pile up: \(alive.count) alive")
        XCTAssertTrue(server.waitForLog("is killed before its backtrace is done"), server.log)
        let client = try RawClient(port: server.port)
        try client.send("GET /log HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(client.readResponse(timeout: 10).bodyText, "logged\n", "the server still serves")
    }

    /// A request the dying worker's event loop took while the crash handler was answering used
    /// to get an empty reply when the process died (2 of 166 polls beside 200 traps).
    func testInACrashStormEveryInnocentClientGetsAnAnswerNeverAnEmptyReply() throws {
        let server = try DevServeProcess(plugin: "errors")
        final class Polls: @unchecked Sendable {
            let lock = NSLock()
            var answered = 0
            var unanswered: [String] = []
            var stop = false
        }
        let polls = Polls()
        let poller = DispatchGroup()
        // Eight pollers, so that requests arrive while every crash is being answered.
        for _ in 0..<8 {
          poller.enter()
          DispatchQueue.global().async {
            defer { poller.leave() }
            while !polls.lock.withLock({ polls.stop }) {
                let bytes: [UInt8]
                do {
                    let client = try RawClient(port: server.port)
                    try client.send("GET /log HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
                    bytes = client.readUntilClose().bytes
                } catch {
                    bytes = []
                }
                let response = RawResponse(bytes)
                polls.lock.withLock {
                    if response.status == 200 || (response.status == 503 && response.header("Retry-After") == "0") {
                        polls.answered += 1
                    } else {
                        polls.unanswered.append(bytes.isEmpty ? "an empty reply" : "status \(response.status)")
                    }
                }
            }
          }
        }
        for _ in 0..<40 {
            let client = try RawClient(port: server.port)
            try client.send("GET /trap HTTP/1.1\r\nHost: t\r\n\r\n")
            XCTAssertEqual(RawResponse(client.readUntilClose().bytes).status, 500)
        }
        polls.lock.withLock { polls.stop = true }
        XCTAssertEqual(poller.wait(timeout: .now() + 30), .success)
        polls.lock.withLock {
            XCTAssertGreaterThan(polls.answered, 30, "the poller ran beside the storm")
            XCTAssertEqual(polls.unanswered, [], "innocent requests beside 40 traps")
        }
    }

    func testTextThatLooksLikeACrashReportDoesNotRestartTheWorker() throws {
        // Written to the worker's real stderr, as a plugin's own logging would be.
        let application = try ScratchApplication("liar", source: """
            import sys
            def application(environ, start_response):
                sys.__stderr__.write("*** Program crashed: Bad pointer dereference at 0x0000000000000000 ***\\n")
                sys.__stderr__.flush()
                start_response("200 OK", [("Content-Type", "text/plain")])
                return [b"fine"]

            """)
        defer { application.remove() }
        let server = try PythonSupport.serve(application.path, python: "python3")
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
