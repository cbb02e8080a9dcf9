import DevServer
import XCTest

/// docs/GATEWAY.md, "start_response(status, headers, exc_info = none) -> write".
final class StartResponseTests: XCTestCase {
    func testTheResponseIsExactlyTheStatusHeadersAndBodyTheApplicationGave() throws {
        let served = try serve("GET / HTTP/1.1\r\nHost: a\r\n\r\n", plugin: "hello")
        XCTAssertEqual(served.transport.text, """
            HTTP/1.1 200 OK\r
            Content-Type: text/plain; charset=utf-8\r
            Content-Length: 13\r
            Date: \(fixedDate)\r
            Server: devserve/\(DevServeVersion.current)\r
            \r
            Hello world!

            """)
        XCTAssertEqual(served.transport.ending, .keepAlive)
    }

    func testTheCPluginAnswersTheSameBytesAsTheSwiftOne() throws {
        let swift = try serve("GET / HTTP/1.1\r\nHost: a\r\n\r\n", plugin: "hello").transport.bytes
        let c = try serve("GET / HTTP/1.1\r\nHost: a\r\n\r\n", plugin: "hello-c").transport.bytes
        XCTAssertEqual(c.text, swift.text)
    }

    func testAMalformedStatusIsRefused() throws {
        let served = try serve("GET /bad-status HTTP/1.1\r\nHost: a\r\n\r\n", plugin: "fixture-conformance")
        XCTAssertEqual(served.observer.violationKinds, [.malformedStatus])
        XCTAssertEqual(served.response.status, 500, "the application raised when start_response refused it")
    }

    func testAHeaderNameThatIsNotATokenIsDroppedAndReported() throws {
        let served = try serve("GET /bad-name HTTP/1.1\r\nHost: a\r\n\r\n", plugin: "fixture-conformance")
        XCTAssertEqual(served.response.status, 200)
        XCTAssertNil(served.response.header("Bad Name"))
        XCTAssertEqual(served.observer.violationKinds, [.invalidHeaderName, .startResponseTwice])
    }

    func testCRLFInAHeaderValueIsRejectedAsHeaderInjection() throws {
        let served = try serve("GET /crlf HTTP/1.1\r\nHost: a\r\n\r\n", plugin: "fixture-conformance")
        XCTAssertEqual(served.observer.violationKinds, [.controlCharacterInHeaderValue])
        XCTAssertNil(served.response.header("Injected"))
        XCTAssertNil(served.response.header("X-Note"))
        XCTAssertEqual(served.response.bodyText, "ok\n")
    }

    func testAHeaderValueOutsideLatin1IsDroppedAndReported() throws {
        let served = try serve("GET /non-latin1 HTTP/1.1\r\nHost: a\r\n\r\n", plugin: "fixture-conformance")
        XCTAssertEqual(served.observer.violationKinds, [.nonLatin1HeaderValue])
        XCTAssertNil(served.response.header("X-Price"))
    }

    func testALatin1HeaderValueIsSentAsOneBytePerCharacter() throws {
        let served = try serve("GET /latin1 HTTP/1.1\r\nHost: a\r\n\r\n", plugin: "fixture-conformance")
        XCTAssertEqual(served.observer.violationKinds, [])
        XCTAssertNotNil(served.transport.bytes.firstRange(of: Array("X-Name: caf".utf8) + [0xE9, 13, 10]))
        let shown = served.observer.events.compactMap { event -> String? in
            guard case .responseStarted(_, let headers, _) = event else { return nil }
            return headers.first { $0.name == "X-Name" }?.value
        }
        XCTAssertEqual(shown, ["café"], "the capture shows the value as the application gave it")
    }

    func testHopByHopHeadersFromTheApplicationAreDroppedAndReported() throws {
        let c = try serve("GET /hop HTTP/1.1\r\nHost: a\r\n\r\n", plugin: "fixture-conformance")
        XCTAssertEqual(c.observer.violationKinds, [.hopByHopHeader])
        XCTAssertNil(c.response.header("Transfer-Encoding"), "the app's Transfer-Encoding must not reach the wire")
        XCTAssertEqual(c.response.bodyText, "ok\n")
        let swift = try serve("GET /hop HTTP/1.1\r\nHost: a\r\n\r\n", plugin: "errors")
        XCTAssertEqual(swift.observer.violationKinds, [.hopByHopHeader])
        XCTAssertNil(swift.response.header("Connection"))
        XCTAssertEqual(swift.transport.ending, .keepAlive, "the server, not the app, owns the connection")
    }

