import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// HAR 1.2 (W3C Web Performance WG's HTTP Archive format), with devserve's own data in
/// underscore fields as the format allows: `_environ`, `_chunks` (time offsets in ms),
/// `_generation`, `_violations`, `_outcome`, `_replayOf`.
public enum HAR {
    public struct Archive: Codable, Sendable {
        public var log: Log
    }

    public struct Log: Codable, Sendable {
        public var version: String
        public var creator: Creator
        public var entries: [Entry]
    }

    public struct Creator: Codable, Sendable {
        public var name: String
        public var version: String
    }

    public struct NameValue: Codable, Sendable, Equatable {
        public var name: String
        public var value: String
    }

    public struct Entry: Codable, Sendable {
        public var startedDateTime: String
        public var time: Double
        public var request: Request
        public var response: Response
        public var cache: Cache? = Cache()
        public var timings: Timings
        public var _environ: [NameValue]?
        public var _chunks: [Chunk]?
        public var _generation: Int?
        public var _violations: [NameValue]?
        public var _outcome: String?
        public var _replayOf: Int?
        public var _id: Int?
    }

    public struct Cache: Codable, Sendable {}

    public struct Request: Codable, Sendable {
        public var method: String
        public var url: String
        public var httpVersion: String
        public var cookies: [NameValue]?
        public var headers: [NameValue]
        public var queryString: [NameValue]?
        public var postData: PostData?
        public var headersSize: Int?
        public var bodySize: Int?
    }

    public struct PostData: Codable, Sendable {
        public var mimeType: String?
        public var text: String?
        public var params: [NameValue]?
        /// Not in HAR 1.2 for postData, but what Chrome and Firefox write for binary bodies.
        public var encoding: String?
        /// Set when the body was cut by --max-body: what is missing.
        public var comment: String?
        /// Bytes of the body that were not kept (--max-body); absent when it is whole.
        public var _truncated: Int?
    }

    public struct Response: Codable, Sendable {
        public var status: Int
        public var statusText: String
        public var httpVersion: String
        public var cookies: [NameValue]?
        public var headers: [NameValue]
        public var content: Content
        public var redirectURL: String?
        public var headersSize: Int?
        public var bodySize: Int?
    }

    public struct Content: Codable, Sendable {
        public var size: Int
        public var mimeType: String
        public var text: String?
        public var encoding: String?
        /// Set when the body was cut by --max-body: what is missing.
        public var comment: String?
        /// Bytes of the body that were not kept (--max-body); absent when it is whole.
        public var _truncated: Int?
    }

    public struct Timings: Codable, Sendable {
        public var send: Double
        public var wait: Double
        public var receive: Double
    }

    public struct Chunk: Codable, Sendable {
        /// Milliseconds from the request's start.
        public var offset: Double
        public var size: Int
    }

    // MARK: Export

    /// `records` as a HAR document, secrets masked unless `revealSecrets`.
    public static func export(_ records: [RequestRecord], revealSecrets: Bool = false) -> [UInt8] {
        let archive = Archive(log: Log(
            version: "1.2", creator: Creator(name: "devserve", version: DevServeVersion.current),
            entries: records.map { entry(revealSecrets ? $0 : Secrets.masked($0)) }))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return Array((try? encoder.encode(archive)) ?? Data())
    }

