import Foundation
import XCTest

/// Issue 3, section 4: bad input gets the right 4xx or 5xx and a closed connection, and
/// nothing after the bad bytes is served as a request (no smuggling).
final class BadInputTests: XCTestCase {
    nonisolated(unsafe) private static var server: DevServeProcess!

    override class func setUp() {
        server = try! DevServeProcess(plugin: "echo", arguments: ["--max-request-body", "1000"])
    }

    override class func tearDown() { server.stop() }

    /// Sends `raw` followed by a request that must never be answered, and checks the status
    /// and that the connection closed after one response.
    private func assertRefused(_ raw: String, status: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        let smuggled = "GET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n"
        let client = try RawClient(port: Self.server.port)
        try client.send(raw + smuggled)
        let (bytes, closed) = client.readUntilClose()
        let response = RawResponse(bytes)
        XCTAssertEqual(response.status, status, "response: \(bytes.text)", file: file, line: line)
        XCTAssertTrue(closed, "the connection must close after a refusal", file: file, line: line)
        XCTAssertEqual(bytes.text.components(separatedBy: "\r\nServer: devserve").count, 2, "exactly one response: \(bytes.text)", file: file, line: line)
        XCTAssertFalse(bytes.text.contains("smuggled"), file: file, line: line)
    }

    func testARequestLineOver8000OctetsIs414() throws {
        try assertRefused("GET /\(String(repeating: "a", count: 8100)) HTTP/1.1\r\nHost: t\r\n\r\n", status: 414)
    }

