import DevServer
import Foundation
import XCTest

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
