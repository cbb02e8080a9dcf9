@testable import DevServer
import XCTest

/// How replay reads a response: by Content-Length, chunked, or until the server closes.
final class ResponseParserTests: XCTestCase {
    private func parse(_ parts: [String], isHead: Bool = false, close: Bool = false) throws -> ResponseParser.Parsed? {
        var parser = ResponseParser(isHead: isHead)
        for part in parts {
            parser.feed(ArraySlice(Array(part.utf8)))
        }
        return close ? try parser.finish() : try parser.response()
    }

    func testAContentLengthBodyIsCompleteOnlyWhenAllOfItArrived() throws {
        XCTAssertNil(try parse(["HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel"]))
        let response = try XCTUnwrap(try parse(["HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel", "lo"]))
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.reason, "OK")
        XCTAssertEqual(String(decoding: response.body, as: UTF8.self), "hello")
    }

    func testAChunkedBodyIsDecodedOnceTheLastChunkArrives() throws {
        let head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        XCTAssertNil(try parse([head + "3\r\nabc\r\n"]))
        let response = try XCTUnwrap(try parse([head + "3\r\nabc\r\n", "2;ext=1\r\nde\r\n0\r\n\r\n"]))
        XCTAssertEqual(String(decoding: response.body, as: UTF8.self), "abcde")
    }

    func testInterimResponsesAreSkippedAndHEADHasNoBody() throws {
        let response = try XCTUnwrap(try parse(["HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"]))
        XCTAssertEqual(response.status, 201)
        let head = try XCTUnwrap(try parse(["HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n"], isHead: true))
        XCTAssertEqual(head.body, [])
    }

    func testABodyWithoutLengthEndsWithTheConnection() throws {
        XCTAssertNil(try parse(["HTTP/1.0 200 OK\r\n\r\npartial"]))
        XCTAssertEqual(try parse(["HTTP/1.0 200 OK\r\n\r\nall of it"], close: true).map { String(decoding: $0.body, as: UTF8.self) }, "all of it")
    }

    func testGarbageIsAClearError() {
        XCTAssertThrowsError(try parse(["SSH-2.0-OpenSSH\r\n\r\n"])) { XCTAssertTrue("\($0)".hasPrefix("not an HTTP response")) }
        XCTAssertThrowsError(try parse(["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n"])) { XCTAssertTrue("\($0)".hasPrefix("bad chunk size")) }
    }
}
