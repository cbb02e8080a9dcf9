import NIOCore

/// Sits before the HTTP decoder and watches the raw bytes of each request head for what the
/// decoder does not check: a request line over the limit (414: the decoder counts the URL as
/// a header field and would answer 431) and a head that takes too long to arrive (408; a
/// client trickling its headers is cut off while everyone else is served).
///
/// It measures from the start of a connection, and from the end of each request as the
/// connection handler reports it. When a request ends in the middle of a read that also holds
/// the next request's first bytes (pipelining), it cannot see where the next request line
/// began, so it does not measure that one: the decoder's own 8190-byte field limit still
/// refuses it, as 431.
final class RequestHeadGuard: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private enum State {
        /// Counting the bytes of the request line so far.
        case requestLine(Int)
        /// Past the request line, or not measurable.
        case inMessage
    }

    private let limits: HTTPLimits
    private let onRefuse: (ChannelHandlerContext, ErrorResponse) -> Void
    private var state = State.requestLine(0)
    private var forwarding = false
    private var endedDuringForward = false
    private var headTimer: LazyTimer?
    private var refused = false
    /// Any byte arrived on this connection.
    private var sawBytes = false
    /// The reads that hold the current request head, kept (ByteBuffers share their storage,
    /// nothing is copied) until it is parsed: NIO's decoder gives header values as Strings,
    /// and a value that is not UTF-8 is recovered from these bytes.
    private var headReads: [ByteBuffer] = []
    private var headBytesKept = 0
    private var collecting = true

    init(limits: HTTPLimits, onRefuse: @escaping (ChannelHandlerContext, ErrorResponse) -> Void) {
        self.limits = limits
        self.onRefuse = onRefuse
    }

    /// The head timer runs from the connection's start: a client that connects and sends
    /// nothing holds the connection --header-timeout seconds, not the idle timeout.
    func channelActive(context: ChannelHandlerContext) {
        startHeadTimer(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        headTimer?.cancel()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else { return }
        sawBytes = true
        let buffer = unwrapInboundIn(data)
        if collecting && headBytesKept < limits.maxHeaderBlock + limits.maxRequestLine + 4096 {
            headReads.append(buffer)
            headBytesKept += buffer.readableBytes
        }
        if case .requestLine(let seen) = state {
            startHeadTimer(context: context)
            let view = buffer.readableBytesView
            // Leading empty lines before a request line are allowed (RFC 9112 section 2.2).
            let start = seen == 0 ? (view.firstIndex { $0 != 13 && $0 != 10 } ?? view.endIndex) : view.startIndex
            if let newline = view[start...].firstIndex(of: 10) {
                // The line ends before its CR LF.
                let bareLF = !(newline > start && view[newline - 1] == 13)
                let end = bareLF ? newline : newline - 1
                if seen + (end - start) > limits.maxRequestLine {
                    return refuse(context, .uriTooLong("the request line is longer than \(limits.maxRequestLine) octets"))
                }
                if bareLF {
                    // RFC 9112 section 2.2 lets a recipient accept it or answer 400; the decoder
                    // would call it a bad version (505), which misleads.
                    return refuse(context, .badRequest("the request line ends with a bare LF: HTTP/1.1 lines end with CR LF"))
                }
                if seen == 0, view[start..<end].filter({ $0 == 32 }).count == 1 {
                    // "GET /" with no version: HTTP/0.9, answered at once instead of waiting
                    // for a head that will never come.
                    return refuse(context, .badRequest("the request line has no HTTP version (HTTP/0.9 is not supported)"))
                }
                state = .inMessage
            } else {
                let total = seen + (view.endIndex - start)
                if total > limits.maxRequestLine {
                    return refuse(context, .uriTooLong("the request line is longer than \(limits.maxRequestLine) octets"))
                }
                state = .requestLine(total)
            }
        }
        forwarding = true
        context.fireChannelRead(data)
        forwarding = false
        if endedDuringForward {
            endedDuringForward = false
            state = .requestLine(0)
        }
    }

    /// The connection handler saw a complete head: stop the head timer.
    func headReceived() {
        headTimer?.disarm()
        collecting = false
        headReads.removeAll()
        headBytesKept = 0
    }

    /// The connection handler saw the end of a request: the next bytes start a new head.
    func messageEnded() {
        if forwarding { endedDuringForward = true } else { state = .requestLine(0) }
        collecting = true
    }

    /// The bytes of the current head as they arrived (at most `limit`), for the record of a
    /// refused request.
    func headBytes(limit: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        for read in headReads where bytes.count < limit { bytes += read.readableBytesView.prefix(limit - bytes.count) }
        return bytes
    }

    /// The raw header values of the head that starts with `requestLine` ("GET /x HTTP/1.1"),
    /// in order, from the reads kept since it began; nil when they are not all here.
    func rawHeaderValues(requestLine: [UInt8]) -> [[UInt8]]? {
        var bytes: [UInt8] = []
        for read in headReads { bytes += read.readableBytesView }
        guard let start = bytes.firstRange(of: requestLine)?.upperBound else { return nil }
        var values: [[UInt8]] = []
        var lineStart = start
        // Skip the rest of the request line.
        guard let firstEnd = bytes[lineStart...].firstIndex(of: 10) else { return nil }
        lineStart = firstEnd + 1
        while let end = bytes[lineStart...].firstIndex(of: 10) {
            var line = bytes[lineStart..<end]
            if line.last == 13 { line = line.dropLast() }
            if line.isEmpty { return values }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return nil }
            var value = line[(colon + 1)...]
            while let first = value.first, first == 32 || first == 9 { value = value.dropFirst() }
            while let last = value.last, last == 32 || last == 9 { value = value.dropLast() }
            values.append(Array(value))
            lineStart = end + 1
        }
        return nil
    }

    private func startHeadTimer(context: ChannelHandlerContext) {
        let timer = headTimer ?? LazyTimer(eventLoop: context.eventLoop)
        headTimer = timer
        guard !timer.isArmed else { return }
        let timeout = limits.headerTimeout
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer.arm(in: .milliseconds(Int64(timeout * 1000))) {
            let (handler, context) = loopBound.value
            if !handler.sawBytes {
                // Nothing was asked: nothing to answer (a browser's preconnect, a port scan).
                handler.refused = true
                context.close(promise: nil)
                return
            }
            handler.refuse(context, .timeout("the request head did not arrive within \(timeout) s"))
        }
    }

    private func refuse(_ context: ChannelHandlerContext, _ response: ErrorResponse) {
        guard !refused else { return }
        refused = true
        headTimer?.cancel()
        onRefuse(context, response)
    }
}
