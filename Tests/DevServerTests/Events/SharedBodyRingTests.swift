import CDevServeShim
@testable import DevServer
import NIOCore
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// Issue 14: captured body parts cross from worker to supervisor in a shared ring; the frame
/// carries only where. Both sides run in this process here (the worker's side is the C shim's
/// global state, attached to a second mapping of the supervisor's ring).
final class SharedBodyRingTests: XCTestCase {
    private func append(_ frame: [UInt8], _ body: [UInt8]) -> Int32 {
        var frame = frame
        return frame.withUnsafeMutableBytes { frame in
            body.withUnsafeBytes { devserve_shim_events_append_shared(frame.baseAddress, frame.count, $0.baseAddress, $0.count) }
        }
    }

    /// What the worker has pending, as the supervisor reads it from the pipe.
    private func written() throws -> ByteBuffer {
        var pipe: [Int32] = [0, 0]
        XCTAssertEqual(devserve_shim_pipe_cloexec(&pipe), 0)
        defer { close(pipe[0]) }
        XCTAssertEqual(devserve_shim_events_write(pipe[1]), 0)
        close(pipe[1])
        var buffer = ByteBuffer()
        while buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 65536, { max(0, read(pipe[0], $0.baseAddress, $0.count)) }) > 0 {}
        return buffer
    }

    func testABodyInTheRingComesBackFromItsFrameAndAFullRingRefusesThePartUntilTheSupervisorHasHandledIt() throws {
        let sink = open("/dev/null", O_WRONLY | O_CLOEXEC)
        XCTAssertEqual(devserve_shim_events_write(sink), 0, "start from nothing pending")
        close(sink)
        let ring = try XCTUnwrap(SharedBodyRing())
        XCTAssertEqual(devserve_shim_ring_attach(ring.descriptor), 0)
        close(ring.descriptor)

        let body = (0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        XCTAssertEqual(append(EventFrame.sharedBodyFrame(chunkOf: "1.1", offset: 3, size: 9000, count: body.count), body), 1)
        let stream = try written()
        XCTAssertLessThan(stream.readableBytes, 100, "the frame carries the position, not the 5,000 bytes")
        var withoutRing = stream
        XCTAssertThrowsError(try EventFrame.decode(&withoutRing, ring: nil), "a shared frame needs the ring")
        var withRing = stream
        XCTAssertEqual(try EventFrame.decode(&withRing, ring: ring), [.chunk(id: "1.1", offset: 3, size: 9000, bytes: body)])

        // 16 MiB parts nobody takes: the 64 MiB ring holds three beside the first part's end,
        // then refuses (the caller sends that part in its frame); taking them makes room.
        let large = [UInt8](repeating: 0x5A, count: 16 << 20)
        let placed = (0..<4).map { _ in append(EventFrame.sharedBodyFrame(requestBodyOf: "1.2", count: large.count), large) }
        XCTAssertEqual(placed, [1, 1, 1, 0])
        var pending = try written()
        let taken = try EventFrame.decode(&pending, ring: ring)
        XCTAssertEqual(taken.count, 3)
        // Request body parts are lent where they lie (the recorder copies them once, into
        // the record): the worker gets the room back only once the batch was handled.
        XCTAssertTrue(taken.allSatisfy { if case .requestBodyLent(let id, let lent) = $0 { id == "1.2" && lent.bytes.elementsEqual(large) } else { false } })
        XCTAssertEqual(append(EventFrame.sharedBodyFrame(requestBodyOf: "1.3", count: large.count), large), 0, "no room while the parts are lent")
        _ = try written()
        ring.releaseTaken()
        XCTAssertEqual(append(EventFrame.sharedBodyFrame(requestBodyOf: "1.3", count: large.count), large), 1, "room again once handled")
        var last = try written()
        let lastEvents = try EventFrame.decode(&last, ring: ring)
        XCTAssertEqual(lastEvents.count, 1)
        if case .requestBodyLent(let id, let lent) = lastEvents.first {
            XCTAssertEqual(id, "1.3")
            XCTAssertEqual(lent.array, large)
        } else {
            XCTFail("a request body part from the ring is lent")
        }
        ring.releaseTaken()
    }

    func testAPositionOutsideTheRingIsAMalformedFrame() throws {
        let ring = try XCTUnwrap(SharedBodyRing())
        close(ring.descriptor)
        XCTAssertThrowsError(try ring.take(count: 10, at: SharedBodyRing.size - 5), "a part that would run past the ring's end")
        XCTAssertThrowsError(try ring.take(count: SharedBodyRing.size + 1, at: 0))
        XCTAssertThrowsError(try ring.take(count: 10, at: -1))
    }
}
