import CDevServeShim
import NIOCore

/// The request side of HTTP/1.1 (RFC 9112) as a state machine: the connection's bytes in,
/// request heads, body parts and ends out, or the refusal the bytes deserve. It knows nothing
/// of channels, applications or timers (the connection handler does).
///
/// It replaces NIO's HTTP decoder and the guard that sat before it (issue 14): parsing a head
/// there cost 11% of a hello request's worker CPU (llhttp's callbacks, an `HTTPHeaders` and a
/// head object, then a conversion into ``RequestHead``), and what the decoder did not check
/// (the request line's own limit, bare LF, HTTP/0.9, header values that are not UTF-8) needed
/// a second look at the same bytes. Here a head is read once, from the bytes as they arrived,
/// straight into a ``RequestHead``; body parts are slices of the read (no copy).
///
/// A head split over several reads is kept until it is whole and parsed again only when a
/// read brings a line end (or enough bytes to break a limit), so a client trickling its head
/// a byte at a time costs a parse per line, not per byte. After a refusal the parser is done:
/// nothing after bad bytes is read as a request (no smuggling).
struct HTTPRequestParser {
    enum Event {
        case head(RequestHead)
        /// Part of the current request's body, as it arrived (chunk framing removed).
        case body(ByteBuffer)
        /// The current request's body is complete (at once for a request without one).
        case end
        /// The bytes are not a request this server reads; the connection must close.
        case refused(ErrorResponse)
    }

    private enum State {
        /// Between requests, or in a head not yet complete.
        case head
        /// A body of known length (RFC 9112 section 6.3, Content-Length); 0 ends at once.
        case fixed(remaining: Int)
        /// A chunked body (RFC 9112 section 7.1): the chunk-size line.
        case chunkSize
        case chunkData(remaining: Int)
        /// The CR LF after a chunk's data.
        case chunkDataEnd
        /// The trailer section after the last chunk (fields read and ignored), so far `seen` bytes.
        case trailers(seen: Int)
        case done
    }

    /// Longest chunk-size line, extensions included.
    static let maxChunkLine = 4096

    private let limits: HTTPLimits
    private var state = State.head
    /// Bytes read and not yet parsed: the latest read itself (shared, not copied) unless part
    /// of a head was left over from an earlier one.
    private var input = ByteBuffer()
    /// Whether `input` may hold a complete head (or enough to refuse one): a line ended, or
    /// bytes arrived that break a limit, since the last attempt.
    private var worthParsing = false
    /// Bytes since the last LF of the head being read.
    private var sinceLineEnd = 0
    /// The bytes of the head parsed (or refused) last, until the caller moves on; the record
    /// of a refused request shows them.
    private var lastHead: ByteBuffer?

    init(limits: HTTPLimits) {
        self.limits = limits
    }

    /// Whether the parser is between requests or reading a head (the head timer runs then).
    var isReadingHead: Bool { if case .head = state { return true } else { return false } }

    /// Whether bytes of a head not yet complete have arrived.
    var hasPartialHead: Bool { isReadingHead && input.readableBytes > 0 }

    /// Adds the bytes of one read. Then call ``next()`` until it returns nil.
    mutating func feed(_ buffer: ByteBuffer) {
        lastHead = nil
        if case .done = state { return }
        if isReadingHead {
            buffer.withUnsafeReadableBytes { bytes in
                // memrchr, not a loop: the read that brings a head usually brings body bytes
                // too, and a body without a line end near its end (a 1 MiB upload of one
                // character) was searched a byte at a time, 18 µs of each upload (issue 14).
                let lineEnd = bytes.isEmpty ? -1 : devserve_shim_last_index(bytes.baseAddress, bytes.count, 10)
                if lineEnd >= 0 {
                    worthParsing = true
                    sinceLineEnd = bytes.count - lineEnd - 1
                } else {
                    sinceLineEnd += bytes.count
                }
            }
            if input.readableBytes + buffer.readableBytes <= 256 || sinceLineEnd > min(limits.maxRequestLine, limits.maxHeaderField) {
                // A short head is parsed at once (garbage is refused before a line end); a line
                // over the limits is refused as soon as it is.
                worthParsing = true
            }
        }
        if input.readableBytes == 0 {
            input = buffer
        } else {
            var buffer = buffer
            input.writeBuffer(&buffer)
        }
    }

