@testable import DevServer
import NIOCore
import NIOPosix
import XCTest

/// Issue 13: "the first request to a newly started worker is sometimes marked client-gone
/// although the client received the whole response". The race: the application thread's flush
/// waited for its bytes to be written, and when it woke the client had already read them and
/// closed; seeing the connection closed, flush reported the client gone.
final class ChannelTransportTests: XCTestCase {
    func testAClientThatClosesAfterReadingTheWholeResponseIsNotGoneForTheWriteThatReachedIt() throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        final class Box: @unchecked Sendable { var transport: ChannelTransport? }
        let box = Box()
        let transport = ChannelTransport(
            eventLoop: group.next(),
            send: { _, promise in
                // Written, then the client closes at once: both before the application thread runs.
                promise.succeed(())
                box.transport?.connectionClosed()
            },
            sendRegion: { _, promise in promise.succeed(()) },
            complete: { _ in })
        box.transport = transport
        // More than the high-water mark, so that flush waits until the bytes were written and
        // wakes only after the connection closed: the order the race produced.
        try transport.write(Self.largerThanHighWater)
        XCTAssertNoThrow(try transport.flush(), "the bytes reached the client: it is not gone for this response")
        // The flush may wake between the write's completion and the close: let the loop finish.
        try group.next().submit {}.wait()
        XCTAssertThrowsError(try transport.write(Array("more".utf8)), "but nothing more can be sent")
    }

    func testAWriteThatFailsIsTheClientGone() throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let transport = ChannelTransport(
            eventLoop: group.next(),
            send: { _, promise in promise.fail(ChannelError.ioOnClosedChannel) },
            sendRegion: { _, promise in promise.succeed(()) },
            complete: { _ in })
        try transport.write(Self.largerThanHighWater)
        XCTAssertThrowsError(try transport.flush(), "bytes of this response did not reach the client")
    }

    private static let largerThanHighWater = [UInt8](repeating: UInt8(ascii: "x"), count: ChannelTransport.highWater + 1)
}
