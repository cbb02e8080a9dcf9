/// A request as bytes on the wire: what replay sends, what `e` edits, what HAR entries and
/// curl commands describe. Serializing a captured request gives back the same method, target,
/// headers (in order) and body, byte for byte, with nothing added (RFC 9112 §3, §6).
public struct RawRequest: Sendable, Equatable {
    public var method: String
    public var target: String
    public var version: String
    public var headers: [HeaderField]
    public var body: [UInt8]

    public init(method: String, target: String, version: String = "HTTP/1.1", headers: [HeaderField], body: [UInt8]) {
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
        self.body = body
    }

    /// Why a request cannot be rebuilt or parsed.
    public struct Problem: Error, Equatable, CustomStringConvertible {
        public let description: String

        public init(_ description: String) { self.description = description }
    }

    /// The captured request. - Throws: when its body was not kept in full (--max-body), since
    /// sending part of it would not be a replay.
    public init(record: RequestRecord) throws {
        guard record.requestBodyDropped == 0 else {
            throw Problem("request #\(record.id)'s body was not kept in full (\(record.requestBodySize) bytes, \(record.requestBody.count) kept: raise --max-body)")
        }
        guard record.outcome != .badRequest else {
            throw Problem("request #\(record.id) was refused before the application saw it (\(record.outcomeDetail ?? "bad request")); nothing to replay")
        }
        self.init(method: record.method, target: record.target, version: record.version, headers: record.requestHeaders, body: record.requestBody)
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    var isChunked: Bool { header("transfer-encoding")?.lowercased().contains("chunked") == true }

    /// The bytes to send. A request that came chunked goes out chunked again (its body was
    /// captured decoded), as one chunk.
    public var bytes: [UInt8] {
        var head = "\(method) \(target) \(version)\r\n"
        for header in headers { head += "\(header.name): \(header.value)\r\n" }
        head += "\r\n"
        var out = Array(head.utf8)
        if isChunked {
            if !body.isEmpty { out += Array("\(String(body.count, radix: 16))\r\n".utf8) + body + [13, 10] }
            out += Array("0\r\n\r\n".utf8)
        } else {
            out += body
        }
        return out
    }

    /// The request as text to edit: the head, a blank line, the body (decoded when chunked).
    public var editableText: String {
        var text = "\(method) \(target) \(version)\n"
        for header in headers { text += "\(header.name): \(header.value)\n" }
        return text + "\n" + String(decoding: body, as: UTF8.self)
    }

    /// Parses edited text (LF or CRLF line ends). Content-Length, when present, is set to the
    /// edited body's length. - Throws: ``Problem`` saying what is wrong and where.
    public static func parse(editedText text: [UInt8]) throws -> (request: RawRequest, adjusted: Bool) {
        var lines: [ArraySlice<UInt8>] = []
        var index = text.startIndex
        var bodyStart = text.endIndex
        while index < text.endIndex {
            let end = text[index...].firstIndex(of: 10) ?? text.endIndex
            var line = text[index..<end]
            if line.last == 13 { line = line.dropLast() }
            index = end < text.endIndex ? end + 1 : end
            if line.isEmpty && !lines.isEmpty {
                bodyStart = index
                break
            }
            if line.isEmpty { continue }
            lines.append(line)
        }
        guard let first = lines.first else { throw Problem("the request is empty") }
        let parts = String(decoding: first, as: UTF8.self).split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 3, parts[2].hasPrefix("HTTP/1."), parts[0].allSatisfy({ $0.isLetter || $0 == "-" }) else {
            throw Problem("line 1 must be METHOD TARGET HTTP/1.1, not \(String(decoding: first, as: UTF8.self).debugDescription)")
        }
        var headers: [HeaderField] = []
        for (number, line) in lines.dropFirst().enumerated() {
            let text = String(decoding: line, as: UTF8.self)
            guard let colon = text.firstIndex(of: ":"), colon != text.startIndex, !text[..<colon].contains(" ") else {
                throw Problem("line \(number + 2) is not a header (NAME: value): \(text.debugDescription)")
            }
            headers.append(HeaderField(String(text[..<colon]), String(text[text.index(after: colon)...]).trimmingWhitespace()))
        }
        var body = Array(text[bodyStart...])
        // Editors add a newline at the end of a file; a body that had none keeps none.
        if bodyStart < text.endIndex, body.last == 10 {
            body.removeLast()
            if body.last == 13 { body.removeLast() }
        }
        var request = RawRequest(method: String(parts[0]), target: String(parts[1]), version: String(parts[2]), headers: headers, body: body)
        var adjusted = false
        if let index = request.headers.firstIndex(where: { $0.name.lowercased() == "content-length" }), request.headers[index].value != String(body.count) {
            request.headers[index].value = String(body.count)
            adjusted = true
        }
        return (request, adjusted)
    }

    /// A curl command that sends this request to `base` (scheme, host and port).
    public func curl(base: String) -> String {
        var words = ["curl", "-i", "--http1.1"]
        if method != "GET" || !body.isEmpty { words += ["-X", Self.quote(method)] }
        for header in headers where header.name.lowercased() != "content-length" {
            words += ["-H", Self.quote("\(header.name): \(header.value)")]
        }
        var feed = ""
        if !body.isEmpty {
            if let text = String(validating: body, as: UTF8.self), !text.contains("\0") {
                words += ["--data-binary", Self.quote(text)]
            } else {
                // Bytes that are not text: printf writes them exactly (octal escapes are
                // POSIX) and curl reads them from stdin.
                feed = "printf '" + body.map { "\\" + String($0, radix: 8).leftPadded(3) }.joined() + "' | "
                words += ["--data-binary", "@-"]
            }
        }
        words.append(Self.quote(base + (target.hasPrefix("/") ? String(target.dropFirst()) : target)))
        return feed + words.joined(separator: " ")
    }

    /// Single-quotes for the shell.
    static func quote(_ text: String) -> String {
        if !text.isEmpty && text.allSatisfy({ $0.isLetter || $0.isNumber || "-_./:=@%+,".contains($0) }) { return text }
        return "'" + text.replacing("'", with: "'\\''") + "'"
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
