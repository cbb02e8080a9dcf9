import DevServer
import Foundation
import XCTest

/// Issue 12, section 3: a stuck request or a stuck worker is noticed and, when asked, ended.
final class StuckWorkerTests: XCTestCase {
    private var application: ScratchApplication!

    override func setUpWithError() throws {
        application = try ScratchApplication("loop", source: """
            def application(environ, start_response):
                if environ["PATH_INFO"] == "/loop":
                    while True:
                        pass
                start_response("200 OK", [("Content-Type", "text/plain")])
                return [b"fine"]

            """)
    }

    override func tearDown() { application.remove() }

    func testARequestPastTheRequestTimeoutGetsItsWorkerReplacedAndItsClientA504() throws {
        let server = try PythonSupport.serve(application.path, python: "python3", arguments: ["--request-timeout", "1", "--shutdown-grace", "1"])
        let client = try RawClient(port: server.port)
        try client.send("GET /loop HTTP/1.1\r\nHost: t\r\n\r\n")
        let (bytes, closed) = client.readUntilClose(timeout: 10)
        XCTAssertEqual(RawResponse(bytes).status, 504, bytes.text)
        XCTAssertTrue(closed)
        XCTAssertTrue(server.log.contains("ran past --request-timeout 1 s: replacing worker gen 1"), server.log)
        XCTAssertEqual(try PythonSupport.request(server.port, "/").bodyText, "fine", "the new worker serves")
        XCTAssertTrue(server.waitForLog("worker gen 1 pid"), server.log)
        let record = try PythonSupport.record(server.port, target: "/loop")
        XCTAssertEqual(record.summary.outcome, "aborted")
        XCTAssertTrue(record.summary.timedOut)
        XCTAssertTrue(record.outcomeDetail?.contains("ran past --request-timeout") == true, String(describing: record.outcomeDetail))
    }

    func testAStoppedWorkerIsReportedAsNotAnsweringAndRestartReplacesIt() throws {
        let server = try DevServeProcess(plugin: "hello", arguments: ["--shutdown-grace", "1"])
        let worker = try XCTUnwrap(server.workerPIDs.first)
        kill(worker, SIGSTOP)
        defer { kill(worker, SIGKILL) }
        XCTAssertTrue(server.waitForLog("has not answered for", timeout: 8), server.log)
        let (_, listing) = try runDevServe(["ls", "--port", String(server.port)])
        XCTAssertTrue(listing.contains("NOT ANSWERING"), listing)
        let (status, output) = try runDevServe(["restart", "--port", String(server.port)])
        XCTAssertEqual(status, 0, output)
        XCTAssertTrue(server.waitForLog("reloaded: generation 2 serves", timeout: 8), server.log)
        let client = try RawClient(port: server.port)
        try client.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(client.readResponse(timeout: 5).status, 200)
        XCTAssertTrue(server.waitForLog("did not finish within --shutdown-grace: killed", timeout: 8), server.log)
    }
}
