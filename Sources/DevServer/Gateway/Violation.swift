/// A breach of the gateway contract (docs/GATEWAY.md) by the application or middleware.
///
/// Violations never crash anything: the server reports them, refuses or drops what is
/// invalid (an invalid header is not sent), and carries on where it safely can.
public struct Violation: Sendable, Equatable, CustomStringConvertible {
    /// What rule was broken.
    public enum Kind: String, Sendable, CaseIterable {
        /// start_response called again without exc_info.
        case startResponseTwice = "start-response-twice"
        /// write() called before start_response.
        case writeBeforeStartResponse = "write-before-start-response"
        /// The body produced a non-empty chunk before start_response.
        case bodyBeforeStartResponse = "body-before-start-response"
        /// The application returned without ever calling start_response.
        case noStartResponse = "no-start-response"
        /// The status is not "NNN Reason".
        case malformedStatus = "malformed-status"
        /// A header name that is not an HTTP token.
        case invalidHeaderName = "invalid-header-name"
        /// CR, LF or another control character in a header value (header injection).
        case controlCharacterInHeaderValue = "control-character-in-header-value"
        /// A header value with a code point above U+00FF.
        case nonLatin1HeaderValue = "non-latin1-header-value"
        /// A hop-by-hop header (Connection, Transfer-Encoding, ...) from the application.
        case hopByHopHeader = "hop-by-hop-header"
        /// A Content-Length that is not a non-negative integer.
        case invalidContentLength = "invalid-content-length"
        /// The body ended before the Content-Length the application set.
        case contentLengthShort = "content-length-short"
        /// The body went on past the Content-Length the application set.
        case contentLengthExceeded = "content-length-exceeded"
        /// The iterable's reported length differs from what it produced.
        case chunkCountMismatch = "chunk-count-mismatch"
        /// The application used the request after its iterable was closed.
        case iterationAfterClose = "iteration-after-close"
        /// A body for a status that has none (1xx, 204, 304).
        case bodyNotAllowed = "body-not-allowed"
        /// start_response refused exc_info because headers were sent, and the application
        /// carried on instead of re-raising.
        case excInfoNotReraised = "exc-info-not-reraised"
        /// A file body on descriptor 0, 1 or 2: the host's own stdin, stdout or stderr.
        case invalidFileDescriptor = "invalid-file-descriptor"
        /// A body chunk that is not bytes (a Python `str`), reported by a language bridge.
        case nonBytesChunk = "non-bytes-chunk"
        /// An assertion of a validating middleware (`wsgiref.validate`, `--validate`).
        case validator = "validator"
        /// Another breach a plugin detected and reported (devserve.h `violation`).
        case reportedByPlugin = "reported-by-plugin"
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { "\(kind.rawValue): \(message)" }
}
