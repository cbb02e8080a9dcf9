/// The wire format of ``WorkerEvent``: `[u32 length][u8 kind][fields]`, little-endian;
/// strings are `[u32 length][UTF-8]`, integers `i64`. `length` counts kind and fields.
public enum EventFrame {
    private enum Kind: UInt8 {
        case hello = 1, ready, loadFailed, requestStarted, requestFinished, errors, violation, applicationError
    }

    /// Appends the frame for `event` to `bytes`.
    public static func encode(_ event: WorkerEvent, into bytes: inout [UInt8]) {
        var body = FieldWriter()
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
        case .requestStarted(let id, let method, let target, let client):
            kind = .requestStarted
            body.string(id); body.string(method); body.string(target); body.string(client)
        case .requestFinished(let summary):
            kind = .requestFinished
            body.string(summary.id); body.int(summary.generation); body.string(summary.client); body.string(summary.method)
            body.string(summary.target); body.string(summary.version); body.int(summary.status); body.int(summary.bytes)
            body.int(summary.durationMicroseconds); body.string(summary.outcome)
        case .errors(let id, let text):
            kind = .errors
            body.string(id); body.string(text)
        case .violation(let id, let kindName, let message):
            kind = .violation
            body.string(id); body.string(kindName); body.string(message)
        case .applicationError(let id, let type, let message):
            kind = .applicationError
            body.string(id); body.string(type); body.string(message)
        }
        let length = UInt32(body.bytes.count + 1)
        bytes += withUnsafeBytes(of: length.littleEndian, Array.init)
        bytes.append(kind.rawValue)
        bytes += body.bytes
    }

    /// Decodes every complete frame at the front of `buffer`, removing them; a partial frame
    /// stays for the next call.
    /// - Throws: `EventFrameError` for a frame that does not decode (a foreign stream).
    public static func decode(_ buffer: inout [UInt8]) throws -> [WorkerEvent] {
        var events: [WorkerEvent] = []
        var offset = 0
        while buffer.count - offset >= 5 {
            let length = Int(buffer[offset..<offset + 4].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
            guard length >= 1, length <= 64 << 20 else { throw EventFrameError(detail: "frame length \(length)") }
            guard buffer.count - offset - 4 >= length else { break }
            var reader = FieldReader(bytes: buffer[(offset + 5)..<(offset + 4 + length)])
            guard let kind = Kind(rawValue: buffer[offset + 4]) else { throw EventFrameError(detail: "unknown kind \(buffer[offset + 4])") }
            events.append(try decode(kind, &reader))
            offset += 4 + length
        }
        buffer.removeFirst(offset)
        return events
    }

    private static func decode(_ kind: Kind, _ r: inout FieldReader) throws -> WorkerEvent {
        switch kind {
        case .hello: return .hello(version: try r.int(), pid: try r.int(), generation: try r.int())
        case .ready: return .ready(plugin: try r.string(), abi: try r.string(), swift: try r.string())
        case .loadFailed: return .loadFailed(reason: try r.string())
        case .requestStarted: return .requestStarted(id: try r.string(), method: try r.string(), target: try r.string(), client: try r.string())
        case .requestFinished:
            return .requestFinished(RequestSummary(
                id: try r.string(), generation: try r.int(), client: try r.string(), method: try r.string(), target: try r.string(),
                version: try r.string(), status: try r.int(), bytes: try r.int(), durationMicroseconds: try r.int(), outcome: try r.string()))
        case .errors: return .errors(id: try r.string(), text: try r.string())
        case .violation: return .violation(id: try r.string(), kind: try r.string(), message: try r.string())
        case .applicationError: return .applicationError(id: try r.string(), type: try r.string(), message: try r.string())
        }
    }

    private struct FieldWriter {
        var bytes: [UInt8] = []
        mutating func int(_ value: Int) { bytes += withUnsafeBytes(of: Int64(value).littleEndian, Array.init) }
        mutating func string(_ value: String) {
            let utf8 = Array(value.utf8)
            bytes += withUnsafeBytes(of: UInt32(utf8.count).littleEndian, Array.init)
            bytes += utf8
        }
    }

    private struct FieldReader {
        var bytes: ArraySlice<UInt8>
        mutating func int() throws -> Int {
            guard bytes.count >= 8 else { throw EventFrameError(detail: "short integer") }
            defer { bytes = bytes.dropFirst(8) }
            return Int(Int64(littleEndian: bytes.prefix(8).reversed().reduce(Int64(0)) { $0 << 8 | Int64($1) }))
        }
        mutating func string() throws -> String {
            guard bytes.count >= 4 else { throw EventFrameError(detail: "short string length") }
            let length = Int(bytes.prefix(4).reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
            bytes = bytes.dropFirst(4)
            guard bytes.count >= length else { throw EventFrameError(detail: "short string") }
            defer { bytes = bytes.dropFirst(length) }
            return String(decoding: bytes.prefix(length), as: UTF8.self)
        }
    }
}

/// A frame on the event stream that does not decode.
public struct EventFrameError: Error, CustomStringConvertible {
    public let detail: String
    public var description: String { "malformed worker event frame: \(detail)" }
}
