#if canImport(Glibc)
import Glibc
#endif

/// What an application returns: PEP 3333's iterable of byte chunks.
///
/// Three shapes: a list of chunks (its exact count is known, so a one-chunk body gets a
/// computed Content-Length), a streaming producer (called for each chunk; it may block or
/// sleep between chunks, and returns nil at the end), or a file (wsgi.file_wrapper, which the
/// server may send with sendfile). Every body may carry an `onClose` action: the iterable's
/// close(), which the server calls exactly once at the end of every request, whatever happened.
public struct ResponseBody {
    enum Source {
        case chunks([[UInt8]])
        case stream(() throws -> [UInt8]?)
        case file(descriptor: Int32, blockSize: Int)
    }

    let source: Source
    let closeActions: [() -> Void]
    /// PEP 3333 len(iterable): the exact number of chunks, when known.
    public let chunkCount: Int?

    private init(_ source: Source, closeActions: [() -> Void] = [], chunkCount: Int? = nil) {
        self.source = source
        self.closeActions = closeActions
        if case .chunks(let chunks) = source { self.chunkCount = chunks.count } else { self.chunkCount = chunkCount }
    }

    /// An empty body.
    public static var empty: ResponseBody { ResponseBody(.chunks([])) }

    /// A body of the given chunks, sent one by one.
    public static func chunks(_ chunks: [[UInt8]]) -> ResponseBody { ResponseBody(.chunks(chunks)) }

    /// A body of one chunk.
    public static func bytes(_ bytes: [UInt8]) -> ResponseBody { ResponseBody(.chunks([bytes])) }

    /// A body of one chunk of UTF-8 text.
    public static func text(_ text: String) -> ResponseBody { ResponseBody(.chunks([Array(text.utf8)])) }

    /// A streaming body: `next` is called for each chunk, on the request's thread, and may
    /// block or sleep; it returns nil at the end and may throw (the server then aborts the
    /// response, or answers 500 if nothing was sent yet).
    public static func stream(_ next: @escaping () throws -> [UInt8]?) -> ResponseBody { ResponseBody(.stream(next)) }

    /// A file body for wsgi.file_wrapper, from an open descriptor: the server sends from its
    /// current offset to the end, and closes it.
    public static func file(descriptor: Int32, blockSize: Int = 0) -> ResponseBody {
        ResponseBody(.file(descriptor: descriptor, blockSize: blockSize))
    }

    /// A file body for wsgi.file_wrapper, from a path.
    /// - Throws: `GatewayError.fileUnreadable` when it cannot be opened.
    public static func file(path: String, blockSize: Int = 0) throws -> ResponseBody {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw GatewayError.fileUnreadable(path: path, errno: errno) }
        return .file(descriptor: descriptor, blockSize: blockSize)
    }

    /// The same body with `action` added to its close(); actions run in the order added.
    public func onClose(_ action: @escaping () -> Void) -> ResponseBody {
        ResponseBody(source, closeActions: closeActions + [action], chunkCount: chunkCount)
    }

    /// An iterator over the chunks, for middleware; its `close()` closes this body.
    public func makeIterator() -> ResponseBodyIterator { ResponseBodyIterator(self) }

    /// Transforms each chunk, keeping PEP 3333's block boundary rule: every chunk in produces
    /// exactly one chunk out (possibly empty) before the next is asked for.
    public func mapChunks(_ transform: @escaping ([UInt8]) throws -> [UInt8]) -> ResponseBody {
        let iterator = makeIterator()
        return ResponseBody(.stream { try iterator.next().map(transform) }, closeActions: [{ iterator.close() }], chunkCount: chunkCount)
    }

    /// This body followed by one more chunk.
    public func appending(_ chunk: [UInt8]) -> ResponseBody {
        let iterator = makeIterator()
        var appended = false
        return ResponseBody(.stream {
            if let next = try iterator.next() { return next }
            if appended { return nil }
            appended = true
            return chunk
        }, closeActions: [{ iterator.close() }], chunkCount: chunkCount.map { $0 + 1 })
    }
}
