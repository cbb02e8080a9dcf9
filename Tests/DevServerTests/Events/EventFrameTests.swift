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
}
