import CDevServe

/// Where a response is: PEP 3333's rules for when headers go out, written as states.
enum ResponseState {
    /// start_response has not been called (or was refused).
    case awaitingStartResponse
    /// Status and headers are stored; nothing has been sent. start_response with exc_info
    /// may still replace them.
    case staged(ResponseHead)
    /// The head is on the wire; `sent` body bytes followed it.
    case sending(ResponseHead, framing: Framing, sent: Int)
    /// The response is complete.
    case finished
    /// The response was cut off (application error after headers, client gone, short body).
    case aborted
}

/// How the body is delimited on the wire (RFC 9112 section 6).
enum Framing: Equatable {
    /// Content-Length, given by the application or computed for a one-chunk body.
    case contentLength(Int)
    /// Transfer-Encoding: chunked (HTTP/1.1 without a known length).
    case chunked
    /// The body ends when the connection closes (HTTP/1.0 without a known length).
    case closeDelimited
    /// No body on the wire: HEAD, 1xx, 204, 304.
    case none
}

/// How the connection ends after the response.
public enum ResponseEnding: Sendable, Equatable {
    /// The response is complete and the connection can serve another request.
    case keepAlive
    /// The response is complete; close the connection (HTTP/1.0, close-delimited body, or
    /// the client asked).
    case close
    /// The response is incomplete: close the connection at once so the client sees a
    /// truncated response, never a complete-looking one.
    case abort
}

/// The PEP 3333 response logic, with no I/O: each method takes what the application did and
/// returns what to put on the wire.
///
/// Rules it implements (docs/GATEWAY.md): headers go out with the first non-empty chunk, or when
/// the body ends empty; start_response twice needs exc_info, which replaces the staged head
/// or, once headers are sent, is handed back; framing is the application's Content-Length,
/// a computed one for a one-chunk body, chunked on HTTP/1.1, or close on HTTP/1.0; never more
/// than Content-Length bytes; HEAD gets headers and no body; an error before headers becomes a
/// 500, after headers an aborted response.
struct ResponseStateMachine {
    /// What the machine needs to know about the request.
    struct Request {
        var isHead: Bool
        var version: HTTPVersion
        var wantsKeepAlive: Bool
    }

    /// What to do after an event: `bytes`, then the first `payload` bytes of the chunk the
    /// event was about (the machine never holds body bytes, so a chunk goes from the
    /// application's memory to the connection's buffer with one copy; issue 14), then
    /// `trailer`.
    struct Output {
        /// Bytes for the wire before the payload: the head, a chunk-size line, a whole page.
        var bytes: [UInt8] = []
        /// How many of the chunk's bytes go on the wire after `bytes`.
        var payload = 0
        /// Bytes for the wire after the payload (a chunked body's "\r\n").
        var trailer: [UInt8] = []
        /// Contract breaches to report.
        var violations: [Violation] = []
        /// Set when the response is over.
        var ending: ResponseEnding?
        /// The head that went on the wire with these bytes, if it did.
        var sentHead: [UInt8]?
        /// The body went past the application's Content-Length: write() fails and the
        /// iterable is not asked for more (PEP 3333, "Handling the Content-Length Header").
        var exceeded = false
        /// The body of a response the server made itself (an error page), for the record.
        var serverBody: [UInt8]?

        /// How many bytes go on the wire in all.
        var wireCount: Int { bytes.count + payload + trailer.count }
    }

    private(set) var state: ResponseState = .awaitingStartResponse
    let request: Request
    /// Adds the Date and Server headers' values.
    let serverHeader: String
    let date: () -> String
    /// Whether the server is closing connections: then no response keeps one alive.
    let serverClosing: () -> Bool

    init(
        request: Request, serverHeader: String = "devserve/\(DevServeVersion.current)", date: @escaping @Sendable () -> String = HTTPDate.now,
        serverClosing: @escaping @Sendable () -> Bool = { false }
    ) {
        self.request = request
        self.serverHeader = serverHeader
        self.date = date
        self.serverClosing = serverClosing
    }

    /// Whether this response may leave the connection open: the client wants it, the head
    /// said so (decided once, when it was sent), and the server is not closing.
    private var keepsAlive = true

    /// Whether anything has been put on the wire for this response (a final status).
    var hasSentHead: Bool {
        switch state {
        case .awaitingStartResponse, .staged: return false
        case .sending, .finished, .aborted: return true
        }
    }

    // MARK: start_response

