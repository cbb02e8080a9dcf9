import DevServer
import Foundation
import XCTest

/// Issue 13: the first request to a new worker was sometimes recorded as client-gone although
/// the client had its whole response (3 of 8 starts): curl closed before the application
/// thread's flush woke up. `ChannelTransportTests` drives that order; this checks the whole
/// path on several fresh workers.
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
