import CDevServe
#if canImport(Glibc)
import Glibc
#endif

/// Hands a ``ResponseBody`` to the host as a `devserve_body`: the C side of PEP 3333's
/// iterable. The bridge is the body's `context`; it lives until the host calls close().
final class BodyBridge {
    private let iterator: ResponseBodyIterator
    private let environ: Environ
    /// The chunk handed out last, held so that the host's pointer into it stays valid until
    /// the next call: the host copies it once, straight to the connection (issue 14).
    private var current: [UInt8] = []

    private init(body: ResponseBody, environ: Environ) {
        self.iterator = body.makeIterator()
        self.environ = environ
    }

    /// Fills `target` with `body`.
    static func install(_ body: ResponseBody, environ: Environ, into target: UnsafeMutablePointer<devserve_body>) {
        target.pointee.chunk_count = body.chunkCount.map(Int64.init) ?? -1
        if case .file(let descriptor, let blockSize) = body.source, body.closeActions.isEmpty {
            // The host sends the file itself (sendfile where it can) and closes it.
            target.pointee.file_descriptor = descriptor
            target.pointee.file_block_size = UInt32(clamping: blockSize)
            return
        }
        let bridge = BodyBridge(body: body, environ: environ)
        target.pointee.context = Unmanaged.passRetained(bridge).toOpaque()
        target.pointee.next = { context, _, chunk, length in
            let bridge = Unmanaged<BodyBridge>.fromOpaque(context!).takeUnretainedValue()
            return bridge.next(chunk: chunk!, length: length!)
        }
        target.pointee.close = { context, _ in
            let bridge = Unmanaged<BodyBridge>.fromOpaque(context!).takeRetainedValue()
            bridge.iterator.close()
        }
    }

    private func next(chunk: UnsafeMutablePointer<UnsafePointer<UInt8>?>, length: UnsafeMutablePointer<Int>) -> Int32 {
        do {
            guard let bytes = try iterator.next() else { return 0 }
            current = bytes
            // An array's elements stay where they are while it is held and not mutated.
            chunk.pointee = current.withUnsafeBufferPointer { $0.baseAddress }
            length.pointee = current.count
            return 1
        } catch {
            environ.raise(error)
            return -1
        }
    }
}