    func testHeadersAreNotSentBeforeTheFirstNonEmptyChunk() throws {
        let served = try serve("GET /empty-first HTTP/1.1\r\nHost: a\r\n\r\n", plugin: "fixture-conformance")
        XCTAssertEqual(served.observer.chunks.map(\.count), [0, 26])
        let first = served.transport.writes[0].text
        XCTAssertTrue(first.hasPrefix("HTTP/1.1 200 OK\r\n"))
        XCTAssertTrue(first.hasSuffix("1a\r\ndata after an empty chunk\n\r\n"), "head and first data went out together: \(first)")
        XCTAssertEqual(served.response.bodyText, "data after an empty chunk\n")
    }

    func testHeadersAreSentWhenTheIterableEndsEmpty() throws {
        let served = try serve("GET /empty HTTP/1.1\r\nHost: a\r\n\r\n", plugin: "fixture-conformance")
        XCTAssertEqual(served.response.status, 200)
        XCTAssertEqual(served.response.header("Content-Length"), "0")
        XCTAssertEqual(served.response.body, [])
        XCTAssertEqual(served.transport.ending, .keepAlive)
    }

    func testASecondStartResponseWithoutExcInfoIsAnError() throws {
        let served = try serve("GET /twice HTTP/1.1\r\nHost: a\r\n\r\n", plugin: "fixture-conformance")
        XCTAssertEqual(served.observer.violationKinds, [.startResponseTwice])
        XCTAssertEqual(served.response.status, 200, "the first status stands")
        XCTAssertEqual(served.response.bodyText, "refused\n")
    }

    func testExcInfoBeforeAnythingWasSentReplacesTheStatusAndHeaders() throws {
        let served = try serve("GET /exc-info HTTP/1.1\r\nHost: a\r\n\r\n", plugin: "errors")
        XCTAssertEqual(served.response.status, 500)
        XCTAssertEqual(served.response.bodyText, "recovered with exc_info\n")
        XCTAssertEqual(served.observer.violationKinds, [])
        XCTAssertTrue(served.observer.errorsText.contains("changed our mind before any body"))
        XCTAssertEqual(served.outcome, .complete)
    }

    func testExcInfoAfterHeadersWereSentIsHandedBackAndTheResponseAborted() throws {
        let served = try serve("GET /exc-info-late HTTP/1.1\r\nHost: a\r\n\r\n", plugin: "errors")
        XCTAssertEqual(served.response.status, 200, "the status already sent cannot change")
        XCTAssertEqual(served.response.bodyText, "headers and a first chunk are out\n")
        XCTAssertFalse(served.response.chunkedComplete, "an aborted response must not look complete")
        XCTAssertEqual(served.transport.ending, .abort)
        XCTAssertEqual(served.outcome, .aborted)
        XCTAssertTrue(served.observer.errorsText.contains("failed after sending"), "the re-raised error is logged")
    }

    func testTheServerAddsDateAndServerOnlyWhenTheApplicationDidNot() throws {
        let served = try serve("GET / HTTP/1.1\r\nHost: a\r\n\r\n", plugin: "hello")
        XCTAssertEqual(served.response.headers("Date"), [fixedDate])
        XCTAssertEqual(served.response.headers("Server"), ["devserve/\(DevServeVersion.current)"])
        let own = try serve("GET /own-date-server HTTP/1.1\r\nHost: a\r\n\r\n", plugin: "fixture-conformance")
        XCTAssertEqual(own.response.headers("Date"), ["Thu, 01 Jan 2026 00:00:00 GMT"], "the application's Date is kept, whatever its case")
        XCTAssertEqual(own.response.headers("Server"), ["fixture/1"])
    }
}
