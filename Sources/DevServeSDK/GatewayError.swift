import CDevServe

/// An error the server reported back through the gateway interface.
///
/// A struct wrapping a private enum, so that cases can be added without breaking plugins.
public struct GatewayError: Error, CustomStringConvertible, Sendable {
    private enum Kind: Sendable {
        case alreadyStarted
        case invalidStatus(String)
        case notStarted
        case clientGone
        case requestEnded
        case inputFailed
        case contentLengthExceeded
        case fileUnreadable(path: String, errno: Int32)
        case other(code: Int32, operation: String)
    }

    private let kind: Kind

    private init(_ kind: Kind) { self.kind = kind }

    /// start_response was called a second time without exc_info.
    public static let alreadyStarted = GatewayError(.alreadyStarted)
    /// write() was called before start_response.
    public static let notStarted = GatewayError(.notStarted)
    /// The client went away: stop producing the body.
    public static let clientGone = GatewayError(.clientGone)
    /// The request has already ended.
    public static let requestEnded = GatewayError(.requestEnded)
    /// Reading wsgi.input failed: the client sent a malformed body or went away.
    public static let inputFailed = GatewayError(.inputFailed)
    /// write() went past the Content-Length the application set; the excess was not sent.
    public static let contentLengthExceeded = GatewayError(.contentLengthExceeded)

    /// start_response refused the status line.
    public static func invalidStatus(_ status: String) -> GatewayError { GatewayError(.invalidStatus(status)) }

    /// A file given to the file wrapper could not be opened.
    public static func fileUnreadable(path: String, errno: Int32) -> GatewayError {
        GatewayError(.fileUnreadable(path: path, errno: errno))
    }

    /// Maps a devserve_result from a host function onto an error.
    static func from(result: Int32, operation: String) -> GatewayError {
        switch UInt32(bitPattern: result) {
        case DEVSERVE_ALREADY_STARTED.rawValue: return .alreadyStarted
        case DEVSERVE_NOT_STARTED.rawValue: return .notStarted
        case DEVSERVE_CLIENT_GONE.rawValue: return .clientGone
        case DEVSERVE_REQUEST_ENDED.rawValue: return .requestEnded
        case DEVSERVE_IO_ERROR.rawValue: return .inputFailed
        case DEVSERVE_CONTENT_LENGTH_EXCEEDED.rawValue: return .contentLengthExceeded
        default: return GatewayError(.other(code: result, operation: operation))
        }
    }

    public var description: String {
        switch kind {
        case .alreadyStarted: return "start_response called a second time without exc_info"
        case .invalidStatus(let status): return "invalid status line \(String(reflecting: status)): expected \"NNN Reason\""
        case .notStarted: return "write() called before start_response"
        case .clientGone: return "the client went away"
        case .requestEnded: return "the request has already ended"
        case .inputFailed: return "reading wsgi.input failed"
        case .contentLengthExceeded: return "write() went past the response's Content-Length"
        case .fileUnreadable(let path, let errno): return "cannot open \(path) for the file wrapper (errno \(errno))"
        case .other(let code, let operation): return "\(operation) failed with devserve_result \(code)"
        }
    }
}
