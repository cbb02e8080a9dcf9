#if canImport(Glibc)
import Glibc
#endif

/// Sends one raw request on a new connection and reads the response: what replay and
/// `devserve replay --har` use. Blocking, bounded by a timeout, 127.0.0.1 or any host:port.
public struct ReplayClient: Sendable {
    /// What came back.
    public struct Response: Sendable, Equatable {
        public var status: Int
        public var reason: String
        public var headers: [HeaderField]
        public var body: [UInt8]
        /// Microseconds from connecting to the last byte.
        public var duration: Int
    }

    public struct Failure: Error, CustomStringConvertible, Equatable {
        public let description: String
    }

    public var host: String
    public var port: Int
    public var timeout: Double

    public init(host: String, port: Int, timeout: Double = 30) {
        self.host = host
        self.port = port
        self.timeout = timeout
    }

    /// A client for `url` ("http://host:port/..."), or nil when it is not an http URL.
    public init?(url: String, timeout: Double = 30) {
        guard url.hasPrefix("http://") else { return nil }
        let rest = url.dropFirst("http://".count)
        let authority = rest.split(separator: "/", maxSplits: 1).first.map(String.init) ?? ""
        var host = authority
        var port = 80
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            if let colon = authority[close...].firstIndex(of: ":") { port = Int(authority[authority.index(after: colon)...]) ?? 80 }
        } else if let colon = authority.lastIndex(of: ":") {
            host = String(authority[..<colon])
            port = Int(authority[authority.index(after: colon)...]) ?? 80
        }
        self.init(host: host == "localhost" ? "127.0.0.1" : host, port: port, timeout: timeout)
    }

    /// Connects, calls `connected` with the local "address:port" (so the recorder can link the
    /// request to what it replays before the server sees it), sends, reads the response.
    public func send(_ request: RawRequest, connected: (String) -> Void = { _ in }) throws -> Response {
        let start = MonotonicClock.now()
        let descriptor = try connect()
        defer { close(descriptor) }
        connected(Self.localAddress(descriptor))
        var bytes = request.bytes
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { Glibc.send(descriptor, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { throw Failure(description: "the server closed the connection while the request was sent (\(CText.errorText(errno)))") }
            offset += written
        }
        var parser = ResponseParser(isHead: request.method == "HEAD")
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            if let response = try parser.response() {
                return Response(status: response.status, reason: response.reason, headers: response.headers, body: response.body, duration: MonotonicClock.now() - start)
            }
            let count = recv(descriptor, &buffer, buffer.count, 0)
            if count < 0 && errno == EINTR { continue }
            if count < 0 { throw Failure(description: errno == EAGAIN ? "no response within \(Int(timeout)) s" : "reading the response: \(CText.errorText(errno))") }
            if count == 0 {
                guard let response = try parser.finish() else { throw Failure(description: "the server closed the connection without a complete response") }
                return Response(status: response.status, reason: response.reason, headers: response.headers, body: response.body, duration: MonotonicClock.now() - start)
            }
            parser.feed(buffer[0..<count])
        }
    }

    private func connect() throws -> Int32 {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var results: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &results) == 0, let first = results else {
            throw Failure(description: "cannot resolve \(host)")
        }
        defer { freeaddrinfo(results) }
        var lastError: Int32 = 0
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let current = entry {
            let descriptor = socket(current.pointee.ai_family, current.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), current.pointee.ai_protocol)
            if descriptor >= 0 {
                var time = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1_000_000))
                setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
                setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
                if Glibc.connect(descriptor, current.pointee.ai_addr, current.pointee.ai_addrlen) == 0 { return descriptor }
                lastError = errno
                close(descriptor)
            }
            entry = current.pointee.ai_next
        }
        throw Failure(description: "cannot connect to \(host):\(port): \(CText.errorText(lastError))")
    }

    /// "127.0.0.1:54321", as the worker reports a client.
    static func localAddress(_ descriptor: Int32) -> String {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) } }
        var host = [CChar](repeating: 0, count: 128)
        var service = [CChar](repeating: 0, count: 32)
        _ = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                getnameinfo($0, length, &host, socklen_t(host.count), &service, socklen_t(service.count), NI_NUMERICHOST | NI_NUMERICSERV)
            }
        }
        let address = String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let port = String(decoding: service.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return "\(address):\(port)"
    }
}

