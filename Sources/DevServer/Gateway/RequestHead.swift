/// A parsed HTTP request head, as the transport's parser produced it.
public struct RequestHead: Sendable {
    /// The method, e.g. "GET".
    public var method: String
    /// The request-target exactly as sent: origin-form ("/a?b"), absolute-form, or "*".
    public var target: String
    /// The protocol version.
    public var version: HTTPVersion
    /// The header fields in order, names as sent.
    public var headers: [(name: String, value: String)]
    /// The bytes of header values that are not UTF-8, by index in `headers` (whose String
    /// shows them as U+FFFD): the environ passes the client's bytes on unchanged (PEP 3333
    /// reads them as Latin-1).
    public var rawValues: [Int: [UInt8]] = [:]

    /// The value of header `index` as the client sent it.
    public func valueBytes(_ index: Int) -> [UInt8] { rawValues[index] ?? Array(headers[index].value.utf8) }

    public init(method: String, target: String, version: HTTPVersion = .http1_1, headers: [(name: String, value: String)] = []) {
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
    }

    /// The values of header `name` (case-insensitive), in order.
    public func values(_ name: String) -> [String] {
        // One pass, and no allocation when the header is absent (asked 3-4 times a request).
        var result: [String] = []
        for header in headers where header.name.equalsIgnoringASCIICase(name) { result.append(header.value) }
        return result
    }

    /// How many times header `name` (case-insensitive) is present.
    public func count(of name: String) -> Int {
        var count = 0
        for header in headers where header.name.equalsIgnoringASCIICase(name) { count += 1 }
        return count
    }

    /// Whether header `name` (case-insensitive) is present.
    public func contains(_ name: String) -> Bool {
        headers.contains { $0.name.equalsIgnoringASCIICase(name) }
    }

    /// Whether the connection may stay open after this request, by RFC 9112 section 9.3:
    /// HTTP/1.1 unless "Connection: close"; HTTP/1.0 only with "Connection: keep-alive".
    public var wantsKeepAlive: Bool {
        let tokens = values("connection").flatMap { $0.split(separator: ",") }.map { $0.trimmingWhitespace() }
        if tokens.contains(where: { $0.equalsIgnoringASCIICase("close") }) { return false }
        if version == .http1_0 { return tokens.contains { $0.equalsIgnoringASCIICase("keep-alive") } }
        return version.major == 1
    }

    /// The body's length from Content-Length (RFC 9112 section 6.3), when it is a number.
    public var contentLength: Int? {
        values("content-length").first.flatMap { Int($0.trimmingWhitespace()) }
    }

    /// Whether the client sent "Expect: 100-continue".
    public var expectsContinue: Bool {
        values("expect").contains { $0.trimmingWhitespace().equalsIgnoringASCIICase("100-continue") }
    }
}

/// An HTTP protocol version.
public struct HTTPVersion: Sendable, Equatable, CustomStringConvertible {
    public var major: Int
    public var minor: Int

    public init(major: Int, minor: Int) {
        self.major = major
        self.minor = minor
    }

    public static let http1_0 = HTTPVersion(major: 1, minor: 0)
    public static let http1_1 = HTTPVersion(major: 1, minor: 1)

    /// "HTTP/1.1"
    public var description: String {
        // Literals for the two versions served (asked several times a request).
        switch (major, minor) {
        case (1, 1): return "HTTP/1.1"
        case (1, 0): return "HTTP/1.0"
        default: return "HTTP/\(major).\(minor)"
        }
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces and tabs (HTTP's OWS).
    public func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