    /// The next event from the bytes fed so far, or nil when more bytes are needed.
    mutating func next() -> Event? {
        // The caller is done with the last event: let go of the head's bytes, which share the
        // read's storage.
        lastHead = nil
        let event = step()
        if event == nil, input.readableBytes == 0 {
            // Let go of the read's storage: NIO reuses a receive buffer only when no one else holds it.
            input = ByteBuffer()
        }
        return event
    }

    /// The bytes of the head being read, or of the head just parsed or refused, at most `limit`.
    func headBytes(limit: Int) -> [UInt8] {
        if let lastHead { return Array(lastHead.readableBytesView.prefix(limit)) }
        guard isReadingHead else { return [] }
        return Array(input.readableBytesView.prefix(limit))
    }

    private mutating func step() -> Event? {
        switch state {
        case .done:
            return nil
        case .head:
            guard worthParsing, input.readableBytes > 0 else { return nil }
            return parseHead()
        case .fixed(let remaining):
            if remaining == 0 {
                state = .head
                worthParsing = true
                return .end
            }
            guard input.readableBytes > 0 else { return nil }
            let count = min(remaining, input.readableBytes)
            state = .fixed(remaining: remaining - count)
            return .body(input.readSlice(length: count)!)
        case .chunkSize:
            return parseChunkSize()
        case .chunkData(let remaining):
            guard input.readableBytes > 0 else { return nil }
            let count = min(remaining, input.readableBytes)
            state = remaining == count ? .chunkDataEnd : .chunkData(remaining: remaining - count)
            return .body(input.readSlice(length: count)!)
        case .chunkDataEnd:
            guard input.readableBytes >= 2 else {
                if input.readableBytes == 1 && input.readableBytesView.first != 13 { return refuse(.badRequest("a chunk's data is not followed by CR LF")) }
                return nil
            }
            guard input.readInteger(as: UInt16.self) == 0x0D0A else { return refuse(.badRequest("a chunk's data is not followed by CR LF: the chunk size was wrong")) }
            state = .chunkSize
            return step()
        case .trailers(let seen):
            return parseTrailers(seen: seen)
        }
    }

    private mutating func refuse(_ response: ErrorResponse) -> Event {
        state = .done
        return .refused(response)
    }

    // MARK: The head (RFC 9112 sections 2-5)

    private enum HeadOutcome {
        case incomplete
        case complete(RequestHead, consumed: Int)
        case refused(ErrorResponse)
    }

    private mutating func parseHead() -> Event? {
        // RFC 9112 section 2.2: empty lines before a request line are ignored (and dropped, so
        // that a client sending nothing else cannot make each parse longer).
        let leading = input.withUnsafeReadableBytes { bytes in bytes.firstIndex { $0 != 13 && $0 != 10 } ?? bytes.count }
        if leading > 0 { input.moveReaderIndex(forwardBy: leading) }
        guard input.readableBytes > 0 else {
            worthParsing = false
            sinceLineEnd = 0
            return nil
        }
        let outcome = input.withUnsafeReadableBytes { Self.parseHeadBytes($0, limits: limits) }
        switch outcome {
        case .incomplete:
            worthParsing = false
            return nil
        case .refused(let response):
            lastHead = input
            return refuse(response)
        case .complete(let head, let consumed):
            lastHead = input.readSlice(length: consumed)
            worthParsing = false
            sinceLineEnd = 0
            switch Self.framing(of: head) {
            case .failure(let response):
                return refuse(response)
            case .success(nil):
                state = .chunkSize
            case .success(let length?):
                state = .fixed(remaining: length)
            }
            return .head(head)
        }
    }

