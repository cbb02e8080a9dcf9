import NIOCore

/// The responses the server itself sends for input it refuses, before any application
/// runs. Each closes the connection: nothing after bad bytes is parsed as a new request.
struct ErrorResponse: Error, Equatable {
    let code: Int
    let reason: String
    let detail: String
    /// Seconds for a Retry-After field (RFC 9110 section 10.2.3), when the client should retry.
    var retryAfter: Int?

    static func badRequest(_ detail: String) -> ErrorResponse { ErrorResponse(code: 400, reason: "Bad Request", detail: detail) }
    static func timeout(_ detail: String) -> ErrorResponse { ErrorResponse(code: 408, reason: "Request Timeout", detail: detail) }
    static func tooLarge(_ detail: String) -> ErrorResponse { ErrorResponse(code: 413, reason: "Content Too Large", detail: detail) }
    static func uriTooLong(_ detail: String) -> ErrorResponse { ErrorResponse(code: 414, reason: "URI Too Long", detail: detail) }
    static func headersTooLarge(_ detail: String) -> ErrorResponse { ErrorResponse(code: 431, reason: "Request Header Fields Too Large", detail: detail) }
    static func versionNotSupported(_ detail: String) -> ErrorResponse { ErrorResponse(code: 505, reason: "HTTP Version Not Supported", detail: detail) }
    static func notImplemented(_ detail: String) -> ErrorResponse { ErrorResponse(code: 501, reason: "Not Implemented", detail: detail) }
    static func gatewayTimeout(_ detail: String) -> ErrorResponse { ErrorResponse(code: 504, reason: "Gateway Timeout", detail: detail) }
    /// The worker is dying (it crashed): a new one is already starting, so retry at once.
    static func workerCrashed(_ detail: String) -> ErrorResponse {
        ErrorResponse(code: 503, reason: "Service Unavailable", detail: detail, retryAfter: 0)
    }

    /// The body of the response.
    var body: String { "\(code) \(reason)\n\n\(detail)\n(devserve development server)\n" }

    /// The whole response, with Connection: close.
    func bytes(date: String) -> ByteBuffer {
        let retry = retryAfter.map { "Retry-After: \($0)\r\n" } ?? ""
        let text = "HTTP/1.1 \(code) \(reason)\r\n\(retry)Content-Type: text/plain; charset=utf-8\r\nContent-Length: \(body.utf8.count)\r\n"
            + "Connection: close\r\nDate: \(date)\r\nServer: devserve/\(DevServeVersion.current)\r\n\r\n\(body)"
        return ByteBuffer(string: text)
    }
}
