import DevServer
import Foundation
import XCTest

/// Issue 13: the gateway contract to the byte, each test named after the rule.
final class ExactnessTests: XCTestCase {
    func testWritePastContentLengthReturnsAnErrorAndSendsNoExcess() throws {
        let served = try serve("GET /cl-write HTTP/1.1\r\nHost: a\r\n\r\n", plugin: "fixture-conformance")
        XCTAssertEqual(served.response.bodyText, "12345")
        XCTAssertEqual(served.observer.errorsText, "write: 0 then 11\n", "the second write gets DEVSERVE_CONTENT_LENGTH_EXCEEDED")
        XCTAssertEqual(served.observer.violationKinds, [.contentLengthExceeded])
    }

    func testTheIterableIsNotAskedForMoreOnceContentLengthIsReached() throws {
        let served = try serve("GET /cl-chunks HTTP/1.1\r\nHost: a\r\n\r\n", plugin: "fixture-conformance")
        XCTAssertEqual(served.response.bodyText, "a")
        XCTAssertEqual(served.observer.errorsText, "next() called 1 times\n", "PEP 3333: stop iterating past Content-Length")
        XCTAssertEqual(served.transport.ending, .keepAlive)
    }

    func testA204CarriesNoContentLengthEvenWhenTheApplicationSetsOne() throws {
        let served = try serve("GET /no-content HTTP/1.1\r\nHost: a\r\n\r\n", plugin: "fixture-conformance")
        XCTAssertEqual(served.response.status, 204)
        XCTAssertNil(served.response.header("Content-Length"), "RFC 9110 section 8.6")
    }

    func testTheStatusIsHeldToLatin1LikeHeaderValues() throws {
        let served = try serve("GET /euro-status HTTP/1.1\r\nHost: a\r\n\r\n", plugin: "fixture-conformance")
        XCTAssertEqual(served.observer.errorsText, "start_response: 3\n", "U+20AC is refused (DEVSERVE_INVALID_STATUS)")
        XCTAssertEqual(served.observer.violationKinds, [.malformedStatus])
        XCTAssertEqual(Array(served.transport.bytes.prefix(17)), Array("HTTP/1.1 200 Caf".utf8) + [0xE9], "é goes out as the one byte E9")
    }
}

extension ExactnessTests {
    func testABodyOnDescriptor0IsAViolationNotTheWorkersStdin() throws {
        let served = try serve("GET /fd-zero HTTP/1.1\r\nHost: a\r\n\r\n", plugin: "fixture-conformance")
        XCTAssertEqual(served.observer.violationKinds, [.invalidFileDescriptor])
        XCTAssertEqual(served.response.status, 200)
        XCTAssertEqual(served.response.body, [], "an empty body, nothing read from stdin")
    }

    func testCloseRunsWhenTheApplicationFailsAfterFillingInItsBody() throws {
        let before = try serve("GET /close-count HTTP/1.1\r\nHost: a\r\n\r\n", plugin: "fixture-conformance").response.bodyText
        let failed = try serve("GET /fill-then-fail HTTP/1.1\r\nHost: a\r\n\r\n", plugin: "fixture-conformance")
        XCTAssertEqual(failed.response.status, 500)
        let after = try serve("GET /close-count HTTP/1.1\r\nHost: a\r\n\r\n", plugin: "fixture-conformance").response.bodyText
        // /close-count reports calls so far (its own close comes after): two more than before.
        XCTAssertEqual((Int(after.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) - (Int(before.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0), 2)
    }

    func testReadingWithACapacityOf0IsAnErrorNotTheEndOfTheBody() throws {
        let served = try serve("POST /read-zero HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc", plugin: "fixture-conformance")
        XCTAssertEqual(served.response.bodyText, "read(0): -9\n", "-DEVSERVE_INVALID_ARGUMENT")
    }
}