    /// start_response(status, headers, exc_info).
    /// - Returns: a devserve_result code, and violations to report.
    mutating func startResponse<Name: Collection<UInt8>, Value: Collection<UInt8>>(
        status: some Collection<UInt8>, headers: some Collection<(name: Name, value: Value)>, hasExcInfo: Bool
    ) -> (result: devserve_result, badHeader: Int?, violations: [Violation]) {
        switch state {
        case .awaitingStartResponse:
            break
        case .staged:
            guard hasExcInfo else {
                return (DEVSERVE_ALREADY_STARTED, nil, [Violation(.startResponseTwice, "start_response called a second time without exc_info; the second call was refused")])
            }
        case .sending:
            guard hasExcInfo else {
                return (DEVSERVE_ALREADY_STARTED, nil, [Violation(.startResponseTwice, "start_response called again after the headers were sent, without exc_info")])
            }
            // PEP 3333: with exc_info after the headers were sent, start_response re-raises.
            return (DEVSERVE_HEADERS_ALREADY_SENT, nil, [])
        case .finished, .aborted:
            return (DEVSERVE_REQUEST_ENDED, nil, [Violation(.iterationAfterClose, "start_response called after the response ended")])
        }
        let validation = ResponseHead.validate(status: status, headers: headers)
        guard let head = validation.head else { return (DEVSERVE_INVALID_STATUS, nil, validation.violations) }
        state = .staged(head)
        return (validation.firstBadHeader == nil ? DEVSERVE_OK : DEVSERVE_INVALID_HEADER, validation.firstBadHeader, validation.violations)
    }

    // MARK: Body

    /// A chunk of `count` bytes from the iterable (`fromWrite` false) or from write() (true).
    /// - Parameter knownTotalLength: the whole body's length when it is known before it is
    ///   sent (a one-chunk iterable, a regular file), so Content-Length can be computed
    ///   without holding anything back.
    mutating func chunk(count: Int, fromWrite: Bool, knownTotalLength: Int? = nil) -> Output {
        switch state {
        case .awaitingStartResponse:
            guard count > 0 else { return Output() }
            if fromWrite {
                return Output(violations: [Violation(.writeBeforeStartResponse, "write() called before start_response; the data was refused")])
            }
            var output = fail(message: "the application's body produced data before it called start_response")
            output.violations.insert(Violation(.bodyBeforeStartResponse, "the body produced \(count) bytes before start_response was called"), at: 0)
            return output
        case .staged(let head):
            guard count > 0 else { return Output() }
            let framing = framing(for: head, knownLength: knownTotalLength)
            let headBytes = serialize(head, framing: framing)
            state = .sending(head, framing: framing, sent: 0)
            var output = body(count: count)
            output.bytes = headBytes + output.bytes
            output.sentHead = headBytes
            return output
        case .sending:
            return body(count: count)
        case .finished, .aborted:
            return Output()
        }
    }

    /// Frames `count` body bytes for the wire, enforcing Content-Length and no-body statuses.
    private mutating func body(count: Int) -> Output {
        guard case .sending(let head, let framing, let sent) = state, count > 0 else { return Output() }
        var output = Output()
        if !head.allowsBody {
            if sent == 0 {
                output.violations.append(Violation(.bodyNotAllowed, "a \(head.code) response has no body; \(count) bytes dropped"))
            }
            state = .sending(head, framing: framing, sent: sent + count)
            return output
        }
        var payload = count
        if case .contentLength(let length) = framing, sent + count > length {
            payload = max(0, length - sent)
            output.exceeded = true
            if sent <= length {
                output.violations.append(Violation(.contentLengthExceeded, "the body went past Content-Length \(length); the excess was not sent"))
            }
        }
        state = .sending(head, framing: framing, sent: sent + count)
        guard !request.isHead, payload > 0 else { return output }
        switch framing {
        case .chunked:
            output.bytes = Array(String(payload, radix: 16).utf8) + [13, 10]
            output.payload = payload
            output.trailer = [13, 10]
        case .contentLength, .closeDelimited:
            output.payload = payload
        case .none:
            break
        }
        return output
    }

    /// A whole file body of `length` bytes about to be sent by the transport (sendfile): the
    /// head goes out now, framed by that length. Nil when the file cannot be sent as it is
    /// (HEAD, a status without body, or an application Content-Length that differs, whose
    /// short or long body the chunk path reports).
    mutating func fileBody(length: Int) -> Output? {
        guard case .staged(let head) = state, head.allowsBody, !request.isHead, length > 0 else { return nil }
        let framing = framing(for: head, knownLength: length)
        guard framing == .contentLength(length) else { return nil }
        let headBytes = serialize(head, framing: framing)
        state = .sending(head, framing: framing, sent: length)
        return Output(bytes: headBytes, sentHead: headBytes)
    }

    // MARK: End

