import CDevServeShim
import NIOCore

/// The wire format of ``WorkerEvent``: `[u32 length][u8 check][u8 kind][fields]`,
/// little-endian; strings and byte strings are `[u32 length][bytes]`, integers `i64`, lists
/// `[u32 count]` then their elements. `length` counts kind and fields and is at most 256 MiB;
/// `check` is ``headerCheck(length:kind:)``, so bytes that are not a frame's start (a stream
/// written by someone else, or read out of step) are refused at the first header, not after
/// a bogus length has been waited for.
public enum EventFrame {
    private enum Kind: UInt8 {
        case hello = 1, ready, loadFailed, requestStarted, requestBody, responseStarted, headSent, chunk, errors, violation,
             applicationError, requestFinished, serving, stoppedAccepting, watchFile, applicationEnviron,
             // Written by the crash handler in C too: DEVSERVE_EVENT_KIND_CRASHED.
             crashed = 17, heartbeat, applicationTraceback,
             // A body part whose bytes lie in the shared body ring (``SharedBodyRing``): the
             // fields of requestBody or chunk, then the byte count and the ring position.
             requestBodyShared, chunkShared

        /// A request's own frame, with nothing in it the supervisor needs at once (the log
        /// reads errors, violations and the summary): kept encoded until its record is read.
        var isKeptEncoded: Bool {
            switch self {
            case .requestStarted, .responseStarted, .headSent, .chunk, .requestBody, .applicationEnviron, .applicationTraceback: true
            default: false
            }
        }
    }

    /// Appends the frame for `event` to `bytes`.
    public static func encode(_ event: WorkerEvent, into bytes: inout [UInt8]) {
        if case .requestFrame(let frame) = event {
            // Still encoded: as it came.
            bytes.append(contentsOf: frame.bytes.bytes)
            return
        }
        // Written in place: the length and kind are reserved, the fields appended, the length
        // patched (no body array copied in, no temporary array per integer).
        let start = bytes.count
        var body = FieldWriter(bytes: bytes)
        bytes = []
        body.bytes.append(contentsOf: [0, 0, 0, 0, 0, 0] as [UInt8])
        let kind: Kind
        switch event {
        case .hello(let version, let pid, let generation):
            kind = .hello
            body.int(version); body.int(pid); body.int(generation)
        case .ready(let plugin, let abi, let swift):
            kind = .ready
            body.string(plugin); body.string(abi); body.string(swift)
        case .loadFailed(let reason):
            kind = .loadFailed
            body.string(reason)
        case .serving:
            kind = .serving
        case .watchFile(let path):
            kind = .watchFile
            body.string(path)
        case .stoppedAccepting:
            kind = .stoppedAccepting
        case .requestStarted(let start):
            kind = .requestStarted
            // One allocation for the frame (appending grew it eight times or so).
            var estimate = 128 + start.id.utf8.count + start.client.utf8.count + start.target.utf8.count + start.environ.blob.count + 8 * start.environ.lengths.count
            for header in start.headers { estimate += 8 + header.name.utf8.count + header.value.utf8.count }
            body.bytes.reserveCapacity(body.bytes.count + estimate)
            body.string(start.id); body.int(start.generation); body.string(start.client); body.int(start.time)
            body.string(start.method); body.string(start.target); body.string(start.version); body.headers(start.headers)
            body.bytes(start.environ.blob)
            body.int(start.environ.lengths.count)
            for length in start.environ.lengths { body.int(Int(length)) }
        case .requestBody(let id, let bytes):
            kind = .requestBody
            body.string(id); body.bytes(bytes)
        case .requestBodyLent(let id, let lent):
            kind = .requestBody
            body.string(id); body.bytes(lent.array)
        case .requestFrame:
            preconditionFailure("appended as it came, above")
        case .responseStarted(let id, let status, let headers, let replaced):
            kind = .responseStarted
            body.string(id); body.string(status); body.headers(headers); body.int(replaced ? 1 : 0)
        case .headSent(let id, let head):
            kind = .headSent
            body.string(id); body.bytes(head)
        case .chunk(let id, let offset, let size, let bytes):
            kind = .chunk
            body.string(id); body.int(offset); body.int(size); body.bytes(bytes)
        case .errors(let id, let text):
            kind = .errors
            body.string(id); body.string(text)
        case .violation(let id, let kindName, let message):
            kind = .violation
            body.string(id); body.string(kindName); body.string(message)
        case .applicationError(let id, let type, let message):
            kind = .applicationError
            body.string(id); body.string(type); body.string(message)
        case .applicationEnviron(let id, let lines):
            kind = .applicationEnviron
            body.string(id); body.string(lines)
        case .crashed(let signal, let requestID):
            kind = .crashed
            body.int(signal); body.string(requestID)
        case .heartbeat:
            kind = .heartbeat
        case .applicationTraceback(let id, let lines):
            kind = .applicationTraceback
            body.string(id); body.string(lines)
        case .requestFinished(let summary):
            kind = .requestFinished
            body.string(summary.id); body.int(summary.generation); body.string(summary.client); body.string(summary.method)
            body.string(summary.target); body.string(summary.version); body.int(summary.status); body.int(summary.bytes)
            body.int(summary.durationMicroseconds); body.string(summary.outcome)
            body.int(summary.timings.startResponse); body.int(summary.timings.firstByte)
            body.int(summary.timings.lastByte); body.int(summary.timings.close); body.int(summary.requestBodySize)
        }
        let length = UInt32(body.bytes.count - start - headerSize + 1)
        for index in 0..<4 { body.bytes[start + index] = UInt8(truncatingIfNeeded: length >> (8 * UInt32(index))) }
        body.bytes[start + 4] = headerCheck(length: length, kind: kind.rawValue)
        body.bytes[start + 5] = kind.rawValue
        bytes = body.bytes
    }

