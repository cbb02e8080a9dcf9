#if canImport(Glibc)
import Glibc
#endif

/// Iterates a ``ResponseBody`` chunk by chunk, as the server does; for middleware.
///
/// `close()` runs the body's close actions (and closes a file body's descriptor) exactly once,
/// however often it is called.
public final class ResponseBodyIterator {
    private var body: ResponseBody
    private var index = 0
    private var closed = false

    init(_ body: ResponseBody) { self.body = body }

    /// The next chunk, or nil at the end.
    public func next() throws -> [UInt8]? {
        guard !closed else { return nil }
        switch body.source {
        case .chunks(let chunks):
            guard index < chunks.count else { return nil }
            defer { index += 1 }
            return chunks[index]
        case .stream(let next):
            return try next()
        case .file(let descriptor, let blockSize):
            var buffer = [UInt8](repeating: 0, count: blockSize > 0 ? blockSize : 64 * 1024)
            let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            guard count > 0 else { return nil }
            buffer.removeSubrange(count...)
            return buffer
        }
    }

    /// The iterable's close().
    public func close() {
        guard !closed else { return }
        closed = true
        if case .file(let descriptor, _) = body.source { _ = Glibc.close(descriptor) }
        for action in body.closeActions { action() }
    }
}