    static func entry(_ record: RequestRecord) -> Entry {
        let requestType = record.requestContentType ?? "application/octet-stream"
        let responseHeaders = record.sentHeaders.isEmpty ? record.applicationHeaders : record.sentHeaders
        let status = record.applicationStatus ?? (record.status == 0 ? "" : String(record.status))
        let body = record.responseBody
        let timings = record.timings
        let wait = timings.firstByte >= 0 ? Double(timings.firstByte) / 1000 : Double(record.duration ?? 0) / 1000
        let receive = timings.lastByte >= 0 && timings.firstByte >= 0 ? Double(timings.lastByte - timings.firstByte) / 1000 : 0
        var postData: PostData?
        if record.requestBodySize > 0 {
            let (text, encoding) = encode(record.requestBody)
            postData = PostData(mimeType: requestType, text: text, params: nil, encoding: encoding)
            if record.requestBodyDropped > 0 {
                postData?.comment = truncation(kept: record.requestBody.count, of: record.requestBodySize)
                postData?._truncated = record.requestBodyDropped
            }
        }
        let (contentText, contentEncoding) = encode(body)
        var content = Content(size: record.responseBodySize, mimeType: record.responseContentType ?? "", text: contentText, encoding: contentEncoding)
        if record.responseBodyDropped > 0 {
            content.comment = truncation(kept: record.responseBodyKept, of: record.responseBodySize)
            content._truncated = record.responseBodyDropped
        }
        return Entry(
            startedDateTime: isoDate(record.startedAt), time: Double(record.duration ?? 0) / 1000,
            request: Request(
                method: record.method, url: record.url, httpVersion: record.version,
                cookies: cookies(record.requestHeaders, name: "cookie"), headers: record.requestHeaders.map(pair),
                queryString: query(record.target), postData: postData, headersSize: -1, bodySize: record.requestBodySize),
            response: Response(
                status: record.status, statusText: String(status.dropFirst(4)), httpVersion: "HTTP/1.1",
                cookies: cookies(responseHeaders, name: "set-cookie"), headers: responseHeaders.map(pair),
                content: content,
                redirectURL: responseHeaders.first { $0.name.lowercased() == "location" }?.value ?? "",
                headersSize: record.sentHead?.count ?? -1, bodySize: record.responseBodySize),
            timings: Timings(send: 0, wait: wait, receive: receive),
            _environ: record.environ.map { NameValue(name: String(decoding: $0.key, as: UTF8.self), value: String(decoding: $0.value, as: UTF8.self)) },
            _chunks: record.chunks.map { Chunk(offset: Double($0.offset) / 1000, size: $0.size) },
            _generation: record.generation, _violations: record.violations.map(pair), _outcome: record.outcome.rawValue,
            _replayOf: record.replayOf, _id: record.id)
    }

    private static func truncation(kept: Int, of size: Int) -> String {
        "truncated by devserve --max-body: \(kept) of \(size) bytes kept"
    }

    private static func pair(_ field: HeaderField) -> NameValue { NameValue(name: field.name, value: field.value) }

    /// Text as is when it is UTF-8, else base64 (HAR's `encoding`).
    private static func encode(_ bytes: [UInt8]) -> (String?, String?) {
        if bytes.isEmpty { return (nil, nil) }
        if let text = String(validating: bytes, as: UTF8.self) { return (text, nil) }
        return (Data(bytes).base64EncodedString(), "base64")
    }

    private static func query(_ target: String) -> [NameValue] {
        guard let question = target.firstIndex(of: "?") else { return [] }
        return target[target.index(after: question)...].split(separator: "&").map { item in
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return NameValue(name: String(parts[0]), value: parts.count > 1 ? String(parts[1]) : "")
        }
    }

    private static func cookies(_ headers: [HeaderField], name: String) -> [NameValue] {
        headers.filter { $0.name.lowercased() == name }.flatMap { header -> [NameValue] in
            let pairs = name == "set-cookie" ? [Substring(header.value.split(separator: ";").first ?? "")] : header.value.split(separator: ";")
            return pairs.compactMap { pair in
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard parts.count == 2 else { return nil }
                return NameValue(name: parts[0].trimmingWhitespace(), value: String(parts[1]))
            }
        }
    }

    /// "2026-11-21T10:00:00.123Z"
    static func isoDate(_ microseconds: Int) -> String {
        var seconds = time_t(microseconds / 1_000_000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int = 2) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(parts.tm_year + 1900)-\(pad(parts.tm_mon + 1))-\(pad(parts.tm_mday))T\(pad(parts.tm_hour)):\(pad(parts.tm_min)):\(pad(parts.tm_sec)).\(pad(Int32(microseconds / 1000 % 1000), 3))Z"
    }

