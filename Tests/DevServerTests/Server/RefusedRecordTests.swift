import DevServer
import Foundation
import XCTest

/// Issue 13: requests devserve refuses are recorded, so a client's 400 can be looked into.
final class RefusedRecordTests: XCTestCase {
    func testARefusedRequestIsRecordedWithWhatArrivedWhatWasSentAndWhy() throws {
        let server = try DevServeProcess(plugin: "hello")
        let client = try RawClient(port: server.port)
        try client.send("GET / HTTP/1.1\r\n\r\n")
        let response = RawResponse(client.readUntilClose().bytes)
        XCTAssertEqual(response.status, 400)
        let garbage = try RawClient(port: server.port)
        try garbage.send("\u{16}\u{03}\u{01} not http\r\n\r\n")
        _ = garbage.readUntilClose()
        Thread.sleep(forTimeInterval: 0.3)
        let refused = try devserveJSON([RecordJSON.Summary].self, ["ls", "-f", "~refused"], port: server.port)
        XCTAssertEqual(refused.count, 2, "\(refused)")
        XCTAssertEqual(refused.map(\.status), [400, 400])
        guard refused.count == 2 else { return }
        let first = try devserveJSON(RecordJSON.Full.self, ["show", String(refused[0].id)], port: server.port)
        XCTAssertEqual(first.summary.target, "/")
        XCTAssertEqual(first.outcomeDetail, "an HTTP/1.1 request must have a Host header")
        XCTAssertTrue(first.sentHead?.hasPrefix("HTTP/1.1 400 Bad Request") == true, String(describing: first.sentHead))
        XCTAssertEqual(first.responseBody.text, response.bodyText, "the record shows the body as sent")
        let second = try devserveJSON(RecordJSON.Full.self, ["show", String(refused[1].id)], port: server.port)
        XCTAssertTrue(second.requestBody.text?.contains("not http") == true, "the bytes that arrived: \(second.requestBody)")
        XCTAssertTrue(server.log.contains("\"GET / HTTP/1.1\" 400 \(response.body.count) B"), "the access log counts what went on the wire: \(server.log)")
    }
}

/// Issue 13: the log and the record say what went on the wire.
final class WireRecordTests: XCTestCase {
    func testTheAccessLogCountsTheBytesSentNotTheBytesProduced() throws {
        let server = try DevServeProcess(plugin: "hello")
        let client = try RawClient(port: server.port)
        try client.send("HEAD / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        _ = client.readUntilClose()
        XCTAssertTrue(server.waitForLog("\"HEAD / HTTP/1.1\" 200 0 B"), "a HEAD sends no body: \(server.log)")
    }

    func testAServerErrorPageIsRecordedAndLoggedAsSent() throws {
        let server = try DevServeProcess(plugin: "errors")
        let client = try RawClient(port: server.port)
        try client.send("GET /throw-before HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        let response = RawResponse(client.readUntilClose().bytes)
        XCTAssertEqual(response.status, 500)
        XCTAssertTrue(server.waitForLog("\"GET /throw-before HTTP/1.1\" 500 \(response.body.count) B"), server.log)
        Thread.sleep(forTimeInterval: 0.2)
        let record = try devserveJSON(RecordJSON.Full.self, ["show", "1"], port: server.port)
        XCTAssertTrue(record.sentHead?.hasPrefix("HTTP/1.1 500 Internal Server Error") == true)
        XCTAssertEqual(record.responseBody.bytes, response.body, "the record shows the page as sent")
        XCTAssertEqual(record.summary.size, response.body.count)
    }
}

/// Issue 13: the first request to a new worker was sometimes recorded as client-gone although
/// the client had its whole response (3 of 8 starts). Its body is now read before the
/// application runs; this checks several fresh workers.
final class FirstRequestTests: XCTestCase {
    func testTheFirstRequestToAFreshWorkerIsRecordedAsComplete() throws {
        for _ in 0..<5 {
            let server = try DevServeProcess(plugin: "echo")
            let client = try RawClient(port: server.port)
            try client.send("POST /first HTTP/1.1\r\nHost: t\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello")
            XCTAssertEqual(RawResponse(client.readUntilClose().bytes).status, 200)
            XCTAssertTrue(server.waitForLog("\"POST /first HTTP/1.1\" 200"), server.log)
            let record = try PythonSupport.record(server.port, target: "/first")
            XCTAssertEqual(record.summary.outcome, "complete", server.log)
            server.stop()
        }
    }
}