    /// Appends the frame of ``WorkerEvent/requestStarted(_:)`` for a request with this head and
    /// environ, the same bytes as for the event, with no event, header array or compact environ
    /// made first (issue 14).
    static func encodeRequestStarted(summary: RequestSummary, time: Int, head: RequestHead, environ: EnvironStore, into bytes: inout [UInt8]) {
        // Sized first, then written through one pointer: appending field by field was ~110
        // calls per frame (issue 14).
        var environBytes = 0
        for index in 0..<environ.count { environBytes += environ.key(at: index).count + environ.value(at: index).count }
        var size = headerSize + 4 * 8 + 4 + environBytes + 16 * environ.count
        for text in [summary.id, summary.client, head.method, head.target, summary.version] { size += 4 + text.utf8.count }
        for header in head.headers { size += 8 + header.name.utf8.count + header.value.utf8.count }
        let start = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: size))
        bytes.withUnsafeMutableBytes { buffer in
            var cursor = buffer.baseAddress! + start + headerSize
            func int(_ value: Int) {
                cursor.storeBytes(of: Int64(value).littleEndian, as: Int64.self)
                cursor += 8
            }
            func length(_ value: Int) {
                cursor.storeBytes(of: UInt32(truncatingIfNeeded: value).littleEndian, as: UInt32.self)
                cursor += 4
            }
            func raw(_ field: UnsafeBufferPointer<UInt8>) {
                guard let base = field.baseAddress, field.count > 0 else { return }
                cursor.copyMemory(from: base, byteCount: field.count)
                cursor += field.count
            }
            func string(_ text: String) {
                var text = text
                text.withUTF8 { utf8 in
                    length(utf8.count)
                    raw(utf8)
                }
            }
            string(summary.id); int(summary.generation); string(summary.client); int(time)
            string(head.method); string(head.target); string(summary.version)
            int(head.headers.count)
            for header in head.headers { string(header.name); string(header.value) }
            length(environBytes)
            for index in 0..<environ.count {
                raw(environ.key(at: index).buffer)
                raw(environ.value(at: index).buffer)
            }
            int(2 * environ.count)
            for index in 0..<environ.count {
                int(environ.key(at: index).count)
                int(environ.value(at: index).count)
            }
            precondition(cursor == buffer.baseAddress! + start + size, "the start frame's size was computed wrong")
        }
        let length = UInt32(size - headerSize + 1)
        for index in 0..<4 { bytes[start + index] = UInt8(truncatingIfNeeded: length >> (8 * UInt32(index))) }
        bytes[start + 4] = headerCheck(length: length, kind: Kind.requestStarted.rawValue)
        bytes[start + 5] = Kind.requestStarted.rawValue
    }

    /// The start of a `.requestBody` or `.chunk` frame, everything but its `count` body bytes,
    /// which follow it on the stream as they are (``EventWriter/send(prefix:body:)``): a body
    /// is copied once, into the pending buffer, not into an event and then a frame (issue 14).
    static func bodyFramePrefix(requestBodyOf id: String, count: Int) -> [UInt8] {
        framePrefix(.requestBody, id: id, integers: [], count: count)
    }

    static func bodyFramePrefix(chunkOf id: String, offset: Int, size: Int, count: Int) -> [UInt8] {
        framePrefix(.chunk, id: id, integers: [offset, size], count: count)
    }

    /// The whole frame for a request body part of `count` bytes that lies in the shared body
    /// ring; its last 8 bytes are the ring position, which devserve_shim.c writes.
    static func sharedBodyFrame(requestBodyOf id: String, count: Int) -> [UInt8] {
        framePrefix(.requestBodyShared, id: id, integers: [count, 0], count: nil)
    }

    /// The whole frame for a response chunk part that lies in the shared body ring.
    static func sharedBodyFrame(chunkOf id: String, offset: Int, size: Int, count: Int) -> [UInt8] {
        framePrefix(.chunkShared, id: id, integers: [offset, size, count, 0], count: nil)
    }

    /// A frame's header and fields up to its body: with `count`, the body field's length (the
    /// `count` bytes follow); without, the frame is whole.
    private static func framePrefix(_ kind: Kind, id: String, integers: [Int], count: Int?) -> [UInt8] {
        var body = FieldWriter(bytes: [])
        body.bytes.reserveCapacity(headerSize + 4 + id.utf8.count + 8 * integers.count + 4)
        body.bytes.append(contentsOf: [0, 0, 0, 0, 0, kind.rawValue] as [UInt8])
        body.string(id)
        for value in integers { body.int(value) }
        if let count { body.length(count) }
        let length = UInt32(body.bytes.count - headerSize + 1 + (count ?? 0))
        for index in 0..<4 { body.bytes[index] = UInt8(truncatingIfNeeded: length >> (8 * UInt32(index))) }
        body.bytes[4] = headerCheck(length: length, kind: kind.rawValue)
        return body.bytes
    }

    private static func shared(_ count: Int, at position: Int, in ring: SharedBodyRing?) throws -> [UInt8] {
        guard let ring else { throw EventFrameError(detail: "a shared body frame without a shared body ring") }
        return try ring.take(count: count, at: position)
    }

    /// Length, check and kind.
    static let headerSize = 6
    /// The largest `length` a frame may announce.
    static let maxLength = 256 << 20

    /// The byte that follows a frame's length: its four bytes and the kind folded with a
    /// constant (devserve_shim.c computes the same for the crash frame).
    public static func headerCheck(length: UInt32, kind: UInt8) -> UInt8 {
        UInt8(truncatingIfNeeded: 0x5A ^ length ^ (length >> 8) ^ (length >> 16) ^ (length >> 24)) ^ kind
    }

    /// The crash frame as the worker's crash handler writes it (in C, devserve_shim.c): the
    /// same bytes, for tests that check the two encoders agree.
    public static func crashFrame(signal: Int32, requestID: String) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 96)
        let size = requestID.utf8CString.withUnsafeBufferPointer { id in
            bytes.withUnsafeMutableBufferPointer { devserve_shim_encode_crash_frame($0.baseAddress, signal, id.baseAddress, id.count - 1) }
        }
        return Array(bytes.prefix(size))
    }

    /// Decodes every complete frame at the front of `buffer`, removing them; a partial frame
    /// stays for the next call.
    /// - Throws: `EventFrameError` for a frame that does not decode (a foreign stream).
    public static func decode(_ buffer: inout [UInt8]) throws -> [WorkerEvent] {
        let (events, consumed) = try buffer.withUnsafeBytes { try decode(stream: $0) }
        buffer.removeFirst(consumed)
        return events
    }

    /// The complete frames at the front of `buffer`, consumed from it; a partial frame at its
    /// end stays for the next read. The supervisor's event stream: read straight into the
    /// buffer, decoded where it lies (issue 14: appending each read to an array, then moving
    /// what was left to its front, copied a 1 MiB echo's capture twice more).
    /// - Parameter ring: where the worker's shared body frames lie (none: such a frame is malformed).
    static func decode(_ buffer: inout ByteBuffer, ring: SharedBodyRing?) throws -> [WorkerEvent] {
        let (events, consumed) = try buffer.withUnsafeReadableBytes { try decode(stream: $0, ring: ring) }
        buffer.moveReaderIndex(forwardBy: consumed)
        return events
    }

    /// The supervisor's decoding: the complete frames at the front of `stream`, a request's
    /// own frames left encoded (``WorkerEvent/requestFrame(_:)``, lent from `stream`), handed
    /// to `handle` while `stream` is still borrowed. - Returns: the bytes the frames took.
    static func decodeLending(_ stream: UnsafeRawBufferPointer, ring: SharedBodyRing?, handle: ([WorkerEvent]) -> Void) throws -> Int {
        let (events, consumed) = try decode(stream: stream, ring: ring, lending: true)
        if !events.isEmpty { handle(events) }
        return consumed
    }

    /// The events of a request's frames kept as they came (``RequestFrame``), in order, up to
    /// the first that does not decode (and why it did not).
    static func decode(frames: UnsafeRawBufferPointer) -> (events: [WorkerEvent], failure: EventFrameError?) {
        var events: [WorkerEvent] = []
        var offset = 0
        while offset < frames.count {
            // Each frame alone: one that does not decode loses only itself and what follows.
            guard frames.count - offset >= headerSize else { return (events, EventFrameError(detail: "a partial frame at the end")) }
            let length = Int(UInt32(littleEndian: frames.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
            let end = offset + headerSize - 1 + length
            guard length >= 1, end <= frames.count else { return (events, EventFrameError(detail: "a partial frame at the end")) }
            do {
                let (decoded, _) = try decode(stream: UnsafeRawBufferPointer(rebasing: frames[offset..<end]))
                events += decoded
            } catch let error as EventFrameError {
                return (events, error)
            } catch {
                return (events, EventFrameError(detail: "\(error)"))
            }
            offset = end
        }
        return (events, nil)
    }

    /// The complete frames at the front of `stream`, and how many bytes they took.
    private static func decode(stream: UnsafeRawBufferPointer, ring: SharedBodyRing? = nil, lending: Bool = false) throws -> (events: [WorkerEvent], consumed: Int) {
        var events: [WorkerEvent] = []
        var offset = 0
        // Fields are read through one raw pointer: a slice per field retained and released
        // the array's storage twice per field (issue 14: ARC was a third of the supervisor).
        while stream.count - offset >= headerSize {
            let raw = UInt32(littleEndian: stream.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
            let length = Int(raw)
            let kindByte = stream[offset + 5]
            guard stream[offset + 4] == headerCheck(length: raw, kind: kindByte) else {
                throw EventFrameError(detail: "bad header check at a frame announcing \(length) bytes of kind \(kindByte)")
            }
            guard length >= 1, length <= maxLength else { throw EventFrameError(detail: "frame length \(length)") }
            guard let kind = Kind(rawValue: kindByte) else { throw EventFrameError(detail: "unknown kind \(kindByte)") }
            guard stream.count - offset - (headerSize - 1) >= length else { break }
            var reader = FieldReader(rest: UnsafeRawBufferPointer(rebasing: stream[(offset + headerSize)..<(offset + headerSize - 1 + length)]))
            if lending && kind.isKeptEncoded {
                let frame = UnsafeRawBufferPointer(rebasing: stream[offset..<(offset + headerSize - 1 + length)])
                let id = try reader.string()
                var start: RequestFrame.Start?
                if kind == .requestStarted {
                    // id, generation, client, time, method, target: the rest waits for a read.
                    _ = try reader.int()
                    let client = try reader.string()
                    _ = try reader.int()
                    start = RequestFrame.Start(client: client, method: try reader.string(), target: try reader.string())
                }
                events.append(.requestFrame(RequestFrame(id: id, start: start, bytes: LentBytes(bytes: frame))))
            } else {
                events.append(try decode(kind, &reader, ring: ring))
            }
            offset += headerSize - 1 + length
        }
        return (events, offset)
    }

    private static func decode(_ kind: Kind, _ r: inout FieldReader, ring: SharedBodyRing?) throws -> WorkerEvent {
        switch kind {
        case .requestBodyShared:
            let id = try r.string()
            guard let ring else { throw EventFrameError(detail: "a shared body frame without a shared body ring") }
            return .requestBodyLent(id: id, bytes: try ring.lend(count: try r.int(), at: try r.int()))
        case .chunkShared:
            let id = try r.string()
            let offset = try r.int()
            let size = try r.int()
            return .chunk(id: id, offset: offset, size: size, bytes: try shared(try r.int(), at: try r.int(), in: ring))
        case .hello: return .hello(version: try r.int(), pid: try r.int(), generation: try r.int())
        case .ready: return .ready(plugin: try r.string(), abi: try r.string(), swift: try r.string())
        case .loadFailed: return .loadFailed(reason: try r.string())
        case .serving: return .serving
        case .watchFile: return .watchFile(path: try r.string())
        case .stoppedAccepting: return .stoppedAccepting
        case .requestStarted:
            var start = RequestStart(
                id: try r.string(), generation: try r.int(), client: try r.string(), time: try r.int(), method: try r.string(),
                target: try r.string(), version: try r.string(), headers: try r.headers(), environ: CompactEnviron())
            let blob = try r.bytes()
            let count = try r.int()
            guard count >= 0 && count < 1 << 20 else { throw EventFrameError(detail: "environ count \(count)") }
            var lengths: [UInt32] = []
            lengths.reserveCapacity(count)
            for _ in 0..<count { lengths.append(UInt32(truncatingIfNeeded: try r.int())) }
            start.environ = CompactEnviron(blob: blob, lengths: lengths)
            guard start.environ.isConsistent else { throw EventFrameError(detail: "environ lengths do not match its bytes") }
            return .requestStarted(start)
        case .requestBody: return .requestBody(id: try r.string(), bytes: try r.bytes())
        case .responseStarted:
            return .responseStarted(id: try r.string(), status: try r.string(), headers: try r.headers(), replaced: try r.int() != 0)
        case .headSent: return .headSent(id: try r.string(), head: try r.bytes())
        case .chunk: return .chunk(id: try r.string(), offset: try r.int(), size: try r.int(), bytes: try r.bytes())
        case .errors: return .errors(id: try r.string(), text: try r.string())
        case .violation: return .violation(id: try r.string(), kind: try r.string(), message: try r.string())
        case .applicationError: return .applicationError(id: try r.string(), type: try r.string(), message: try r.string())
        case .applicationEnviron: return .applicationEnviron(id: try r.string(), lines: try r.string())
        case .crashed: return .crashed(signal: try r.int(), requestID: try r.string())
        case .heartbeat: return .heartbeat
        case .applicationTraceback: return .applicationTraceback(id: try r.string(), lines: try r.string())
        case .requestFinished:
            var summary = RequestSummary(
                id: try r.string(), generation: try r.int(), client: try r.string(), method: try r.string(), target: try r.string(),
                version: try r.string(), status: try r.int(), bytes: try r.int(), durationMicroseconds: try r.int(), outcome: try r.string())
            summary.timings.startResponse = try r.int()
            summary.timings.firstByte = try r.int()
            summary.timings.lastByte = try r.int()
            summary.timings.close = try r.int()
            summary.requestBodySize = try r.int()
            return .requestFinished(summary)
        }
    }

    private struct FieldWriter {
        var bytes: [UInt8]
        // Appended as typed bytes: an UnsafeRawBufferPointer is appended a byte at a time
        // (the generic path), 0.3 µs of each captured hello request's start frame (issue 14).
        mutating func int(_ value: Int) {
            let little = Int64(value).littleEndian
            withUnsafeBytes(of: little) { bytes.append(contentsOf: $0.assumingMemoryBound(to: UInt8.self)) }
        }
        mutating func length(_ value: Int) {
            let little = UInt32(truncatingIfNeeded: value).littleEndian
            withUnsafeBytes(of: little) { bytes.append(contentsOf: $0.assumingMemoryBound(to: UInt8.self)) }
        }
        mutating func bytes(_ value: [UInt8]) {
            length(value.count)
            bytes.append(contentsOf: value)
        }
        mutating func string(_ value: String) {
            let utf8 = value.utf8
            length(utf8.count)
            bytes.append(contentsOf: utf8)
        }
        mutating func headers(_ value: [HeaderField]) {
            int(value.count)
            for header in value { string(header.name); string(header.value) }
        }
    }

    /// Reads fields from one frame's bytes (valid while the stream buffer is borrowed).
    private struct FieldReader {
        var rest: UnsafeRawBufferPointer

        private mutating func take(_ count: Int) -> UnsafeRawBufferPointer {
            let taken = UnsafeRawBufferPointer(rebasing: rest[..<count])
            rest = UnsafeRawBufferPointer(rebasing: rest[count...])
            return taken
        }

        mutating func int() throws -> Int {
            guard rest.count >= 8 else { throw EventFrameError(detail: "short integer") }
            return Int(Int64(littleEndian: take(8).loadUnaligned(as: Int64.self)))
        }

        private mutating func field() throws -> UnsafeRawBufferPointer {
            guard rest.count >= 4 else { throw EventFrameError(detail: "short length") }
            let length = Int(UInt32(littleEndian: take(4).loadUnaligned(as: UInt32.self)))
            guard rest.count >= length else { throw EventFrameError(detail: "short field") }
            return take(length)
        }

        mutating func bytes() throws -> [UInt8] { Array(try field()) }

        mutating func string() throws -> String { String(decoding: try field(), as: UTF8.self) }

        mutating func headers() throws -> [HeaderField] {
            let count = try int()
            guard count >= 0 && count < 1 << 20 else { throw EventFrameError(detail: "header count \(count)") }
            var headers: [HeaderField] = []
            headers.reserveCapacity(count)
            for _ in 0..<count { headers.append(HeaderField(try string(), try string())) }
            return headers
        }
    }
}

/// A frame on the event stream that does not decode.
public struct EventFrameError: Error, CustomStringConvertible {
    public let detail: String
    public var description: String { "malformed worker event frame: \(detail)" }
}