    /// How the body's length is known (RFC 9112 section 6.3): nil for chunked, else the
    /// Content-Length (0 without one). Differing or malformed lengths, and a length beside
    /// Transfer-Encoding, are refused: either could make two servers see different requests.
    private static func framing(of head: RequestHead) -> Result<Int?, ErrorResponse> {
        var length: Int?
        var chunked = false
        for field in head.headers {
            if field.name.equalsIgnoringASCIICase("transfer-encoding") {
                chunked = true
            } else if field.name.equalsIgnoringASCIICase("content-length") {
                for item in field.value.split(separator: ",", omittingEmptySubsequences: false) {
                    // 1*DIGIT: Int alone would take "+3".
                    let digits = item.trimmingWhitespace()
                    guard digits.utf8.count <= 18, digits.utf8.allSatisfy({ (48...57).contains($0) }), let value = Int(digits) else {
                        return .failure(.badRequest("Content-Length \(field.value) is not a number"))
                    }
                    if let length, length != value { return .failure(.badRequest("the request has differing Content-Length values")) }
                    length = value
                }
            }
        }
        if chunked && length != nil { return .failure(.badRequest("the request has both Content-Length and Transfer-Encoding")) }
        return .success(chunked ? nil : (length ?? 0))
    }

    /// Parses a head at the start of `bytes` (no leading empty lines): the request line, the
    /// fields and the empty line after them.
    private static func parseHeadBytes(_ bytes: UnsafeRawBufferPointer, limits: HTTPLimits) -> HeadOutcome {
        let count = bytes.count
        // Built only when refused: a message per parse was two allocations per request.
        var tooLong: HeadOutcome { .refused(.uriTooLong("the request line is longer than \(limits.maxRequestLine) octets")) }
        var index = 0
        // method SP request-target SP HTTP-version CRLF (RFC 9112 section 3)
        while index < count && HTTPToken.isTokenByte(bytes[index]) { index += 1 }
        guard index < count else { return index > limits.maxRequestLine ? tooLong : .incomplete }
        guard index > 0, bytes[index] == 32 else { return .refused(.badRequest("malformed request line: the method is not a token followed by one space")) }
        let methodEnd = index
        index += 1
        let targetStart = index
        while index < count, bytes[index] > 32, bytes[index] != 127 { index += 1 }
        guard index < count else { return index > limits.maxRequestLine ? tooLong : .incomplete }
        if bytes[index] == 13 || bytes[index] == 10 {
            if index - targetStart > limits.maxRequestLine { return tooLong }
            return .refused(.badRequest("the request line has no HTTP version (HTTP/0.9 is not supported)"))
        }
        guard bytes[index] == 32, index > targetStart else { return .refused(.badRequest("malformed request line: the target has a control character or an extra space")) }
        let targetEnd = index
        index += 1
        let versionStart = index
        while index < count, bytes[index] != 10 { index += 1 }
        guard index < count else { return index > limits.maxRequestLine ? tooLong : .incomplete }
        guard index > versionStart, bytes[index - 1] == 13 else {
            // RFC 9112 section 2.2 lets a recipient accept a bare LF or answer 400.
            return .refused(.badRequest("the request line ends with a bare LF: HTTP/1.1 lines end with CR LF"))
        }
        if index - 1 > limits.maxRequestLine { return tooLong }
        guard let version = parseVersion(UnsafeRawBufferPointer(rebasing: bytes[versionStart..<(index - 1)])) else {
            return .refused(.badRequest("malformed request line: the version is not HTTP/<digit>.<digit>"))
        }
        guard version.major == 1 else { return .refused(.versionNotSupported("\(version) is not supported; devserve speaks HTTP/1.0 and HTTP/1.1")) }
        index += 1

        // *( field-line CRLF ) CRLF (RFC 9112 section 5)
        let blockStart = index
        var fieldsTooLarge: HeadOutcome {
            .refused(.headersTooLarge(
                "the request head is over the limits: \(limits.maxHeaderCount) fields, \(limits.maxHeaderField) bytes each, \(limits.maxHeaderBlock) bytes in all"))
        }
        var headers: [(name: String, value: String)] = []
        var rawValues: [Int: [UInt8]] = [:]
        while true {
            if index - blockStart > limits.maxHeaderBlock { return fieldsTooLarge }
            guard index < count else { return .incomplete }
            let lineStart = index
            switch bytes[index] {
            case 13:
                guard index + 1 < count else { return .incomplete }
                guard bytes[index + 1] == 10 else { return .refused(.badRequest("a bare CR in the request head")) }
                var head = RequestHead(
                    method: String(decoding: UnsafeRawBufferPointer(rebasing: bytes[0..<methodEnd]), as: UTF8.self),
                    target: String(decoding: UnsafeRawBufferPointer(rebasing: bytes[targetStart..<targetEnd]), as: UTF8.self),
                    version: version, headers: headers)
                head.rawValues = rawValues
                return .complete(head, consumed: index + 2)
            case 10:
                return .refused(.badRequest("a header line ends with a bare LF: HTTP/1.1 lines end with CR LF"))
            case 32, 9:
                // RFC 9112 section 5.2: obs-fold (or whitespace before the first field) is refused.
                return .refused(.badRequest("a header line starts with whitespace (obsolete line folding)"))
            default:
                break
            }
            while index < count && HTTPToken.isTokenByte(bytes[index]) { index += 1 }
            guard index < count else { return index - lineStart > limits.maxHeaderField ? fieldsTooLarge : .incomplete }
            // RFC 9112 section 5.1: no whitespace between the field name and the colon.
            guard index > lineStart, bytes[index] == UInt8(ascii: ":") else { return .refused(.badRequest("malformed header line: the name is not a token followed by a colon")) }
            let nameEnd = index
            index += 1
            while index < count, bytes[index] == 32 || bytes[index] == 9 { index += 1 }
            let valueStart = index
            var highBit = false
            while index < count {
                let byte = bytes[index]
                if byte == 13 { break }
                if byte < 32 && byte != 9 || byte == 127 {
                    return .refused(.badRequest(byte == 10 ? "a header line ends with a bare LF: HTTP/1.1 lines end with CR LF" : "a header value has a control character (0x\(String(byte, radix: 16)))"))
                }
                highBit = highBit || byte >= 128
                index += 1
            }
            if index - lineStart > limits.maxHeaderField { return fieldsTooLarge }
            guard index + 1 < count else { return .incomplete }
            guard bytes[index + 1] == 10 else { return .refused(.badRequest("a bare CR in the request head")) }
            var valueEnd = index
            while valueEnd > valueStart, bytes[valueEnd - 1] == 32 || bytes[valueEnd - 1] == 9 { valueEnd -= 1 }
            index += 2
            guard headers.count < limits.maxHeaderCount else { return fieldsTooLarge }
            let name = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[lineStart..<nameEnd]), as: UTF8.self)
            let valueBytes = UnsafeRawBufferPointer(rebasing: bytes[valueStart..<valueEnd])
            if highBit, String(validating: valueBytes, as: UTF8.self) == nil {
                // Not UTF-8: the String shows U+FFFD, the environ gets the client's bytes (PEP
                // 3333 reads them as Latin-1).
                rawValues[headers.count] = Array(valueBytes)
            }
            headers.append((name: name, value: String(decoding: valueBytes, as: UTF8.self)))
        }
    }

    /// "HTTP/" DIGIT "." DIGIT (RFC 9112 section 2.3).
    private static func parseVersion(_ bytes: UnsafeRawBufferPointer) -> HTTPVersion? {
        guard bytes.count == 8, bytes[0] == 72, bytes[1] == 84, bytes[2] == 84, bytes[3] == 80, bytes[4] == 47, bytes[6] == 46 else { return nil }
        let major = bytes[5], minor = bytes[7]
        guard (48...57).contains(major), (48...57).contains(minor) else { return nil }
        return HTTPVersion(major: Int(major - 48), minor: Int(minor - 48))
    }

    // MARK: Chunked bodies (RFC 9112 section 7.1)

    private mutating func parseChunkSize() -> Event? {
        let line = input.withUnsafeReadableBytes { bytes -> Result<(size: Int, consumed: Int)?, ErrorResponse> in
            guard let lineEnd = bytes.firstIndex(of: 10) else {
                return bytes.count > Self.maxChunkLine ? .failure(.badRequest("a chunk-size line longer than \(Self.maxChunkLine) bytes")) : .success(nil)
            }
            guard lineEnd > 0, bytes[lineEnd - 1] == 13 else { return .failure(.badRequest("a chunk-size line ends with a bare LF")) }
            var size = 0
            var index = 0
            while index < lineEnd - 1, let digit = Self.hexValue(bytes[index]) {
                guard index < 15 else { return .failure(.badRequest("a chunk size too large")) }
                size = size << 4 | digit
                index += 1
            }
            guard index > 0 else { return .failure(.badRequest("an invalid chunk size")) }
            // chunk-ext: BWS ";" ... ; ignored, but nothing else may follow the size.
            var rest = index
            while rest < lineEnd - 1, bytes[rest] == 32 || bytes[rest] == 9 { rest += 1 }
            if rest < lineEnd - 1 {
                guard bytes[rest] == UInt8(ascii: ";") else { return .failure(.badRequest("an invalid chunk size")) }
                for byte in bytes[rest..<(lineEnd - 1)] where byte < 32 && byte != 9 || byte == 127 {
                    return .failure(.badRequest("a control character in a chunk extension"))
                }
            }
            return .success((size, lineEnd + 1))
        }
        switch line {
        case .failure(let response):
            return refuse(response)
        case .success(nil):
            return nil
        case .success(let (size, consumed)?):
            input.moveReaderIndex(forwardBy: consumed)
            state = size == 0 ? .trailers(seen: 0) : .chunkData(remaining: size)
            return step()
        }
    }

    /// Trailer fields after the last chunk: read and ignored (RFC 9112 section 7.1.2 lets a
    /// server discard them), up to the empty line that ends the request.
    private mutating func parseTrailers(seen: Int) -> Event? {
        var seen = seen
        while true {
            let line = input.withUnsafeReadableBytes { bytes -> Result<Int?, ErrorResponse> in
                guard let lineEnd = bytes.firstIndex(of: 10) else { return .success(nil) }
                guard lineEnd > 0, bytes[lineEnd - 1] == 13 else { return .failure(.badRequest("a trailer line ends with a bare LF")) }
                return .success(lineEnd + 1)
            }
            switch line {
            case .failure(let response):
                return refuse(response)
            case .success(nil):
                if seen + input.readableBytes > limits.maxHeaderBlock { return refuse(.headersTooLarge("the request's trailer section is larger than \(limits.maxHeaderBlock) bytes")) }
                state = .trailers(seen: seen)
                return nil
            case .success(let length?):
                input.moveReaderIndex(forwardBy: length)
                if length == 2 {
                    state = .head
                    worthParsing = true
                    return .end
                }
                seen += length
                if seen > limits.maxHeaderBlock { return refuse(.headersTooLarge("the request's trailer section is larger than \(limits.maxHeaderBlock) bytes")) }
            }
        }
    }

    @inline(__always)
    private static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case 48...57: return Int(byte - 48)
        case 65...70: return Int(byte - 55)
        case 97...102: return Int(byte - 87)
        default: return nil
        }
    }
}