    // MARK: Import

    /// A request read from a HAR file, ready to send.
    public struct ImportedRequest: Sendable {
        public var url: String
        public var request: RawRequest
    }

    /// The requests of a HAR file (ours or a browser's). - Throws: when it is not HAR.
    public static func requests(from data: [UInt8]) throws -> [ImportedRequest] {
        let archive: Archive
        do {
            archive = try JSONDecoder().decode(ImportArchive.self, from: Data(data)).archive
        } catch {
            throw RawRequest.Problem("not a HAR file: \(error)")
        }
        return try archive.log.entries.enumerated().map { index, entry in
            try imported(entry.request, number: index + 1)
        }
    }

    static func imported(_ request: Request, number: Int) throws -> ImportedRequest {
        guard let schemeEnd = request.url.firstRange(of: "://") else { throw RawRequest.Problem("entry \(number): the URL \(request.url.debugDescription) has no scheme") }
        let rest = request.url[schemeEnd.upperBound...]
        let authority = rest.split(separator: "/", maxSplits: 1).first.map(String.init) ?? ""
        let pathStart = rest.firstIndex(of: "/")
        var target = pathStart.map { String(rest[$0...]) } ?? "/"
        if let hash = target.firstIndex(of: "#") { target = String(target[..<hash]) }
        // Browsers record HTTP/2 pseudo-headers and their own framing; HTTP/1.1 needs neither.
        var headers = request.headers.filter { !$0.name.hasPrefix(":") && !["content-length", "transfer-encoding", "connection"].contains($0.name.lowercased()) }
            .map { HeaderField($0.name, $0.value) }
        if !headers.contains(where: { $0.name.lowercased() == "host" }) { headers.insert(HeaderField("Host", authority), at: 0) }
        var body: [UInt8] = []
        if let post = request.postData {
            if let text = post.text {
                body = post.encoding == "base64" ? Array(Data(base64Encoded: text) ?? Data()) : Array(text.utf8)
            } else if let params = post.params {
                body = Array(params.map { "\($0.name)=\($0.value)" }.joined(separator: "&").utf8)
            }
            if let type = post.mimeType, !type.isEmpty, !headers.contains(where: { $0.name.lowercased() == "content-type" }) {
                headers.append(HeaderField("Content-Type", type))
            }
        }
        if !body.isEmpty || ["POST", "PUT", "PATCH"].contains(request.method.uppercased()) {
            headers.append(HeaderField("Content-Length", String(body.count)))
        }
        let version = request.httpVersion.uppercased() == "HTTP/1.0" ? "HTTP/1.0" : "HTTP/1.1"
        return ImportedRequest(url: request.url, request: RawRequest(method: request.method, target: target, version: version, headers: headers, body: body))
    }

    /// Decodes the parts of a HAR that requests need, tolerating what browsers leave out.
    private struct ImportArchive: Decodable {
        var archive: Archive

        init(from decoder: Decoder) throws {
            let container = try decoder.container(keyedBy: Keys.self)
            let log = try container.nestedContainer(keyedBy: Keys.self, forKey: .log)
            var entries = try log.nestedUnkeyedContainer(forKey: .entries)
            var result: [Entry] = []
            while !entries.isAtEnd {
                let entry = try entries.nestedContainer(keyedBy: Keys.self)
                let request = try entry.decode(Request.self, forKey: .request)
                result.append(Entry(
                    startedDateTime: "", time: 0, request: request,
                    response: Response(status: 0, statusText: "", httpVersion: "", cookies: nil, headers: [], content: Content(size: 0, mimeType: "")),
                    timings: Timings(send: 0, wait: 0, receive: 0)))
            }
            archive = Archive(log: Log(version: "1.2", creator: Creator(name: "", version: ""), entries: result))
        }

        enum Keys: String, CodingKey { case log, entries, request }
    }
}
