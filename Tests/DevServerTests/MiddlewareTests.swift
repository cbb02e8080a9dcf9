import DevServer
import XCTest

/// docs/GATEWAY.md, "The three parties": middleware composes with no help from the server (the
/// router sample: a routing table under a footer middleware, one route under a chunk
/// transformer).
final class MiddlewareTests: XCTestCase {
    func testTheRouterMovesTheMatchedPrefixFromPathInfoToScriptName() throws {
        let served = try serve("GET /where/deeper/x HTTP/1.1\r\nHost: a\r\n\r\n", plugin: "router")
        XCTAssertTrue(served.response.bodyText.hasPrefix("SCRIPT_NAME=/where PATH_INFO=/deeper/x\n"), served.response.bodyText)
    }

    func testTheRouterMatchesWholeSegmentsOnly() throws {
        let served = try serve("GET /helloworld HTTP/1.1\r\nHost: a\r\n\r\n", plugin: "router")
        XCTAssertEqual(served.response.status, 404)
    }

    func testTheOuterMiddlewareAppendsALineAndCorrectsContentLength() throws {
        let served = try serve("GET /hello HTTP/1.1\r\nHost: a\r\n\r\n", plugin: "router")
        let expected = "hello from the router\n-- served by the router sample\n"
        XCTAssertEqual(served.response.bodyText, expected)
        XCTAssertEqual(served.response.header("Content-Length"), String(expected.utf8.count))
        XCTAssertEqual(served.observer.violationKinds, [])
    }

    func testAChunkTransformingMiddlewareKeepsBlockBoundaries() throws {
        let served = try serve("GET /shout HTTP/1.1\r\nHost: a\r\n\r\n", plugin: "router")
        XCTAssertEqual(served.response.bodyText, "HELLO FROM THE ROUTER\n-- served by the router sample\n")
        let counted = try serve("GET /count?n=3 HTTP/1.1\r\nHost: a\r\n\r\n", plugin: "router")
        XCTAssertEqual(counted.observer.chunks.map(\.text), ["1\n", "2\n", "3\n", "-- served by the router sample\n"], "one chunk out per chunk in, then the footer")
    }

    func testTheStackOrderIsOuterMiddlewareFirst() throws {
        // The footer (outer) sees the uppercased body of /shout but is not uppercased itself:
        // Uppercase runs inside it.
        let served = try serve("GET /shout HTTP/1.1\r\nHost: a\r\n\r\n", plugin: "router")
        XCTAssertTrue(served.response.bodyText.hasSuffix("-- served by the router sample\n"))
    }
}
