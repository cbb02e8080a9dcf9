// The NIO floor: the least a SwiftNIO server can do per keep-alive HTTP/1.1 request on this
// machine, so bench/run.sh can show how much of devserve's cost per request is the event-loop
// library and how much is devserve's own (docs/DECISIONS.md, "the NIO floor").
//
// One event loop, one handler: it finds the end of each request head (CRLF CRLF, RFC 9112
// section 2.1) and writes a fixed "Hello world!" response for it, flushed once per read; a
// head that says "Connection: close" gets its response and the connection closed (RFC 9112
// section 9.6), which is all the parsing it does. No environ, no application, no capture.
// Usage: NIOFloor PORT (127.0.0.1 only).
import NIOCore
import NIOPosix

/// Answers every request head with the same response.
final class FixedResponder: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    static let response = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello world!\n"

    static let close = Array("\r\nconnection: close\r\n".utf8)

    /// How many bytes of CR LF CR LF the last read ended with (0-3).
    private var matched = 0
    /// The head being read, lowercased (ASCII).
    private var head: [UInt8] = []
    private var response: ByteBuffer?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var heads = 0
        var closing = false
        unwrapInboundIn(data).withUnsafeReadableBytes { bytes in
            for byte in bytes where !closing {
                head.append(byte >= 65 && byte <= 90 ? byte | 0x20 : byte)
                switch (matched, byte) {
                case (0, 13), (2, 13): matched += 1
                case (1, 10): matched = 2
                case (3, 10):
                    matched = 0
                    heads += 1
                    closing = Self.contains(head, Self.close)
                    head.removeAll(keepingCapacity: true)
                case (_, 13): matched = 1
                default: matched = 0
                }
            }
        }
        let response = self.response ?? context.channel.allocator.buffer(string: Self.response)
        self.response = response
        for _ in 0..<heads { context.write(wrapOutboundOut(response), promise: nil) }
        if closing {
            context.flush()
            context.close(promise: nil)
        }
    }

    private static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard haystack.count >= needle.count else { return false }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if haystack[start..<(start + needle.count)].elementsEqual(needle) { return true }
        }
        return false
    }

    func channelReadComplete(context: ChannelHandlerContext) { context.flush() }

    func errorCaught(context: ChannelHandlerContext, error: Error) { context.close(promise: nil) }
}

guard CommandLine.arguments.count == 2, let port = Int(CommandLine.arguments[1]) else {
    print("usage: NIOFloor PORT")
    exit(2)
}
let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
let server = try ServerBootstrap(group: group)
    .serverChannelOption(.backlog, value: 1024)
    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
    .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
    .childChannelInitializer { channel in
        channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(FixedResponder()) }
    }
    .bind(host: "127.0.0.1", port: port).wait()
try server.closeFuture.wait()
