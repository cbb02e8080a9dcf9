import CDevServe

/// The `start_response(status, headers, exc_info)` callable: PEP 3333, "The start_response()
/// Callable".
///
/// The server stores the status and headers and sends nothing yet: headers go out with the
/// first non-empty chunk. Middleware makes its own `StartResponse` wrapping the one it was
/// given, to rewrite status or headers on their way to the server.
public struct StartResponse {
    /// Performs the call; middleware supplies its own.
    public typealias Function = (_ status: String, _ headers: [(String, String)], _ excInfo: (any Error)?) throws -> Writer

    private let function: Function

    /// Wraps a function as a start_response callable (for middleware).
    public init(_ function: @escaping Function) { self.function = function }

    /// Starts the response.
    ///
    /// - Parameters:
    ///   - status: `"NNN Reason"`, e.g. `"200 OK"`.
    ///   - headers: (name, value) pairs; names are HTTP tokens; values have no control
    ///     characters and only Latin-1 code points. Hop-by-hop headers are the server's.
    ///   - excInfo: the error being handled, on a second call made from an error handler. If
    ///     the headers were already sent, the call throws `excInfo` back: let it propagate.
    /// - Returns: the `write` callable, for imperative bodies.
    /// - Throws: `GatewayError.alreadyStarted` on a second call without `excInfo`,
    ///   `GatewayError.invalidStatus` for a malformed status, or `excInfo` itself as above.
    @discardableResult
    public func callAsFunction(_ status: String, _ headers: [(String, String)] = [], excInfo: (any Error)? = nil) throws -> Writer {
        try function(status, headers, excInfo)
    }

    /// The start_response the server passes to the application: it calls the host.
    static func host(_ environ: Environ) -> StartResponse {
        StartResponse { status, headers, excInfo in
            try environ.hostStartResponse(status: status, headers: headers, excInfo: excInfo)
            return Writer { bytes in try environ.hostWrite(bytes) }
        }
    }
}
