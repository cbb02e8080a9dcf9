/// wsgi.input: PEP 3333, "Input and Error Streams".
///
/// read(n), readline(limit), readlines(hint) over the transport's body source. Reading past
/// CONTENT_LENGTH (or a chunked body's last chunk) returns end of stream and never blocks:
/// once the source has said "end", it is not asked again. The first read runs `beforeFirstRead`
/// (which sends "100 Continue" when the client asked for it).
final class RequestInputStream {
    private let source: RequestBodySource
    /// CONTENT_LENGTH, when the request has one: never read beyond it.
    private var remaining: Int?
    private var buffer: [UInt8] = []
    private var bufferStart = 0
    private var atEnd = false
    /// Runs once, before the source is first read (100-continue).
    var beforeFirstRead: (() -> Void)?
    /// The error the body source threw, if reading failed.
    private(set) var failure: Error?

    init(source: RequestBodySource, contentLength: Int?, beforeFirstRead: (() -> Void)? = nil) {
        self.source = source
        self.remaining = contentLength
        self.beforeFirstRead = beforeFirstRead
        if contentLength == 0 { atEnd = true }
    }

    /// read(n): at most `maximum` bytes; empty at end of stream.
    func read(maximum: Int) throws -> [UInt8] {
        guard maximum > 0 else { return [] }
        if bufferStart == buffer.count { try fill(atLeast: 1, limit: maximum) }
        let end = buffer.count - bufferStart > maximum ? bufferStart + maximum : buffer.count
        let result = Array(buffer[bufferStart..<end])
        bufferStart = end
        return result
    }

    /// readline(limit): up to and including the next "\n", at most `limit` bytes.
    ///
    /// Positions are kept relative to the unread bytes, because `fill` may move them to the
    /// front of the buffer; and each round asks for one byte more than is buffered, so a
    /// partial line at the end of what has arrived is completed, not searched forever.
    func readLine(limit: Int) throws -> [UInt8] {
        guard limit > 0 else { return [] }
        var searched = 0
        while true {
            let unread = buffer.count - bufferStart
            // `limit` may be Int.max: compare lengths, never add it to an index.
            let window = min(unread, limit)
            if let newline = buffer[(bufferStart + searched)..<(bufferStart + window)].firstIndex(of: UInt8(ascii: "\n")) {
                return take(upTo: newline + 1)
            }
            if window == limit || atEnd {
                return take(upTo: bufferStart + window)
            }
            searched = window
            try fill(atLeast: unread + 1, limit: 64 * 1024)
        }
    }

    /// readlines(hint): every remaining line, or lines until their total reaches `hint`.
    func readLines(hint: Int, each: ([UInt8]) -> Void) throws {
        var total = 0
        while true {
            let line = try readLine(limit: Int.max)
            if line.isEmpty { return }
            each(line)
            total += line.count
            if hint > 0 && total >= hint { return }
        }
    }

    private func take(upTo end: Int) -> [UInt8] {
        let result = Array(buffer[bufferStart..<end])
        bufferStart = end
        return result
    }

    /// Reads more from the source into the buffer, unless the body has ended.
    private func fill(atLeast: Int, limit: Int) throws {
        if let hook = beforeFirstRead {
            beforeFirstRead = nil
            hook()
        }
        if bufferStart > 0 && bufferStart == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            bufferStart = 0
        } else if bufferStart >= 64 * 1024 {
            // Lines read one by one from a long body: drop what was consumed.
            buffer.removeFirst(bufferStart)
            bufferStart = 0
        }
        while !atEnd && buffer.count - bufferStart < atLeast {
            let want = min(max(limit, 16 * 1024), remaining ?? Int.max)
            let bytes: [UInt8]
            do {
                bytes = try source.nextBytes(maximum: want)
            } catch {
                failure = error
                throw error
            }
            if bytes.isEmpty {
                atEnd = true
                break
            }
            buffer += bytes.prefix(remaining ?? Int.max)
            if let left = remaining {
                remaining = left - min(left, bytes.count)
                if remaining == 0 { atEnd = true }
            }
        }
    }
}
