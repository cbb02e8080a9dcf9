import DevServer
import XCTest

/// docs/GATEWAY.md, "Errors".
final class ErrorHandlingTests: XCTestCase {
    func testAnErrorBeforeAnythingWasSentBecomesA500AndIsLogged() throws {
        for (plugin, path, message) in [("errors", "/throw-before", "failed before start_response"), ("fixture-conformance", "/raise", "raised in call()")] {
            let served = try serve("GET \(path) HTTP/1.1\r\nHost: a\r\n\r\n", plugin: plugin)
            XCTAssertEqual(served.response.status, 500, path)
            XCTAssertEqual(served.response.header("Content-Length"), String(served.response.body.count), "the 500 page is framed")
            XCTAssertTrue(served.response.bodyText.contains(message), served.response.bodyText)
            XCTAssertTrue(served.observer.errorsText.contains(message), "logged to wsgi.errors")
            XCTAssertEqual(served.outcome, .applicationError)
            XCTAssertEqual(served.transport.ending, .keepAlive, "a complete 500 leaves the connection usable")
        }
    }

    func testAnErrorAfterHeadersWereSentAbortsTheResponse() throws {
        let served = try serve("GET /throw-after HTTP/1.1\r\nHost: a\r\n\r\n", plugin: "errors")
        XCTAssertEqual(served.response.status, 200)
        XCTAssertEqual(served.response.bodyText, "first chunk\n")
        XCTAssertFalse(served.response.chunkedComplete, "no last-chunk: the client sees a truncated response")
        XCTAssertEqual(served.transport.ending, .abort)
        XCTAssertEqual(served.outcome, .aborted)
        XCTAssertTrue(served.observer.errorsText.contains("failed after the first chunk"))
    }

    func testExpectContinueSends100WhenTheApplicationFirstReadsInput() throws {
        let raw = "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\nhello"
        let served = try serve(raw, plugin: "echo")
        XCTAssertTrue(served.transport.writes[0].text == "HTTP/1.1 100 Continue\r\n\r\n")
        XCTAssertEqual(served.response.interim, ["HTTP/1.1 100 Continue"])
        XCTAssertEqual(served.response.status, 200)
    }

    func testExpectContinueIsNotSentWhenTheApplicationAnswersWithoutReading() throws {
        let raw = "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"
        let served = try serve(raw, plugin: "hello")
        XCTAssertEqual(served.response.interim, [])
        XCTAssertEqual(served.bodySource.reads, 0)
    }

    func testExpectContinueIsNeverSentAfterAFinalStatus() throws {
        let raw = "POST /read-after-headers HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\nhello"
        let served = try serve(raw, plugin: "fixture-conformance")
        XCTAssertFalse(served.transport.text.contains("100 Continue"))
        XCTAssertEqual(served.response.bodyText, "sent first\nread 5 bytes\n")
    }
}
