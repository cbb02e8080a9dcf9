import DevServeSDK
#if canImport(Glibc)
import Glibc
#endif

/// A streaming body: `n` chunks of `size` bytes, `delay_ms` apart (defaults 20, 100, 50), with
/// no Content-Length, so the server uses chunked transfer coding and sends each chunk as soon
/// as it is yielded. Each chunk starts with its number, so a client can see them arrive.
@c public func devserve_plugin_entry() -> UnsafeRawPointer {
    Plugin.export(name: "stream") { environ, startResponse in
        let count = environ.query("n").flatMap { Int($0) }.map { max(0, $0) } ?? 20
        let size = environ.query("size").flatMap { Int($0) }.map { max(1, $0) } ?? 100
        let delay = environ.query("delay_ms").flatMap { Int($0) }.map { max(0, $0) } ?? 50
        try startResponse("200 OK", [("Content-Type", "text/plain; charset=utf-8"), ("Cache-Control", "no-cache")])
        var produced = 0
        return .stream {
            guard produced < count else { return nil }
            if produced > 0, delay > 0 { usleep(UInt32(delay) * 1000) }
            produced += 1
            return chunk(number: produced, size: size)
        }
    }
}

/// "chunk 7 " padded with dots to `size` bytes, ending in a newline.
private func chunk(number: Int, size: Int) -> [UInt8] {
    var bytes = Array("chunk \(number) ".utf8)
    if bytes.count < size { bytes += [UInt8](repeating: UInt8(ascii: "."), count: size - bytes.count) }
    bytes = Array(bytes.prefix(size))
    bytes[bytes.count - 1] = UInt8(ascii: "\n")
    return bytes
}