/// An HTTP/1.1 response read incrementally: by Content-Length, chunked, or until close
/// (RFC 9112 §6.3).
struct ResponseParser {
    struct Parsed {
        var status: Int
        var reason: String
        var headers: [HeaderField]
        var body: [UInt8]
    }

    let isHead: Bool
    private var buffer: [UInt8] = []
    private var head: (status: Int, reason: String, headers: [HeaderField], bodyStart: Int)?

    init(isHead: Bool) { self.isHead = isHead }

    mutating func feed(_ bytes: ArraySlice<UInt8>) { buffer += bytes }

    /// The response, once complete; nil while more bytes are needed.
    mutating func response() throws -> Parsed? {
        if head == nil {
            guard let end = ByteSearch.first([13, 10, 13, 10], in: buffer) else { return nil }
            let lines = String(decoding: buffer[..<end], as: UTF8.self).split(separator: "\r\n", omittingEmptySubsequences: false)
            let statusLine = lines.first.map(String.init) ?? ""
            let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count >= 2, parts[0].hasPrefix("HTTP/"), let status = Int(parts[1]) else {
                throw ReplayClient.Failure(description: "not an HTTP response: \(statusLine.prefix(80).debugDescription)")
            }
            let headers = lines.dropFirst().compactMap { line -> HeaderField? in
                guard let colon = line.firstIndex(of: ":") else { return nil }
                return HeaderField(String(line[..<colon]), String(line[line.index(after: colon)...]).trimmingWhitespace())
            }
            head = (status, parts.count > 2 ? String(parts[2]) : "", headers, end + 4)
            // 1xx responses (100 Continue) come before the real one.
            if (100..<200).contains(status) {
                buffer.removeSubrange(..<(end + 4))
                head = nil
                return try response()
            }
        }
        guard let head else { return nil }
        let body = buffer[head.bodyStart...]
        let value = { (name: String) in head.headers.first { $0.name.lowercased() == name }?.value }
        if isHead || head.status == 204 || head.status == 304 {
            return Parsed(status: head.status, reason: head.reason, headers: head.headers, body: [])
        }
        if value("transfer-encoding")?.lowercased().contains("chunked") == true {
            guard let decoded = try Self.dechunk(Array(body)) else { return nil }
            return Parsed(status: head.status, reason: head.reason, headers: head.headers, body: decoded)
        }
        if let length = value("content-length").flatMap({ Int($0) }) {
            guard body.count >= length else { return nil }
            return Parsed(status: head.status, reason: head.reason, headers: head.headers, body: Array(body.prefix(length)))
        }
        return nil
    }

    /// At end of file: a body delimited by the close is complete now.
    mutating func finish() throws -> Parsed? {
        if head == nil, let complete = try response() { return complete }
        guard let head else { return nil }
        return Parsed(status: head.status, reason: head.reason, headers: head.headers, body: Array(buffer[head.bodyStart...]))
    }

    /// The decoded body once the last chunk arrived; nil before.
    static func dechunk(_ bytes: [UInt8]) throws -> [UInt8]? {
        var out: [UInt8] = []
        var index = 0
        while true {
            guard let lineEnd = ByteSearch.first([13, 10], in: bytes, from: index) else { return nil }
            let sizeText = String(decoding: bytes[index..<lineEnd], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeText.trimmingWhitespace(), radix: 16), size >= 0, size < 1 << 40 else {
                throw ReplayClient.Failure(description: "bad chunk size \(String(sizeText).debugDescription)")
            }
            let start = lineEnd + 2
            if size == 0 { return ByteSearch.first([13, 10, 13, 10], in: bytes, from: lineEnd) != nil || bytes.count >= start + 2 ? out : nil }
            guard bytes.count >= start + size + 2 else { return nil }
            out += bytes[start..<start + size]
            index = start + size + 2
        }
    }

}
