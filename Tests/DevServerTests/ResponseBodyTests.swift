import DevServer
import XCTest

/// docs/GATEWAY.md, "The response body".
final class ResponseBodyTests: XCTestCase {
    func testEveryChunkIsSentAsSoonAsItIsProducedNeverHeldForTheNext() throws {
        // At each write, how many chunks had the capture seen? It sees a chunk once it is handed
        // to the transport, so chunk k's write finds k-1: every chunk is written (and flushed,
        // below) on its own before the next one is asked for. Chunk k must be on the wire
        // before chunk k+1 exists.
        let transport = MemoryTransport()
        let observer = RecordingObserver()
        var producedAtWrite: [Int] = []
        transport.onWrite = { _ in producedAtWrite.append(observer.chunks.count) }
        let (head, _) = try parseRequest(Array("GET /?n=4&size=10&delay_ms=1 HTTP/1.1\r\nHost: a\r\n\r\n".utf8))
        GatewayExchange.serve(.init(head: head), plugin: try Plugins.load("stream"), transport: transport, observer: observer)
        XCTAssertEqual(producedAtWrite, [0, 1, 2, 3, 4], "four chunks, then the last-chunk marker")
        XCTAssertEqual(transport.flushes, 5, "each write is flushed")
        XCTAssertEqual(RawResponse(transport.bytes).chunkSizes, [10, 10, 10, 10])
    }

    func testWriteDataPrecedesTheIterablesChunks() throws {
        let served = try serve("GET /write-then-body HTTP/1.1\r\nHost: a\r\n\r\n", plugin: "fixture-conformance")
        XCTAssertEqual(served.response.bodyText, "from write\nfrom the iterable\n")
        XCTAssertEqual(served.response.header("Transfer-Encoding"), "chunked")
    }

    func testWriteBeforeStartResponseIsRefused() throws {
        let served = try serve("GET /write-before HTTP/1.1\r\nHost: a\r\n\r\n", plugin: "fixture-conformance")
        XCTAssertEqual(served.observer.violationKinds, [.writeBeforeStartResponse])
        XCTAssertEqual(served.response.bodyText, "write refused\n")
    }

    func testABodyBeforeStartResponseIsA500() throws {
        let served = try serve("GET /body-before HTTP/1.1\r\nHost: a\r\n\r\n", plugin: "fixture-conformance")
        XCTAssertEqual(served.observer.violationKinds, [.bodyBeforeStartResponse])
        XCTAssertEqual(served.response.status, 500)
    }

    func testReturningWithoutStartResponseIsA500() throws {
        let served = try serve("GET /no-start HTTP/1.1\r\nHost: a\r\n\r\n", plugin: "fixture-conformance")
        XCTAssertEqual(served.observer.violationKinds, [.noStartResponse])
        XCTAssertEqual(served.response.status, 500)
    }

    func testAReportedChunkCountMustBeExact() throws {
        let served = try serve("GET /count-mismatch HTTP/1.1\r\nHost: a\r\n\r\n", plugin: "fixture-conformance")
        XCTAssertEqual(served.observer.violationKinds, [.chunkCountMismatch])
    }

    func testTheServerSendsNoMoreThanContentLength() throws {
        let served = try serve("GET /cl-long HTTP/1.1\r\nHost: a\r\n\r\n", plugin: "fixture-conformance")
        XCTAssertEqual(served.response.bodyText, "01234")
        XCTAssertEqual(served.observer.violationKinds, [.contentLengthExceeded])
        XCTAssertEqual(served.transport.ending, .keepAlive, "framing stayed intact")
    }

    func testABodyShorterThanContentLengthIsReportedAndTheConnectionClosed() throws {
        for (plugin, path) in [("fixture-conformance", "/cl-short"), ("errors", "/short")] {
            let served = try serve("GET \(path) HTTP/1.1\r\nHost: a\r\n\r\n", plugin: plugin)
            XCTAssertEqual(served.observer.violationKinds, [.contentLengthShort], path)
            XCTAssertEqual(served.transport.ending, .abort, path)
            XCTAssertEqual(served.outcome, .aborted, path)
        }
    }

    func testAOneChunkBodyGetsAComputedContentLength() throws {
        let served = try serve("GET /log HTTP/1.1\r\nHost: a\r\n\r\n", plugin: "errors")
        XCTAssertEqual(served.response.header("Content-Length"), "7")
        XCTAssertNil(served.response.header("Transfer-Encoding"))
    }

