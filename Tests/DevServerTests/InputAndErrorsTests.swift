import DevServer
import Foundation
import XCTest

/// docs/GATEWAY.md, "environ": wsgi.input, wsgi.errors and wsgi.file_wrapper.
final class InputAndErrorsTests: XCTestCase {
    func testInputReadReturnsTheWholeBodyByteForByte() throws {
        let body = (0..<5000).map { UInt8(truncatingIfNeeded: $0 * 7) }
        let raw = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \(body.count)\r\n\r\n" + String(decoding: [], as: UTF8.self)
        let (head, _) = try parseRequest(Array(raw.utf8))
        let transport = MemoryTransport()
        GatewayExchange.serve(.init(head: head, body: BufferedBodySource(body)), plugin: try Plugins.load("echo"), transport: transport)
        let json = try JSONSerialization.jsonObject(with: Data(RawResponse(transport.bytes).body)) as! [String: Any]
        XCTAssertEqual(json["body_length"] as? Int, body.count)
        XCTAssertEqual(Data(base64Encoded: json["body"] as! String), Data(body))
    }

    func testReadingPastContentLengthReturnsEndOfStreamAndNeverAsksTheClientForMore() throws {
        // The source holds more than CONTENT_LENGTH: those bytes belong to the next request.
        let source = StrictBodySource(Array("abcEXTRA".utf8), allowed: 3)
        let (head, _) = try parseRequest(Array("POST /lines HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n".utf8))
        let transport = MemoryTransport()
        GatewayExchange.serve(.init(head: head, body: source), plugin: try Plugins.load("fixture-conformance"), transport: transport)
        XCTAssertEqual(RawResponse(transport.bytes).bodyText, "read3=[abc] line=[] limited=[] after-end=0\n")
        XCTAssertFalse(source.overread, "wsgi.input read past CONTENT_LENGTH")
    }

    func testReadlineReadlinesAndReadHonourTheirLimits() throws {
        let body = "abcdef\nghijkl\nline three\nlast"
        let served = try serve("POST /lines HTTP/1.1\r\nHost: a\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)", plugin: "fixture-conformance")
        XCTAssertEqual(served.response.bodyText, "read3=[abc] line=[def] limited=[ghij] readlines=[kl] readlines=[line three] readlines=[last] after-end=0\n")
    }

    func testAChunkedRequestBodyIsDechunkedAndEndsAtItsLastChunk() throws {
        let raw = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
        let served = try serve(raw, plugin: "echo")
        let json = try JSONSerialization.jsonObject(with: Data(served.response.body)) as! [String: Any]
        XCTAssertEqual(Data(base64Encoded: json["body"] as! String).map { String(decoding: $0, as: UTF8.self) }, "hello world")
        XCTAssertEqual(served.observer.environ["wsgi.input_terminated"]?.text, "true")
        XCTAssertNil(served.observer.environ["CONTENT_LENGTH"])
    }

    func testWsgiErrorsTextReachesTheServerAsWritten() throws {
        let served = try serve("GET /log HTTP/1.1\r\nHost: a\r\n\r\n", plugin: "errors")
        XCTAssertEqual(served.response.status, 200)
        XCTAssertEqual(served.observer.errorsText, "a line for wsgi.errors\n")
    }

    func testTheFileWrapperSendsTheFileWithItsLength() throws {
        let path = NSTemporaryDirectory() + "devserve-file-\(getpid()).bin"
        let content = (0..<200_000).map { UInt8(truncatingIfNeeded: $0) }
        _ = FileManager.default.createFile(atPath: path, contents: Data(content))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let served = try serve("GET /?path=\(path)&block=65536 HTTP/1.1\r\nHost: a\r\n\r\n", plugin: "files")
        XCTAssertEqual(served.response.status, 200)
        XCTAssertEqual(served.response.header("Content-Length"), "200000")
        XCTAssertEqual(served.response.body, content)
        XCTAssertEqual(served.observer.chunks.count, 4, "64 KiB blocks")
    }

    func testAFileBodyGoesToATransportThatCanSendFilesWithoutPassingThroughSwift() throws {
        let path = NSTemporaryDirectory() + "devserve-sendfile-\(getpid()).bin"
        let content = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        _ = FileManager.default.createFile(atPath: path, contents: Data(content))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (head, _) = try parseRequest(Array("GET /?path=\(path) HTTP/1.1\r\nHost: a\r\n\r\n".utf8))
        let transport = FileMemoryTransport()
        let observer = RecordingObserver()
        var configuration = GatewayExchange.Configuration()
        configuration.filePrefixForObserver = 1000
        GatewayExchange.serve(.init(head: head), plugin: try Plugins.load("files"), transport: transport, observer: observer, configuration: configuration)
        XCTAssertEqual(transport.files.map(\.count), [300_000], "the whole file in one sendfile")
        let response = RawResponse(transport.inner.bytes)
        XCTAssertEqual(response.header("Content-Length"), "300000")
        XCTAssertEqual(response.body, content)
        XCTAssertEqual(transport.inner.ending, .keepAlive)
        let sent = observer.events.compactMap { if case .fileSent(let size, let prefix) = $0 { return (size, prefix.count) } else { return nil } }
        XCTAssertEqual(sent.map(\.0), [300_000])
        XCTAssertEqual(sent.map(\.1), [1000], "capture reads only its prefix")
    }

    func testTheFileWrapperForAMissingFileLetsTheApplicationAnswer() throws {
        let served = try serve("GET /?path=/nonexistent/x HTTP/1.1\r\nHost: a\r\n\r\n", plugin: "files")
        XCTAssertEqual(served.response.status, 404)
        XCTAssertTrue(served.response.bodyText.contains("/nonexistent/x"))
    }
}

/// A body source that records being asked for more than `allowed` bytes.
final class StrictBodySource: RequestBodySource {
    private let bytes: [UInt8]
    private let allowed: Int
    private var offset = 0
    private(set) var overread = false

    init(_ bytes: [UInt8], allowed: Int) {
        self.bytes = bytes
        self.allowed = allowed
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if offset >= allowed { overread = true }
        let count = min(bytes.count - offset, buffer.count)
        bytes.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[offset..<(offset + count)])) }
        offset += count
        return count
    }
}