    /// The iterable is exhausted (and write() will not be called again).
    mutating func end() -> Output {
        switch state {
        case .awaitingStartResponse:
            var output = fail(message: "the application returned without calling start_response")
            output.violations.insert(Violation(.noStartResponse, "the application returned without calling start_response"), at: 0)
            return output
        case .staged(let head):
            // An empty body: the head goes out now.
            let framing = framing(for: head, knownLength: 0)
            let headBytes = serialize(head, framing: framing)
            state = .sending(head, framing: framing, sent: 0)
            var output = end()
            output.bytes = headBytes + output.bytes
            output.sentHead = headBytes
            return output
        case .sending(let head, let framing, let sent):
            switch framing {
            case .contentLength(let length) where sent < length && head.allowsBody && !request.isHead:
                state = .aborted
                return Output(violations: [Violation(.contentLengthShort, "the body ended after \(sent) of the \(length) bytes its Content-Length promised; connection closed")], ending: .abort)
            case .chunked:
                state = .finished
                return Output(bytes: request.isHead ? [] : Array("0\r\n\r\n".utf8), ending: keepAliveEnding)
            case .closeDelimited:
                state = .finished
                return Output(ending: .close)
            case .contentLength, .none:
                state = .finished
                return Output(ending: keepAliveEnding)
            }
        case .finished:
            return Output(ending: keepAliveEnding)
        case .aborted:
            return Output(ending: .abort)
        }
    }

    /// The application raised (or broke the contract so that no valid response can follow).
    /// Before anything was sent: a 500. After: the response is aborted.
    /// - Parameter status: the status to answer with; a request body the client broke is its
    ///   fault (400, 413), not the application's (500).
    mutating func fail(message: String, status: (code: Int, reason: String) = (500, "Internal Server Error")) -> Output {
        switch state {
        case .awaitingStartResponse, .staged:
            let text = status.code == 500 ? "The application failed: \(message)" : "The request body could not be read: \(message)"
            let body = Array("\(status.reason)\n\n\(text)\n(devserve development server)\n".utf8)
            let head = ResponseHead(
                code: status.code, status: Array("\(status.code) \(status.reason)".utf8),
                headers: [("Content-Type", Array("text/plain; charset=utf-8".utf8))], contentLength: nil)
            let framing = Framing.contentLength(body.count)
            let headBytes = serialize(head, framing: framing, closing: status.code != 500)
            state = .finished
            // After a broken request body the connection cannot be trusted to line up.
            let ending = status.code == 500 ? keepAliveEnding : .close
            var output = Output(bytes: headBytes + (request.isHead ? [] : body), sentHead: headBytes).ending(ending)
            output.serverBody = request.isHead ? [] : body
            return output
        case .sending:
            state = .aborted
            return Output(ending: .abort)
        case .finished, .aborted:
            return Output()
        }
    }

    /// The client went away: nothing more can be sent.
    mutating func clientGone() {
        state = .aborted
    }

    // MARK: Framing and serialization

    private var keepAliveEnding: ResponseEnding { request.wantsKeepAlive && keepsAlive ? .keepAlive : .close }

    /// Chooses the framing, once, when the head is about to be sent.
    private func framing(for head: ResponseHead, knownLength: Int?) -> Framing {
        if !head.allowsBody { return .none }
        if let length = head.contentLength { return .contentLength(length) }
        if let knownLength { return .contentLength(knownLength) }
        if request.version == .http1_0 { return .closeDelimited }
        return .chunked
    }

    /// The status line and headers, with the server's own: Date and Server when the
    /// application did not set them, the framing header, and Connection when it is not the
    /// version's default.
    private mutating func serialize(_ head: ResponseHead, framing: Framing, closing: Bool = false) -> [UInt8] {
        if serverClosing() { keepsAlive = false }
        // Appended in place: no temporary array per header (issue 14).
        var bytes: [UInt8] = []
        bytes.reserveCapacity(256)
        bytes.append(contentsOf: "HTTP/1.1 ".utf8)
        bytes.append(contentsOf: head.status)
        bytes.append(contentsOf: [13, 10] as [UInt8])
        func add(_ name: String, _ value: some Sequence<UInt8>) {
            bytes.append(contentsOf: name.utf8)
            bytes.append(58)
            bytes.append(32)
            bytes.append(contentsOf: value)
            bytes.append(13)
            bytes.append(10)
        }
        // RFC 9110 section 8.6: no Content-Length in a 204 (the application's "0" included).
        for header in head.headers where head.code != 204 || !header.name.equalsIgnoringASCIICase("content-length") { add(header.name, header.value) }
        if !head.has("date") { add("Date", date().utf8) }
        if !head.has("server") { add("Server", serverHeader.utf8) }
        switch framing {
        case .contentLength(let length) where head.contentLength == nil:
            add("Content-Length", String(length).utf8)
        case .chunked:
            add("Transfer-Encoding", "chunked".utf8)
        default:
            break
        }
        let keepAlive = request.wantsKeepAlive && framing != .closeDelimited && !closing && keepsAlive
        if !keepAlive && request.version != .http1_0 {
            add("Connection", "close".utf8)
        } else if keepAlive && request.version == .http1_0 {
            add("Connection", "keep-alive".utf8)
        }
        bytes.append(13)
        bytes.append(10)
        return bytes
    }
}

extension ResponseStateMachine.Output {
    fileprivate func ending(_ ending: ResponseEnding) -> Self {
        var copy = self
        copy.ending = ending
        return copy
    }
}
