@testable import DevServer
import NIOCore
import NIOPosix
import XCTest
import Foundation

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
                promise?.succeed(())
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
        XCTAssertThrowsError(try { try transport.write(Array("more".utf8)); try transport.flush() }(), "but nothing more can be sent")
    }

    func testAWriteThatFailsIsTheClientGone() throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let transport = ChannelTransport(
            eventLoop: group.next(),
            send: { _, promise in promise?.fail(ChannelError.ioOnClosedChannel) },
            sendRegion: { _, promise in promise.succeed(()) },
            complete: { _ in })
        try transport.write(Self.largerThanHighWater)
        XCTAssertThrowsError(try transport.flush(), "bytes of this response did not reach the client")
    }

    /// Most writes carry no promise (issue 14); what is unwritten is still bounded for a
    /// response streamed in small chunks to a client that stops reading.
    func testAnApplicationStreamingSmallChunksToAClientThatDoesNotReadWaitsOnceAMegabyteIsUnwritten() throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        final class Client: @unchecked Sendable {
            let lock = NSLock()
            var unread: [EventLoopPromise<Void>] = []
            var written = 0
            var done = false
            /// The client reads everything sent so far.
            func read() {
                let promises = lock.withLock { () -> [EventLoopPromise<Void>] in
                    defer { unread = [] }
                    return unread
                }
                for promise in promises { promise.succeed(()) }
            }
            var progress: (written: Int, done: Bool) { lock.withLock { (written, done) } }
        }
        let client = Client()
        let transport = ChannelTransport(
            eventLoop: group.next(),
            send: { _, promise in if let promise { client.lock.withLock { client.unread.append(promise) } } },
            sendRegion: { _, promise in promise.succeed(()) },
            complete: { _ in })
        let chunk = [UInt8](repeating: UInt8(ascii: "x"), count: 4096)
        let chunks = 1024  // 4 MiB
        DispatchQueue.global().async {
            for _ in 0..<chunks {
                do {
                    try transport.write(chunk)
                    try transport.flush()
                } catch { break }
                client.lock.withLock { client.written += chunk.count }
            }
            client.lock.withLock { client.done = true }
        }
        // The writer runs until the unwritten bytes pass the high-water mark, then waits.
        var stalledAt = -1
        for _ in 0..<100 {
            Thread.sleep(forTimeInterval: 0.05)
            let now = client.progress.written
            if now == stalledAt { break }
            stalledAt = now
        }
        XCTAssertFalse(client.progress.done, "the writer must wait for a client that does not read")
        XCTAssertGreaterThanOrEqual(stalledAt, ChannelTransport.highWater - chunk.count)
        XCTAssertLessThanOrEqual(stalledAt, ChannelTransport.highWater + ChannelTransport.confirmEvery + chunk.count)
        // The client reads: the writer goes on to the end.
        let deadline = Date().addingTimeInterval(10)
        while !client.progress.done && Date() < deadline {
            client.read()
            Thread.sleep(forTimeInterval: 0.005)
        }
        XCTAssertEqual(client.progress.written, chunk.count * chunks)
    }

    private static let largerThanHighWater = [UInt8](repeating: UInt8(ascii: "x"), count: ChannelTransport.highWater + 1)
}
