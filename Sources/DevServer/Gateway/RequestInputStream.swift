#if canImport(Glibc)
import Glibc
#endif

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
    /// Bytes read ahead for readline: `buffer[bufferStart..<bufferEnd]` are unread; the rest
    /// of `buffer` is room the source reads into (allocated once, never zero-filled per read).
    private var buffer: [UInt8] = []
    private var bufferStart = 0
    private var bufferEnd = 0
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

    /// read(n) into the application's buffer: at most `destination.count` bytes, 0 at end of
    /// stream. Bytes a readline left buffered come first; after them, the source copies
    /// straight into `destination` (one copy from the connection's buffer, issue 14).
    func read(into destination: UnsafeMutableRawBufferPointer) throws -> Int {
        guard destination.count > 0 else { return 0 }
        runBeforeFirstRead()
        let unread = bufferEnd - bufferStart
        if unread > 0 {
            let count = min(unread, destination.count)
            buffer.withUnsafeBytes { destination.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[bufferStart..<(bufferStart + count)])) }
            bufferStart += count
            return count
        }
        guard !atEnd else { return 0 }
        let want = min(destination.count, remaining ?? Int.max)
        return try readSource(into: UnsafeMutableRawBufferPointer(rebasing: destination[0..<want]))
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
            let unread = bufferEnd - bufferStart
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

    private func runBeforeFirstRead() {
        if let hook = beforeFirstRead {
            beforeFirstRead = nil
            hook()
        }
    }

    /// One read of the source into `destination`, never past CONTENT_LENGTH; notes the end.
    private func readSource(into destination: UnsafeMutableRawBufferPointer) throws -> Int {
        let count: Int
        do {
            count = try source.read(into: destination)
        } catch {
            failure = error
            throw error
        }
        if count == 0 {
            atEnd = true
        } else if let left = remaining {
            remaining = left - count
            if remaining == 0 { atEnd = true }
        }
        return count
    }

    /// Reads more from the source onto the end of the unread bytes, unless the body has ended.
    private func fill(atLeast: Int, limit: Int) throws {
        runBeforeFirstRead()
        while !atEnd && bufferEnd - bufferStart < atLeast {
            let want = min(max(limit, 16 * 1024), remaining ?? Int.max)
            makeRoom(want)
            bufferEnd += try buffer.withUnsafeMutableBytes { try readSource(into: UnsafeMutableRawBufferPointer(rebasing: $0[bufferEnd..<(bufferEnd + want)])) }
        }
    }

    /// At least `count` bytes of room after the unread bytes: the unread bytes move to the
    /// front when that makes room, and the buffer grows (doubling) only when it does not.
    private func makeRoom(_ count: Int) {
        guard buffer.count - bufferEnd < count else { return }
        let unread = bufferEnd - bufferStart
        if bufferStart > 0 {
            buffer.withUnsafeMutableBytes { _ = memmove($0.baseAddress!, $0.baseAddress! + bufferStart, unread) }
            bufferStart = 0
            bufferEnd = unread
        }
        if buffer.count - bufferEnd < count {
            buffer.append(contentsOf: repeatElement(0, count: max(bufferEnd + count, buffer.count * 2) - buffer.count))
        }
    }
}
