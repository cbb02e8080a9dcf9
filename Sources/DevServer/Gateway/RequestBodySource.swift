/// Where the request body comes from: the transport's side of wsgi.input.
///
/// The transport de-chunks a chunked body and stops at Content-Length; the gateway core adds
/// buffering, lines and the 100-continue rule on top.
public protocol RequestBodySource: AnyObject {
    /// Copies the next bytes of the body into `buffer` (at most its count) and says how many;
    /// 0 at the end of the body. Blocks until some bytes arrive. The one copy a body byte
    /// makes on its way from the connection to the application's read buffer (issue 14).
    /// - Throws: when the body cannot be read (malformed chunking, the client went away).
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

/// A body source's error that says how the server should answer when the application fails
/// because of it before the response started: the client's fault, not the application's.
public protocol RequestBodyError: Error {
    /// e.g. (413, "Content Too Large") or (400, "Bad Request").
    var status: (code: Int, reason: String) { get }
}

/// A body held in memory: for tests, for replay, and for requests without a body.
public final class BufferedBodySource: RequestBodySource {
    private let bytes: [UInt8]
    private var offset = 0
    /// How many times `read(into:)` was called: tests use it to see that nothing was read.
    public private(set) var reads = 0

    public init(_ bytes: [UInt8] = []) { self.bytes = bytes }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        reads += 1
        let count = min(bytes.count - offset, buffer.count)
        guard count > 0 else { return 0 }
        bytes.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[offset..<(offset + count)])) }
        offset += count
        return count
    }
}
