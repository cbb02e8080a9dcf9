import XCTest
@testable import DevServer

final class EventFrameTests: XCTestCase {
    func testFiveBytesAnnouncingAHugeFrameAreRefusedAtOnceRatherThanWaitedFor() {
        // What a plugin writing to the event stream's descriptor would send: a length of
        // 200 MiB and a kind, with no check byte that fits them.
        var buffer: [UInt8] = [0x00, 0x00, 0x80, 0x0C, 0x08, 0x01]
        XCTAssertThrowsError(try EventFrame.decode(&buffer)) { error in
            XCTAssertTrue("\(error)".contains("check"), "\(error)")
        }
    }

    func testAnyOneBitFlippedInAFrameHeaderIsDetected() throws {
        var frame: [UInt8] = []
        EventFrame.encode(.errors(id: "1.2", text: "hello"), into: &frame)
        for bit in 0..<(EventFrame.headerSize * 8) {
            var damaged = frame
            damaged[bit / 8] ^= UInt8(1 << (bit % 8))
            XCTAssertThrowsError(try EventFrame.decode(&damaged), "bit \(bit) flipped went unnoticed")
        }
    }

    func testFramesSplitAcrossReadsDecodeWhenTheirLastByteArrives() throws {
        var stream: [UInt8] = []
        let events: [WorkerEvent] = [.heartbeat, .errors(id: "3.1", text: "é"), .crashed(signal: 0, requestID: "3.1")]
        for event in events { EventFrame.encode(event, into: &stream) }
        var buffer: [UInt8] = []
        var decoded: [WorkerEvent] = []
        for byte in stream {
            buffer.append(byte)
            decoded += try EventFrame.decode(&buffer)
        }
        XCTAssertEqual(decoded, events)
        XCTAssertEqual(buffer, [])
    }

    func testABodyFrameWrittenAsPrefixAndBytesIsTheSameFrameAsTheEncodedEvent() throws {
        let body: [UInt8] = Array(0...255) + [0, 13, 10]
        var encoded: [UInt8] = []
        EventFrame.encode(.requestBody(id: "1.7", bytes: body), into: &encoded)
        EventFrame.encode(.chunk(id: "1.7", offset: 1234, size: 9999, bytes: body), into: &encoded)
        var streamed = EventFrame.bodyFramePrefix(requestBodyOf: "1.7", count: body.count) + body
        streamed += EventFrame.bodyFramePrefix(chunkOf: "1.7", offset: 1234, size: 9999, count: body.count) + body
        XCTAssertEqual(streamed, encoded)
        XCTAssertEqual(try EventFrame.decode(&streamed), [.requestBody(id: "1.7", bytes: body), .chunk(id: "1.7", offset: 1234, size: 9999, bytes: body)])
    }

    func testTheStartFrameEncodedFromTheHeadAndTheEnvironsArenaIsTheSameFrameAsTheEncodedEvent() throws {
        let (head, _) = try parseRequest(Array("POST /caf%C3%A9?q=1 HTTP/1.1\r\nHost: example.test\r\nX-Long: \(String(repeating: "v", count: 5000))\r\nContent-Length: 0\r\n\r\n".utf8))
        let environ = try XCTUnwrap(EnvironBuilder().build(head: head, connection: ConnectionInfo(remoteAddress: "127.0.0.1", remotePort: 50000), requestID: "4.2"))
        let summary = RequestSummary(id: "4.2", generation: 4, client: "127.0.0.1:50000", method: head.method, target: head.target, version: head.version.description, status: 0, bytes: 0, durationMicroseconds: 0, outcome: "")
        var direct: [UInt8] = [1, 2, 3]
        EventFrame.encodeRequestStarted(summary: summary, time: 1_700_000_000_123_456, head: head, environ: environ, into: &direct)
        let event = WorkerEvent.requestStarted(RequestStart(
            id: "4.2", generation: 4, client: "127.0.0.1:50000", time: 1_700_000_000_123_456, method: "POST", target: "/caf%C3%A9?q=1", version: "HTTP/1.1",
            headers: head.headers.map { HeaderField($0.name, $0.value) }, environ: environ.compact))
        var encoded: [UInt8] = [1, 2, 3]
        EventFrame.encode(event, into: &encoded)
        XCTAssertEqual(direct, encoded, "what came before is kept, the frame is the event's")
        XCTAssertGreaterThan(environ.count, 10)
        var stream = Array(direct.dropFirst(3))
        XCTAssertEqual(try EventFrame.decode(&stream), [event])
    }
}
