import DevServer
import Foundation
import XCTest

/// Issue 12, section 2: a slow client never holds an application thread.
final class SlowClientTests: XCTestCase {
    func testAConnectionThatSendsNothingIsClosedAtTheHeaderTimeoutNotTheIdleTimeout() throws {
        let server = try DevServeProcess(plugin: "hello", arguments: ["--header-timeout", "1"])
        let silent = try RawClient(port: server.port)
        let started = Date()
        let (bytes, closed) = silent.readUntilClose(timeout: 8)
        XCTAssertTrue(closed, "closed well before the 75 s idle timeout")
        XCTAssertLessThan(Date().timeIntervalSince(started), 6)
        XCTAssertEqual(bytes, [], "nothing was asked, so nothing is answered")
    }

    func testASlowUploadWaitsOnTheEventLoopNotInAnApplicationThread() throws {
        // One application thread: were the upload read by the application, every other request
        // would wait for it.
        let server = try DevServeProcess(plugin: "echo", arguments: ["--threads", "1"])
        let uploader = try RawClient(port: server.port)
        try uploader.send("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Type: text/plain\r\nContent-Length: 20\r\n\r\n0123456789")
        Thread.sleep(forTimeInterval: 0.2)
        let started = Date()
        let other = try RawClient(port: server.port)
        try other.send("GET /other HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(other.readResponse(timeout: 5).status, 200)
        XCTAssertLessThan(Date().timeIntervalSince(started), 2, "served while the upload is still arriving")
        try uploader.send("abcdefghij")
        let echoed = uploader.readResponse(timeout: 5)
        XCTAssertEqual(echoed.status, 200)
        XCTAssertTrue(echoed.bodyText.contains(Data("0123456789abcdefghij".utf8).base64EncodedString()), echoed.bodyText)
    }

    func testABodyThatStopsArrivingBeforeTheApplicationRunsIsAnswered408() throws {
        let server = try DevServeProcess(plugin: "echo", arguments: ["--body-timeout", "1"])
        let client = try RawClient(port: server.port)
        try client.send("POST /stalled HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n0123456789")
        let (bytes, closed) = client.readUntilClose(timeout: 8)
        XCTAssertEqual(RawResponse(bytes).status, 408)
        XCTAssertTrue(closed)
        XCTAssertFalse(server.log.contains("/stalled HTTP/1.1\" 200"), server.log)
    }

    func testABodyThatStopsArrivingWhileTheApplicationReadsFailsItsReadWith408() throws {
        // Larger than --buffer-body: it streams to the application, whose read then times out.
        let server = try DevServeProcess(plugin: "echo", arguments: ["--body-timeout", "1", "--buffer-body", "16"])
        let client = try RawClient(port: server.port)
        try client.send("POST /streaming HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n" + String(repeating: "x", count: 40))
        let (bytes, closed) = client.readUntilClose(timeout: 8)
        XCTAssertEqual(RawResponse(bytes).status, 408, String(decoding: bytes, as: UTF8.self))
        XCTAssertTrue(closed)
        XCTAssertTrue(server.waitForLog("\"POST /streaming HTTP/1.1\" 408"), server.log)
    }

    func testExpectContinueStillStreamsAndGets100OnlyWhenTheApplicationReads() throws {
        let server = try DevServeProcess(plugin: "echo")
        let client = try RawClient(port: server.port)
        try client.send("POST /continue HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        let interim = client.read(until: { $0.text.contains("100 Continue") }, timeout: 5)
        XCTAssertTrue(interim.text.hasPrefix("HTTP/1.1 100 Continue"), interim.text)
        try client.send("hello")
        XCTAssertEqual(client.readResponse(timeout: 5).status, 200)
    }
}
