import CZlib

/// gzip and deflate bodies decoded with zlib (RFC 9110 §8.4.1), so the inspector shows what the
/// client will see.
public enum Inflate {
    /// The decoded bytes, or nil when `bytes` is not valid for `coding`. Stops at `limit`.
    public static func decode(_ bytes: [UInt8], coding: String, limit: Int = 256 << 20) -> [UInt8]? {
        switch coding.lowercased() {
        case "gzip", "x-gzip": return inflate(bytes, windowBits: 15 + 16, limit: limit)
        // "deflate" is meant to be zlib-wrapped, but raw deflate is common in the wild.
        case "deflate": return inflate(bytes, windowBits: 15, limit: limit) ?? inflate(bytes, windowBits: -15, limit: limit)
        default: return nil
        }
    }

    private static func inflate(_ input: [UInt8], windowBits: Int32, limit: Int) -> [UInt8]? {
        guard !input.isEmpty else { return nil }
        var stream = z_stream()
        guard devserve_zlib_inflate_init(&stream, windowBits) == Z_OK else { return nil }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var input = input
        return input.withUnsafeMutableBufferPointer { source -> [UInt8]? in
            stream.next_in = source.baseAddress
            stream.avail_in = uInt(source.count)
            while true {
                let status: Int32 = chunk.withUnsafeMutableBufferPointer { buffer in
                    stream.next_out = buffer.baseAddress
                    stream.avail_out = uInt(buffer.count)
                    return CZlib.inflate(&stream, Z_NO_FLUSH)
                }
                let produced = chunk.count - Int(stream.avail_out)
                output += chunk[0..<produced]
                if status == Z_STREAM_END { return output }
                if status != Z_OK || output.count > limit { return status == Z_BUF_ERROR && !output.isEmpty ? output : nil }
                if stream.avail_in == 0 && produced == 0 { return output.isEmpty ? nil : output }
            }
        }
    }
}
