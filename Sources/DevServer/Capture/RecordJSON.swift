import FoundationEssentials

/// The JSON shapes of records for `devserve ls --json` and `devserve show --json` (and the
/// control socket). Bodies are `{"text": ...}` when they are UTF-8, else `{"base64": ...}`.
public enum RecordJSON {
    /// One line of `devserve ls`.
    public struct Summary: Codable, Sendable, Equatable {
        public var id: Int
        public var workerID: String
        public var startedAt: Int
        public var method: String
        public var target: String
        public var status: Int
        public var contentType: String?
        public var size: Int
        public var duration: Int?
        public var chunks: Int
        public var generation: Int
        public var outcome: String
        public var violations: Int
        public var error: Bool
        public var replayOf: Int?
        public var timedOut: Bool
    }

    /// A body, as text when it is UTF-8.
    public struct Body: Codable, Sendable, Equatable {
        public var text: String?
        public var base64: String?
        /// Bytes received or produced but not kept (over --max-body).
        public var notKept: Int

        init(_ bytes: [UInt8], notKept: Int) {
            if let text = String(validating: bytes, as: UTF8.self) {
                self.text = text
            } else {
                self.base64 = Data(bytes).base64EncodedString()
            }
            self.notKept = notKept
        }

        /// The bytes back.
        public var bytes: [UInt8] {
            if let text { return Array(text.utf8) }
            return base64.flatMap { Data(base64Encoded: $0) }.map { Array($0) } ?? []
        }
    }

    public struct Chunk: Codable, Sendable, Equatable {
        /// Milliseconds from the request's start.
        public var offsetMs: Double
        public var size: Int
        public var body: Body
    }

    /// Everything `devserve show` prints.
    public struct Full: Codable, Sendable {
        public var summary: Summary
        public var client: String
        public var version: String
        public var requestHeaders: [HeaderField]
        public var requestBody: Body
        /// Keys and values as text (non-UTF-8 bytes as \xNN escapes) in the server's order.
        public var environ: [HeaderField]
        public var applicationStatus: String?
        public var applicationHeaders: [HeaderField]
        public var headersReplaced: Bool
        public var sentHead: String?
        public var responseBody: Body
        public var chunks: [Chunk]
        public var errors: String
        public var violations: [HeaderField]
        public var applicationError: HeaderField?
        /// The environ as a Python application left it (the entries that differ, typed).
        public var applicationEnviron: [HeaderField]?
        /// The frames of the exception the application raised, innermost last.
        public var applicationTraceback: [TracebackFrame]?
        public var outcomeDetail: String?
        public var crash: RequestRecord.Crash?
        public var timeout: String?
        public var timings: RequestTimings
    }

    public static func summary(_ record: RequestRecord) -> Summary {
        Summary(
            id: record.id, workerID: record.workerID, startedAt: record.startedAt, method: record.method, target: record.target,
            status: record.status, contentType: record.responseContentType, size: record.responseBodySize, duration: record.duration,
            chunks: record.chunks.count, generation: record.generation, outcome: record.outcome.rawValue,
            violations: record.violations.count, error: record.applicationError != nil, replayOf: record.replayOf,
            timedOut: record.timeout != nil)
    }

    public static func full(_ record: RequestRecord) -> Full {
        Full(
            summary: summary(record), client: record.client, version: record.version, requestHeaders: record.requestHeaders,
            requestBody: Body(record.requestBody, notKept: record.requestBodyDropped),
            environ: record.environ.map { HeaderField(escaped($0.key), escaped($0.value)) },
            applicationStatus: record.applicationStatus, applicationHeaders: record.applicationHeaders,
            headersReplaced: record.headersReplaced, sentHead: record.sentHead.map { String(decoding: $0, as: UTF8.self) },
            responseBody: Body(record.responseBody, notKept: record.responseBodyDropped),
            chunks: record.chunks.map { Chunk(offsetMs: Double($0.offset) / 1000, size: $0.size, body: Body($0.bytes, notKept: $0.size - $0.bytes.count)) },
            errors: record.errors, violations: record.violations, applicationError: record.applicationError, applicationEnviron: record.applicationEnviron, applicationTraceback: record.applicationTraceback,
            outcomeDetail: record.outcomeDetail, crash: record.crash, timeout: record.timeout, timings: record.timings)
    }

    /// Bytes as text, with anything that is not UTF-8 as \xNN.
    public static func escaped(_ bytes: [UInt8]) -> String {
        if let text = String(validating: bytes, as: UTF8.self) { return text }
        return bytes.map { $0 < 0x80 ? String(UnicodeScalar($0)) : "\\x" + String($0, radix: 16, uppercase: true) }.joined()
    }
}
