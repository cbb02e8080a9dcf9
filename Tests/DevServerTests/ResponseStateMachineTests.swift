@testable import DevServer
import CDevServe
import XCTest

/// The response state machine alone: no plugin, no transport.
final class ResponseStateMachineTests: XCTestCase {
    private func machine(head: Bool = false, version: HTTPVersion = .http1_1, keepAlive: Bool = true) -> ResponseStateMachine {
        ResponseStateMachine(request: .init(isHead: head, version: version, wantsKeepAlive: keepAlive), date: { "D" })
    }

    private func start(_ machine: inout ResponseStateMachine, _ status: String = "200 OK", _ headers: [(String, String)] = [], excInfo: Bool = false) -> devserve_result {
        machine.startResponse(status: Array(status.utf8), headers: headers.map { (Array($0.0.utf8), Array($0.1.utf8)) }, hasExcInfo: excInfo).result
    }

    func testStartResponseStagesTheHeadAndSendsNothing() {
        var machine = machine()
        XCTAssertEqual(start(&machine), DEVSERVE_OK)
        guard case .staged = machine.state else { return XCTFail("\(machine.state)") }
        XCTAssertFalse(machine.hasSentHead)
        XCTAssertEqual(machine.chunk([], fromWrite: false).bytes, [], "an empty chunk sends nothing")
    }

    func testTheFirstNonEmptyChunkSendsTheHeadAndMovesToSending() {
        var machine = machine()
        _ = start(&machine)
        let output = machine.chunk(Array("abc".utf8), fromWrite: false)
        XCTAssertEqual(output.bytes.text, "HTTP/1.1 200 OK\r\nDate: D\r\nServer: devserve/\(DevServeVersion.current)\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n")
        guard case .sending(_, .chunked, sent: 3) = machine.state else { return XCTFail("\(machine.state)") }
        XCTAssertEqual(machine.end().bytes.text, "0\r\n\r\n")
        guard case .finished = machine.state else { return XCTFail("\(machine.state)") }
    }

    func testExcInfoReplacesAStagedHeadButIsHandedBackOnceSent() {
        var machine = machine()
        _ = start(&machine)
        XCTAssertEqual(start(&machine, "500 Oops", excInfo: true), DEVSERVE_OK)
        XCTAssertTrue(machine.chunk(Array("x".utf8), fromWrite: false).bytes.text.hasPrefix("HTTP/1.1 500 Oops\r\n"))
        XCTAssertEqual(start(&machine, "503 Later", excInfo: true), DEVSERVE_HEADERS_ALREADY_SENT)
    }

    func testAnErrorBeforeTheHeadIsA500AndAfterItAnAbort() {
        var before = machine()
        _ = start(&before)
        let output = before.fail(message: "boom")
        XCTAssertTrue(output.bytes.text.hasPrefix("HTTP/1.1 500 Internal Server Error\r\n"))
        XCTAssertEqual(output.ending, .keepAlive)
        var after = machine()
        _ = start(&after)
        _ = after.chunk([1], fromWrite: false)
        let aborted = after.fail(message: "boom")
        XCTAssertEqual(aborted.bytes, [])
        XCTAssertEqual(aborted.ending, .abort)
    }

    func testNoBodyStatusesSendNeitherBodyNorFramingHeaders() {
        var machine = machine()
        _ = start(&machine, "204 No Content")
        let output = machine.chunk(Array("oops".utf8), fromWrite: false)
        XCTAssertFalse(output.bytes.text.contains("oops"))
        XCTAssertFalse(output.bytes.text.contains("Transfer-Encoding"))
        XCTAssertEqual(output.violations.map(\.kind), [.bodyNotAllowed])
        XCTAssertEqual(machine.end().ending, .keepAlive)
    }

    func testStatusLinesMustBeThreeDigitsASpaceAndAReason() {
        for bad in ["200", "200 ", "20 OK", "2000 OK", "abc OK", "200 O\r\nK", "099 Low", "600 High", "100 Continue"] {
            var machine = machine()
            XCTAssertEqual(start(&machine, bad), DEVSERVE_INVALID_STATUS, bad)
        }
        for good in ["200 OK", "404 Not Found", "599 Custom\tReason"] {
            var machine = machine()
            XCTAssertEqual(start(&machine, good), DEVSERVE_OK, good)
        }
    }

    func testAnInvalidContentLengthIsDroppedAndTheBodyIsFramedByTheServer() {
        var machine = machine()
        XCTAssertEqual(start(&machine, "200 OK", [("Content-Length", "-1")]), DEVSERVE_INVALID_HEADER)
        let output = machine.chunk(Array("abc".utf8), fromWrite: false)
        XCTAssertTrue(output.bytes.text.contains("Transfer-Encoding: chunked"))
        XCTAssertFalse(output.bytes.text.contains("Content-Length"))
    }
}

extension ResponseStateMachine {
    /// A chunk held in memory, with everything the output puts on the wire in `bytes`, in the
    /// order GatewayExchange sends it: bytes, the chunk's payload, the trailer.
    fileprivate mutating func chunk(_ bytes: [UInt8], fromWrite: Bool, knownTotalLength: Int? = nil) -> Output {
        var output = chunk(count: bytes.count, fromWrite: fromWrite, knownTotalLength: knownTotalLength)
        output.bytes += bytes.prefix(output.payload) + output.trailer
        output.payload = 0
        output.trailer = []
        return output
    }
}
