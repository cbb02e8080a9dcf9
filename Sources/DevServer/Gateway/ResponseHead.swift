/// A response status and headers as the application gave them, validated: PEP 3333, "The
/// start_response() Callable".
struct ResponseHead: Equatable {
    /// The status code, 200-599.
    let code: Int
    /// The whole status line after the version, e.g. "200 OK", as Latin-1 bytes.
    let status: [UInt8]
    /// Accepted headers, values in Latin-1 bytes.
    let headers: [(name: String, value: [UInt8])]
    /// The application's Content-Length, if it set a valid one.
    let contentLength: Int?

    static func == (lhs: ResponseHead, rhs: ResponseHead) -> Bool {
        lhs.status == rhs.status && lhs.headers.elementsEqual(rhs.headers) { $0.name == $1.name && $0.value == $1.value }
    }

    /// Whether the application set header `name` (case-insensitive).
    func has(_ name: String) -> Bool {
        headers.contains { $0.name.equalsIgnoringASCIICase(name) }
    }

    /// Whether responses with this status may have a body (RFC 9110 section 6.4.1).
    var allowsBody: Bool { code >= 200 && code != 204 && code != 304 }

    /// The outcome of validating start_response's arguments.
    struct Validation {
        var head: ResponseHead?
        var violations: [Violation]
        /// Index of the first refused header, if any.
        var firstBadHeader: Int?
    }

    /// Hop-by-hop headers: the server owns the connection (RFC 9110 section 7.6.1; PEP 3333).
    static let hopByHop: [String] = [
        "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer", "trailers",
        "transfer-encoding", "upgrade",
    ]

    /// Validates a status and headers. A malformed status refuses the whole call; an invalid
    /// header is dropped with a violation and the rest are kept.
    /// The bytes may be borrowed (the native ABI's, for the call): only what is kept is copied.
    static func validate<Name: Collection<UInt8>, Value: Collection<UInt8>>(
        status: some Collection<UInt8>, headers: some Collection<(name: Name, value: Value)>
    ) -> Validation {
        let status = Array(status)
        guard let code = parseStatus(status) else {
            let text = String(decoding: status, as: UTF8.self)
            return Validation(head: nil, violations: [Violation(.malformedStatus, "status \(String(reflecting: text)) is not \"NNN Reason\" with a code from 200 to 599 and no control characters")], firstBadHeader: nil)
        }
        // The same rule as header values: Latin-1 text, one byte per character on the wire.
        let statusBytes: [UInt8]
        switch Latin1.encode(utf8: status) {
        case .success(let bytes):
            statusBytes = bytes
        case .failure(let reason):
            let text = String(decoding: status, as: UTF8.self)
            return Validation(head: nil, violations: [Violation(.malformedStatus, "status \(String(reflecting: text)) \(reason)")], firstBadHeader: nil)
        }
        var accepted: [(name: String, value: [UInt8])] = []
        accepted.reserveCapacity(headers.count)
        var violations: [Violation] = []
        var firstBad: Int?
        var contentLength: Int?
        for (index, header) in headers.enumerated() {
            let name = String(decoding: header.name, as: UTF8.self)
            var problem: Violation?
            var latin1: [UInt8] = []
            if header.name.isEmpty || !header.name.allSatisfy(HTTPToken.isTokenByte) {
                problem = Violation(.invalidHeaderName, "header name \(String(reflecting: name)) is not an HTTP token; header dropped")
            } else if hopByHop.contains(where: { name.equalsIgnoringASCIICase($0) }) {
                problem = Violation(.hopByHopHeader, "\(name) is a hop-by-hop header: the server owns the connection; header dropped")
            } else {
                switch Latin1.encode(utf8: header.value) {
                case .success(let bytes):
                    latin1 = bytes
                    if let bad = bytes.first(where: { ($0 < 0x20 && $0 != 0x09) || $0 == 0x7F }) {
                        problem = Violation(.controlCharacterInHeaderValue, "\(name) value contains control character 0x\(String(bad, radix: 16, uppercase: true)) (CR or LF would inject headers); header dropped")
                    } else if name.equalsIgnoringASCIICase("content-length") {
                        let text = String(decoding: bytes, as: UTF8.self).trimmingWhitespace()
                        if let value = Int(text), value >= 0, text.allSatisfy(\.isASCII) {
                            contentLength = value
                        } else {
                            problem = Violation(.invalidContentLength, "Content-Length \(String(reflecting: text)) is not a non-negative integer; header dropped")
                        }
                    }
                case .failure(let reason):
                    problem = Violation(.nonLatin1HeaderValue, "\(name) value \(reason); header dropped")
                }
            }
            if let problem {
                violations.append(problem)
                if firstBad == nil { firstBad = index }
            } else {
                accepted.append((name, latin1))
            }
        }
        return Validation(head: ResponseHead(code: code, status: statusBytes, headers: accepted, contentLength: contentLength), violations: violations, firstBadHeader: firstBad)
    }

    /// "NNN Reason": three digits (200-599), a space, a non-empty reason of printable text.
    private static func parseStatus(_ status: [UInt8]) -> Int? {
        guard status.count >= 5, status[3] == UInt8(ascii: " "),
              status[0...2].allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
              status[4...].allSatisfy({ $0 >= 0x20 && $0 != 0x7F || $0 == 0x09 }),
              status[4...].contains(where: { $0 != UInt8(ascii: " ") })
        else { return nil }
        let code = status[0...2].reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
        return (200...599).contains(code) ? code : nil
    }
}

/// Latin-1 for header values: PEP 3333 requires native strings whose code points are all
/// U+0000-U+00FF; the native ABI passes them as UTF-8 and the server sends one byte each.
enum Latin1 {
    static func encode(utf8: some Collection<UInt8>) -> Result<[UInt8], Reason> {
        if utf8.allSatisfy({ $0 < 0x80 }) { return .success(Array(utf8)) }
        guard let text = String(validating: utf8, as: UTF8.self) else { return .failure(Reason("is not valid UTF-8")) }
        var bytes: [UInt8] = []
        for scalar in text.unicodeScalars {
            guard scalar.value <= 0xFF else {
                return .failure(Reason("contains U+\(String(scalar.value, radix: 16, uppercase: true)), outside Latin-1"))
            }
            bytes.append(UInt8(scalar.value))
        }
        return .success(bytes)
    }

    /// The text of Latin-1 bytes (one code point per byte), for showing a header value as sent.
    static func decode(_ bytes: [UInt8]) -> String {
        if bytes.allSatisfy({ $0 < 0x80 }) { return String(decoding: bytes, as: UTF8.self) }
        var scalars = String.UnicodeScalarView()
        scalars.append(contentsOf: bytes.lazy.map { Unicode.Scalar($0) })
        return String(scalars)
    }

    struct Reason: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}
