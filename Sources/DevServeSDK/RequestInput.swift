/// wsgi.input: the request body as a stream. PEP 3333, "Input and Error Streams".
///
/// Reading past CONTENT_LENGTH, or past a chunked body's last chunk, returns end of stream
/// (an empty array) and never blocks. Middleware may install its own implementation.
public protocol RequestInput: AnyObject {
    /// read(size): up to `size` bytes, or everything that is left when `size` is nil.
    func read(_ size: Int?) throws -> [UInt8]
    /// readline(size): one line including its `\n`, or at most `limit` bytes of it.
    func readLine(limit: Int?) throws -> [UInt8]
    /// readlines(hint): lines until end of stream, or until they add up to `hint` bytes.
    func readLines(hint: Int?) throws -> [[UInt8]]
}

extension RequestInput {
    /// The whole remaining body.
    public func readAll() throws -> [UInt8] { try read(nil) }

    /// Iteration over lines (PEP 3333's `__iter__`).
    public var lines: AnySequence<[UInt8]> {
        AnySequence {
            AnyIterator {
                guard let line = try? self.readLine(limit: nil), !line.isEmpty else { return nil }
                return line
            }
        }
    }
}
