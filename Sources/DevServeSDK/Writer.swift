/// The `write(data)` callable that start_response returns: PEP 3333, "The write() Callable".
///
/// For imperative frameworks. When it returns, the bytes are sent or queued; it blocks while
/// the client is slow. Data written this way precedes the returned body's chunks.
public struct Writer {
    private let function: ([UInt8]) throws -> Void

    /// Wraps a function as a write callable (for middleware).
    public init(_ function: @escaping ([UInt8]) throws -> Void) { self.function = function }

    /// Sends bytes.
    /// - Throws: `GatewayError.clientGone` when the client went away.
    public func callAsFunction(_ bytes: [UInt8]) throws { try function(bytes) }

    /// Sends a string as UTF-8.
    public func callAsFunction(_ text: String) throws { try function(Array(text.utf8)) }
}
