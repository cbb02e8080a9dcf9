import CDevServe

/// The server's wsgi.input, read through the host function table.
final class HostInput: RequestInput {
    private let request: OpaquePointer
    private let host: UnsafePointer<devserve_host>
    private static let blockSize = 64 * 1024
    /// The request's environ, for its ``Environ/contentLength`` (set once it exists).
    weak var environ: Environ?

    init(request: OpaquePointer, host: UnsafePointer<devserve_host>) {
        self.request = request
        self.host = host
    }

    /// Reads straight into the array it returns (the body's one copy out of the host, issue 14),
    /// sized by `size` or, for read(), by CONTENT_LENGTH; only a body longer than expected
    /// (chunked, or more than ``largestGuess``) is read on in blocks.
    func read(_ size: Int?) throws -> [UInt8] {
        let limit = size ?? Int.max
        guard limit > 0 else { return [] }
        var atEnd = false
        var result = try [UInt8](unsafeUninitializedCapacity: min(limit, expectedLength() ?? Self.blockSize)) { buffer, initialized in
            while initialized < buffer.count {
                let count = host.pointee.input_read(request, buffer.baseAddress! + initialized, buffer.count - initialized)
                if count < 0 { throw GatewayError.from(result: Int32(-count), operation: "wsgi.input") }
                if count == 0 { atEnd = true; return }
                initialized += count
            }
        }
        while !atEnd && result.count < limit {
            let block = try readBlock(capacity: min(limit - result.count, Self.blockSize)) { buffer, capacity in
                host.pointee.input_read(request, buffer, capacity)
            }
            if block.isEmpty { break }
            result += block
        }
        return result
    }

    /// A CONTENT_LENGTH worth sizing a read for, up to ``largestGuess`` (the header is the
    /// client's word; a longer body is read on in blocks).
    private func expectedLength() -> Int? {
        environ?.contentLength.flatMap { $0 >= 0 ? min($0, Self.largestGuess) : nil }
    }

    private static let largestGuess = 16 << 20

    func readLine(limit: Int?) throws -> [UInt8] {
        try readBlock(capacity: limit ?? Int(Int32.max)) { buffer, capacity in
            host.pointee.input_readline(request, buffer, capacity)
        }
    }

    func readLines(hint: Int?) throws -> [[UInt8]] {
        final class Collector { var lines: [[UInt8]] = [] }
        let collector = Collector()
        let result = host.pointee.input_readlines(request, hint ?? 0, { context, line, length in
            let collector = Unmanaged<Collector>.fromOpaque(context!).takeUnretainedValue()
            collector.lines.append(Array(UnsafeBufferPointer(start: line, count: length)))
        }, Unmanaged.passUnretained(collector).toOpaque())
        if result != Int32(DEVSERVE_OK.rawValue) { throw GatewayError.from(result: result, operation: "wsgi.input.readlines") }
        return collector.lines
    }

    /// Reads with a host function into a buffer of at most `capacity` bytes; a line may be
    /// longer than any buffer we would allocate up front, so readline grows it.
    private func readBlock(capacity: Int, _ call: (UnsafeMutablePointer<UInt8>, Int) -> Int) throws -> [UInt8] {
        let size = min(capacity, Self.blockSize)
        var bytes = [UInt8](repeating: 0, count: size)
        let count = bytes.withUnsafeMutableBufferPointer { call($0.baseAddress!, size) }
        if count < 0 { throw GatewayError.from(result: Int32(-count), operation: "wsgi.input") }
        bytes.removeSubrange(count...)
        if count == size, size < capacity, bytes.last != UInt8(ascii: "\n"), capacity > Self.blockSize {
            // readline filled the buffer without reaching the end of the line: read on.
            return bytes + (try readBlock(capacity: capacity - size, call))
        }
        return bytes
    }
}