    func testAStreamWithoutLengthIsChunkedOnHTTP11() throws {
        let served = try serve("GET /?n=3&size=5&delay_ms=0 HTTP/1.1\r\nHost: a\r\n\r\n", plugin: "stream")
        XCTAssertEqual(served.response.header("Transfer-Encoding"), "chunked")
        XCTAssertEqual(served.response.chunkSizes, [5, 5, 5])
        XCTAssertTrue(served.response.chunkedComplete)
        XCTAssertEqual(served.transport.ending, .keepAlive)
    }

    func testAStreamWithoutLengthIsEndedByClosingTheConnectionOnHTTP10() throws {
        let served = try serve("GET /?n=3&size=5&delay_ms=0 HTTP/1.0\r\n\r\n", plugin: "stream")
        XCTAssertNil(served.response.header("Transfer-Encoding"))
        XCTAssertNil(served.response.header("Content-Length"))
        XCTAssertEqual(served.response.body.count, 15)
        XCTAssertEqual(served.transport.ending, .close)
    }

    func testHTTP10KeepAliveIsHonouredWhenTheLengthIsKnown() throws {
        let served = try serve("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", plugin: "hello")
        XCTAssertEqual(served.response.header("Connection"), "keep-alive")
        XCTAssertEqual(served.transport.ending, .keepAlive)
    }

    func testConnectionCloseFromTheClientIsAnsweredAndHonoured() throws {
        let served = try serve("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", plugin: "hello")
        XCTAssertEqual(served.response.header("Connection"), "close")
        XCTAssertEqual(served.transport.ending, .close)
    }

    func testCloseIsCalledExactlyOnceAfterSuccessAfterAnErrorAndAfterTheClientWentAway() throws {
        func closeCount() throws -> Int { Int(try serve("GET /close-count HTTP/1.1\r\nHost: a\r\n\r\n", plugin: "fixture-conformance").response.bodyText.dropLast())! }
        // /close-count closes its own body after answering, so each probe adds one.
        let start = try closeCount()
        _ = try serve("GET /empty-first HTTP/1.1\r\nHost: a\r\n\r\n", plugin: "fixture-conformance")
        XCTAssertEqual(try closeCount(), start + 2, "after success")
        let failed = try serve("GET /next-fails HTTP/1.1\r\nHost: a\r\n\r\n", plugin: "fixture-conformance")
        XCTAssertEqual(failed.outcome, .aborted)
        XCTAssertEqual(try closeCount(), start + 4, "after an error in the application")
        let gone = MemoryTransport()
        gone.failOnWrite = 1
        let left = try serve("GET /empty-first HTTP/1.1\r\nHost: a\r\n\r\n", plugin: "fixture-conformance", transport: gone)
        XCTAssertEqual(left.outcome, .clientGone)
        XCTAssertEqual(try closeCount(), start + 6, "after the client went away")
    }

    func testTheApplicationStopsBeingIteratedWhenTheClientGoesAway() throws {
        let transport = MemoryTransport()
        transport.failOnWrite = 2
        let served = try serve("GET /?n=50&size=5&delay_ms=0 HTTP/1.1\r\nHost: a\r\n\r\n", plugin: "stream", transport: transport)
        XCTAssertEqual(served.outcome, .clientGone)
        XCTAssertEqual(served.observer.chunks.count, 2, "no chunk was asked for after the failed write")
        XCTAssertEqual(transport.ending, .abort)
    }

    func testHeadRunsTheApplicationAndSendsHeadersWithoutABody() throws {
        let served = try serve("HEAD / HTTP/1.1\r\nHost: a\r\n\r\n", plugin: "hello")
        XCTAssertEqual(served.response.status, 200)
        XCTAssertEqual(served.response.header("Content-Length"), "13", "the same headers GET would get")
        XCTAssertEqual(served.response.body, [], "no body bytes after the head")
        XCTAssertEqual(served.observer.chunks.count, 1, "the application ran")
        XCTAssertEqual(served.transport.ending, .keepAlive)
    }

    func testHeadOfAStreamSendsNoChunksAndKeepsTheConnectionUsable() throws {
        let served = try serve("HEAD /?n=3&size=5&delay_ms=0 HTTP/1.1\r\nHost: a\r\n\r\n", plugin: "stream")
        XCTAssertEqual(served.response.body, [])
        XCTAssertEqual(served.transport.ending, .keepAlive)
    }

    func testUsingTheRequestAfterCloseIsReported() throws {
        let served = try serve("GET /after-close HTTP/1.1\r\nHost: a\r\n\r\n", plugin: "fixture-conformance")
        XCTAssertEqual(served.observer.violationKinds, [.iterationAfterClose])
        XCTAssertEqual(served.response.bodyText, "ok\n")
        XCTAssertFalse(served.transport.text.contains("late"))
    }
}