    func testARequestLineOf8000OctetsIsAccepted() throws {
        let target = "/" + String(repeating: "a", count: 8000 - "GET  HTTP/1.1".count - 1)
        let client = try RawClient(port: Self.server.port)
        try client.send("GET \(target) HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(client.readResponse().status, 200)
    }

    func testAHeaderFieldTooLargeIs431() throws {
        try assertRefused("GET / HTTP/1.1\r\nHost: t\r\nX-Big: \(String(repeating: "b", count: 9000))\r\n\r\n", status: 431)
    }

    func testTooManyHeadersIs431() throws {
        let headers = (0..<120).map { "X-H\($0): v\r\n" }.joined()
        try assertRefused("GET / HTTP/1.1\r\nHost: t\r\n\(headers)\r\n", status: 431)
    }

    func testAHeaderBlockTooLargeIs431() throws {
        let headers = (0..<90).map { "X-H\($0): \(String(repeating: "v", count: 800))\r\n" }.joined()
        try assertRefused("GET / HTTP/1.1\r\nHost: t\r\n\(headers)\r\n", status: 431)
    }

    func testABodyOverTheLimitIs413ByContentLength() throws {
        try assertRefused("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1001\r\n\r\n\(String(repeating: "x", count: 1001))", status: 413)
    }

    func testAChunkedBodyOverTheLimitIs413() throws {
        let client = try RawClient(port: Self.server.port)
        try client.send("POST /slow HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
        for _ in 0..<3 { try client.send("200\r\n" + String(repeating: "y", count: 512) + "\r\n") }
        try client.send("0\r\n\r\n")
        let (bytes, closed) = client.readUntilClose()
        XCTAssertEqual(RawResponse(bytes).status, 413, bytes.text)
        XCTAssertTrue(closed)
    }

    func testContentLengthWithTransferEncodingIs400() throws {
        try assertRefused("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", status: 400)
    }

    func testDifferingDuplicateContentLengthsAre400() throws {
        try assertRefused("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", status: 400)
    }

    func testATransferCodingOtherThanChunkedIs501() throws {
        try assertRefused("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", status: 501)
    }

    func testATransferEncodingThatDoesNotEndInChunkedIs400() throws {
        try assertRefused("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\nabc", status: 400)
    }

    func testTransferEncodingInAnHTTP10RequestIs400() throws {
        try assertRefused("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", status: 400)
    }

    func testARequestLineEndingInABareLFIs400Not505() throws {
        try assertRefused("GET / HTTP/1.1\nHost: t\r\n\r\n", status: 400)
    }

    func testAnHTTP09RequestIsAnswered400AtOnce() throws {
        let client = try RawClient(port: Self.server.port)
        let started = Date()
        try client.send("GET /\r\n")
        let (bytes, closed) = client.readUntilClose(timeout: 5)
        XCTAssertEqual(RawResponse(bytes).status, 400, bytes.text)
        XCTAssertTrue(closed)
        XCTAssertLessThan(Date().timeIntervalSince(started), 3, "not after the 10 s header timeout")
    }

    func testCONNECTIsAnsweredByTheServerNotTheApplication() throws {
        try assertRefused("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", status: 501)
    }

    func testAnInvalidChunkSizeIs400EvenWhileTheApplicationReadsTheBody() throws {
        try assertRefused("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", status: 400)
    }

    func testObsFoldIs400() throws {
        try assertRefused("GET / HTTP/1.1\r\nHost: t\r\nX-Folded: a\r\n  b\r\n\r\n", status: 400)
    }

    func testNULInAHeaderIs400() throws {
        try assertRefused("GET / HTTP/1.1\r\nHost: t\r\nX-Nul: a\u{0}b\r\n\r\n", status: 400)
    }

    func testABareCRInAHeaderIs400() throws {
        try assertRefused("GET / HTTP/1.1\r\nHost: t\r\nX-CR: a\rb\r\n\r\n", status: 400)
    }

    func testAnUnsupportedHTTPVersionIs505() throws {
        try assertRefused("GET / HTTP/2.0\r\nHost: t\r\n\r\n", status: 505)
    }

    func testAMissingHostOnHTTP11Is400() throws {
        try assertRefused("GET / HTTP/1.1\r\n\r\n", status: 400)
    }

    func testARepeatedHostIs400() throws {
        try assertRefused("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", status: 400)
    }

    func testATargetThatIsNeitherAPathNorAnAbsoluteURIIs400() throws {
        try assertRefused("GET foo HTTP/1.1\r\nHost: t\r\n\r\n", status: 400)
        try assertRefused("GET ?x=1 HTTP/1.1\r\nHost: t\r\n\r\n", status: 400)
        try assertRefused("GET :x HTTP/1.1\r\nHost: t\r\n\r\n", status: 400)
        try assertRefused("GET urn:x HTTP/1.1\r\nHost: t\r\n\r\n", status: 400)
    }

    func testTheAsteriskTargetIsRefusedForAnythingButOptions() throws {
        try assertRefused("GET * HTTP/1.1\r\nHost: t\r\n\r\n", status: 400)
        let client = try RawClient(port: Self.server.port)
        try client.send("OPTIONS * HTTP/1.1\r\nHost: t\r\n\r\nGET /after HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(client.readResponse().status, 200, "OPTIONS * is a request-target (RFC 9112 section 3.2.4): the application answers")
        XCTAssertEqual(client.readResponse().status, 200, "and the connection goes on")
    }

    func testAnAbsoluteFormTargetIsServed() throws {
        let client = try RawClient(port: Self.server.port)
        try client.send("GET http://t/x?y=1 HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(client.readResponse().status, 200)
    }

    func testGarbageIs400() throws {
        try assertRefused("\u{16}\u{03}\u{01}\u{02}\u{00}\u{01}\u{00}\u{01}\u{fc}\u{03}\u{03}hello\r\n\r\n", status: 400)
    }

    func testAGoodRequestBeforeABadOneIsStillAnswered() throws {
        let client = try RawClient(port: Self.server.port)
        try client.send("GET /first HTTP/1.1\r\nHost: t\r\n\r\nGET / HTTP/9.9\r\nHost: t\r\n\r\n")
        let (bytes, closed) = client.readUntilClose()
        XCTAssertTrue(bytes.text.hasPrefix("HTTP/1.1 200 OK"), bytes.text)
        XCTAssertTrue(bytes.text.contains("HTTP/1.1 505"), bytes.text)
        XCTAssertTrue(closed)
    }
}

/// Timeouts and clients that leave: each needs its own server settings.
final class ConnectionLifetimeTests: XCTestCase {
    func testAClientTricklingItsHeadersIsCutOffWhileOthersAreServed() throws {
        let server = try DevServeProcess(plugin: "hello", arguments: ["--header-timeout", "0.5"])
        let slow = try RawClient(port: server.port)
        try slow.send("GET / HTTP/1.1\r\nHost: t\r\n")
        let other = try RawClient(port: server.port)
        try other.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(other.readResponse().status, 200, "others are served meanwhile")
        let (bytes, closed) = slow.readUntilClose(timeout: 5)
        XCTAssertEqual(RawResponse(bytes).status, 408)
        XCTAssertTrue(closed)
    }

    func testAHeadArrivingBehindAPipelinedRequestIsTimedToo() throws {
        let server = try DevServeProcess(plugin: "hello", arguments: ["--header-timeout", "0.5"])
        let client = try RawClient(port: server.port)
        // One whole request and, in the same write, the start of a second that never ends.
        try client.send("GET / HTTP/1.1\r\nHost: t\r\n\r\nGET /second HTTP/1.1\r\nHost: t\r\n")
        let started = Date()
        let (bytes, closed) = client.readUntilClose(timeout: 5)
        XCTAssertTrue(bytes.text.hasPrefix("HTTP/1.1 200 OK"), bytes.text)
        XCTAssertTrue(bytes.text.contains("HTTP/1.1 408"), "the trickled second head is cut off: \(bytes.text)")
        XCTAssertTrue(closed)
        XCTAssertLessThan(Date().timeIntervalSince(started), 4, "by the header timeout, not the 75 s idle timeout")
    }

    func testAnIdleKeepAliveConnectionIsClosed() throws {
        let server = try DevServeProcess(plugin: "hello", arguments: ["--idle-timeout", "0.5"])
        let client = try RawClient(port: server.port)
        try client.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(client.readResponse().status, 200)
        let (rest, closed) = client.readUntilClose(timeout: 5)
        XCTAssertTrue(closed, "closed after the idle timeout")
        XCTAssertEqual(rest, [])
    }

    func testAClientLeavingMidBodyOrMidResponseHurtsNothing() throws {
        let server = try DevServeProcess(plugin: "echo")
        let uploading = try RawClient(port: server.port)
        try uploading.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\nonly a little")
        uploading.shutdownWrite()
        _ = uploading.readUntilClose(timeout: 2)
        let stream = try DevServeProcess(plugin: "stream")
        let reading = try RawClient(port: stream.port)
        try reading.send("GET /?n=200&size=1000&delay_ms=5 HTTP/1.1\r\nHost: t\r\n\r\n")
        _ = reading.read(until: { $0.count > 5000 })
        close(reading.descriptor)
        XCTAssertTrue(stream.waitForLog("(client-gone)"), stream.log)
        for server in [server, stream] {
            let client = try RawClient(port: server.port)
            try client.send("GET /?n=1 HTTP/1.1\r\nHost: t\r\n\r\n")
            XCTAssertEqual(client.readResponse().status, 200, "the worker still serves")
            XCTAssertFalse(server.log.contains("crashed"), server.log)
        }
    }
}
