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
