@testable import DevServer
import XCTest

/// Requests rebuilt from captures, parsed from edits, and written as curl commands.
final class RawRequestTests: XCTestCase {
    private func record(method: String = "POST", target: String = "/items?x=1", headers: [HeaderField], body: String) -> RequestRecord {
        let recorder = Recorder()
        recorder.apply(.requestStarted(RequestStart(
            id: "1.1", generation: 1, client: "127.0.0.1:5", time: 0, method: method, target: target, version: "HTTP/1.1",
            headers: headers, environ: CompactEnviron([]))))
        if !body.isEmpty { recorder.apply(.requestBody(id: "1.1", bytes: Array(body.utf8))) }
        return recorder.record(1)!
    }

    func testACapturedRequestIsSentAsTheSameBytesWithNothingAdded() throws {
        let headers = [HeaderField("Host", "t"), HeaderField("X-Trace", "a b"), HeaderField("Content-Length", "5")]
        let raw = try RawRequest(record: record(headers: headers, body: "hello"))
        XCTAssertEqual(String(decoding: raw.bytes, as: UTF8.self), "POST /items?x=1 HTTP/1.1\r\nHost: t\r\nX-Trace: a b\r\nContent-Length: 5\r\n\r\nhello")
    }

    func testAChunkedRequestIsSentChunkedAgain() throws {
        let raw = try RawRequest(record: record(headers: [HeaderField("Host", "t"), HeaderField("Transfer-Encoding", "chunked")], body: "hello"))
        XCTAssertEqual(String(decoding: raw.bytes, as: UTF8.self), "POST /items?x=1 HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
    }

    func testABodyNotKeptInFullCannotBeReplayed() {
        var captured = record(headers: [HeaderField("Host", "t")], body: "hello")
        captured.requestBodySize = 10
        XCTAssertThrowsError(try RawRequest(record: captured)) { error in
            XCTAssertTrue("\(error)".contains("not kept in full"), "\(error)")
        }
    }

    func testAnEditedRequestIsParsedAndItsContentLengthFollowsTheBody() throws {
        let text = "PUT /items/7 HTTP/1.1\nHost: t\nContent-Length: 5\nContent-Type: text/plain\n\nhello, edited\n"
        let (request, adjusted) = try RawRequest.parse(editedText: Array(text.utf8))
        XCTAssertEqual(request.method, "PUT")
        XCTAssertEqual(request.target, "/items/7")
        XCTAssertEqual(request.headers, [HeaderField("Host", "t"), HeaderField("Content-Length", "13"), HeaderField("Content-Type", "text/plain")])
        XCTAssertEqual(String(decoding: request.body, as: UTF8.self), "hello, edited", "the editor's final newline is not part of the body")
        XCTAssertTrue(adjusted)
    }

    func testTheEditableTextParsesBackToTheSameRequest() throws {
        let original = try RawRequest(record: record(headers: [HeaderField("Host", "t"), HeaderField("Content-Length", "5")], body: "hello"))
        let (parsed, adjusted) = try RawRequest.parse(editedText: Array(original.editableText.utf8))
        XCTAssertEqual(parsed, original)
        XCTAssertFalse(adjusted)
    }

    func testAMalformedEditSaysWhatIsWrong() {
        XCTAssertThrowsError(try RawRequest.parse(editedText: Array("".utf8))) { XCTAssertEqual("\($0)", "the request is empty") }
        XCTAssertThrowsError(try RawRequest.parse(editedText: Array("GET /\n".utf8))) { XCTAssertTrue("\($0)".hasPrefix("line 1 must be METHOD TARGET HTTP/1.1")) }
        XCTAssertThrowsError(try RawRequest.parse(editedText: Array("GET / HTTP/1.1\nHost t\n\n".utf8))) {
            XCTAssertTrue("\($0)".hasPrefix("line 2 is not a header"), "\($0)")
        }
    }

    func testTheCurlCommandQuotesForTheShell() throws {
        let raw = try RawRequest(record: record(headers: [HeaderField("Host", "t"), HeaderField("X-Quote", "it's"), HeaderField("Content-Length", "5")], body: "a='b'"))
        XCTAssertEqual(raw.curl(base: "http://127.0.0.1:8000/"),
                       #"curl -i --http1.1 -X POST -H 'Host: t' -H 'X-Quote: it'\''s' --data-binary 'a='\''b'\''' 'http://127.0.0.1:8000/items?x=1'"#)
    }
}
