import Foundation
import XCTest

/// Issue 3, section 3: the worker serving HTTP/1.1 on a real socket, through the real binary.
final class ServingTests: XCTestCase {
    func testKeepAliveServesSeveralRequestsOnOneConnection() throws {
        let server = try DevServeProcess(plugin: "hello")
        let client = try RawClient(port: server.port)
        for _ in 0..<3 {
            try client.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            let response = client.readResponse()
            XCTAssertEqual(response.status, 200)
            XCTAssertEqual(response.bodyText, "Hello world!\n")
        }
        XCTAssertTrue(client.isSilent(for: 0.2), "the connection stays open, quietly")
    }

    func testPipelinedRequestsAreAnsweredInOrder() throws {
        let server = try DevServeProcess(plugin: "errors")
        let client = try RawClient(port: server.port)
        // The first is slow; the others must still come after it.
        try client.send("GET /slow?ms=300 HTTP/1.1\r\nHost: t\r\n\r\nGET /log HTTP/1.1\r\nHost: t\r\n\r\nGET /nope HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        let (bytes, closed) = client.readUntilClose()
        let text = bytes.text
        XCTAssertTrue(closed)
        let order = ["slept 300 ms", "logged", "404 Not Found"].map { text.range(of: $0)?.lowerBound }
        XCTAssertFalse(order.contains(nil), text)
        XCTAssertTrue(order[0]! < order[1]! && order[1]! < order[2]!, text)
    }

    func testHTTP10GetsAContentLengthOrAClosedConnection() throws {
        let server = try DevServeProcess(plugin: "stream")
        let client = try RawClient(port: server.port)
        try client.send("GET /?n=3&size=4&delay_ms=0 HTTP/1.0\r\n\r\n")
        let (bytes, closed) = client.readUntilClose()
        let response = RawResponse(bytes)
        XCTAssertTrue(closed, "the body of unknown length ends with the connection")
        XCTAssertNil(response.header("Transfer-Encoding"))
        XCTAssertEqual(response.body.count, 12)
        let hello = try DevServeProcess(plugin: "hello")
        let other = try RawClient(port: hello.port)
        try other.send("GET / HTTP/1.0\r\n\r\n")
        let plain = other.readUntilClose()
        XCTAssertEqual(RawResponse(plain.bytes).header("Content-Length"), "13")
        XCTAssertTrue(plain.closed, "HTTP/1.0 without keep-alive closes")
    }

    func testAChunkedRequestBodyReachesTheApplicationDechunked() throws {
        let server = try DevServeProcess(plugin: "echo")
        let client = try RawClient(port: server.port)
        try client.send("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n3\r\nefg\r\n0\r\n\r\n")
        let json = try JSONSerialization.jsonObject(with: Data(client.readResponse().body)) as! [String: Any]
        XCTAssertEqual(json["body"] as? String, Data("abcdefg".utf8).base64EncodedString())
    }

    func testExpectContinueGets100OnlyWhenTheApplicationReads() throws {
        let server = try DevServeProcess(plugin: "echo")
        let client = try RawClient(port: server.port)
        try client.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        let interim = client.read(until: { $0.text.contains("\r\n\r\n") })
        XCTAssertEqual(interim.text, "HTTP/1.1 100 Continue\r\n\r\n")
        try client.send("hello")
        let response = client.readResponse()
        XCTAssertEqual(response.status, 200)
        let hello = try DevServeProcess(plugin: "hello")
        let other = try RawClient(port: hello.port)
        try other.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        let direct = other.readResponse()
        XCTAssertEqual(direct.interim, [], "no 100 when the application never reads")
        XCTAssertEqual(direct.status, 200)
    }

    func testHeadSendsHeadersAndNoBody() throws {
        let server = try DevServeProcess(plugin: "hello")
        let client = try RawClient(port: server.port)
        try client.send("HEAD / HTTP/1.1\r\nHost: t\r\n\r\nGET / HTTP/1.1\r\nHost: t\r\n\r\n")
        let bytes = client.read(until: { $0.text.components(separatedBy: "HTTP/1.1 200").count == 3 && $0.text.hasSuffix("Hello world!\n") })
        let text = bytes.text
        XCTAssertEqual(text.components(separatedBy: "Hello world!").count, 2, "only the GET has a body: \(text)")
    }

    func testEachChunkIsSentAsSoonAsTheApplicationYieldsIt() throws {
        let server = try DevServeProcess(plugin: "stream")
        let client = try RawClient(port: server.port)
        try client.send("GET /?n=2&size=10&delay_ms=1500 HTTP/1.1\r\nHost: t\r\n\r\n")
        let first = client.read(until: { $0.text.contains("chunk 1") }, timeout: 1.2)
        XCTAssertTrue(first.text.contains("chunk 1"), "the first chunk arrived before the second was produced")
        XCTAssertFalse(first.text.contains("chunk 2"))
        let rest = client.read(until: { $0.text.contains("0\r\n\r\n") }, timeout: 5)
        XCTAssertTrue(rest.text.contains("chunk 2"))
    }

    func testAMegabytePostIsEchoedByteForByte() throws {
        let server = try DevServeProcess(plugin: "echo")
        let client = try RawClient(port: server.port)
        let body = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        try client.send(Array("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: \(body.count)\r\n\r\n".utf8) + body)
        let response = client.readResponse(timeout: 20)
        let json = try JSONSerialization.jsonObject(with: Data(response.body)) as! [String: Any]
        XCTAssertEqual(json["body_length"] as? Int, body.count)
        XCTAssertEqual(Data(base64Encoded: json["body"] as! String), Data(body))
    }

    func testASlowClientMakesTheApplicationWaitInsteadOfBuffering() throws {
        let server = try DevServeProcess(plugin: "stream")
        let client = try RawClient(port: server.port)
        // 512 MiB that the client never reads: without backpressure the worker would hold it.
        try client.send("GET /?n=8192&size=65536&delay_ms=0 HTTP/1.1\r\nHost: t\r\n\r\n")
        Thread.sleep(forTimeInterval: 1.5)
        let rss = try XCTUnwrap(residentMegabytes(pid: server.workerPIDs.last!))
        XCTAssertLessThan(rss, 150, "the worker buffered the response (\(rss) MiB resident)")
    }

    /// The connection closes after its last bytes, not when the application is done: most
    /// writes carry no promise (issue 14), so the close waits on one written after them.
    func testAResponseLargerThanTheSocketBuffersArrivesWholeBeforeItsConnectionCloses() throws {
        let server = try DevServeProcess(plugin: "stream")
        let client = try RawClient(port: server.port)
        let chunks = 256, size = 65_536  // 16 MiB
        try client.send("GET /?n=\(chunks)&size=\(size)&delay_ms=0 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        // Read slowly, so that the socket's buffers stay full and the application finishes
        // while the worker still holds the response's last bytes.
        var bytes: [UInt8] = []
        var closed = false
        let deadline = Date().addingTimeInterval(30)
        while !closed && Date() < deadline {
            guard let part = client.readSome(timeout: 1) else { continue }
            closed = part.isEmpty
            bytes += part
            usleep(1000)
        }
        XCTAssertTrue(closed)
        let response = RawResponse(bytes)
        XCTAssertEqual(response.status, 200)
        XCTAssertTrue(response.chunkedComplete, "the connection closed before the response's end")
        XCTAssertEqual(response.body.count, chunks * size)
    }

    func testTheFileWrapperIsServedWithItsLength() throws {
        let path = NSTemporaryDirectory() + "devserve-served-\(getpid()).txt"
        let content = Data((0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        try content.write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let server = try DevServeProcess(plugin: "files")
        let client = try RawClient(port: server.port)
        try client.send("GET /?path=\(path) HTTP/1.1\r\nHost: t\r\n\r\n")
        let response = client.readResponse()
        XCTAssertEqual(response.header("Content-Length"), "100000")
        XCTAssertEqual(Data(response.body), content, "sent with sendfile, byte for byte")
        try client.send("GET /?path=\(path) HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(Data(client.readResponse().body), content, "and the connection is still usable")
    }

    func testRequestsBeyondTheThreadPoolWaitAndAreAllServed() throws {
        let server = try DevServeProcess(plugin: "errors", arguments: ["--threads", "2"])
        let clients = try (0..<6).map { _ in try RawClient(port: server.port) }
        for client in clients { try client.send("GET /slow?ms=200 HTTP/1.1\r\nHost: t\r\n\r\n") }
        for client in clients { XCTAssertEqual(client.readResponse(timeout: 10).bodyText, "slept 200 ms\n") }
    }
}

/// VmRSS of a process in MiB.
func residentMegabytes(pid: Int32) -> Int? {
    guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return nil }
    return Int(line.split(separator: " ").dropFirst().first ?? "").map { $0 / 1024 }
}
