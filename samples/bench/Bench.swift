import DevServeSDK
#if canImport(Glibc)
import Glibc
#endif

/// The application the benchmarks serve, the same in every server (bench/peers/app.py is its
/// Python twin):
///
///     /hello                    "Hello world!\n" with its Content-Length
///     /stream?n=20&delay_ms=5   n chunks "S<i> <CLOCK_MONOTONIC ns>E\n", delay_ms apart, so a
///                               client on this machine can tell how long each took to arrive
///     /echo                     the request body back
@c public func devserve_plugin_entry() -> UnsafeRawPointer {
    Plugin.export(name: "bench") { environ, startResponse in
        switch environ.pathInfo {
        case "/stream":
            let count = environ.query("n").flatMap { Int($0) } ?? 20
            let delay = environ.query("delay_ms").flatMap { Int($0) } ?? 5
            try startResponse("200 OK", [("Content-Type", "text/plain")])
            var index = 0
            return .stream {
                guard index < count else { return nil }
                if index > 0 { usleep(UInt32(delay * 1000)) }
                index += 1
                var now = timespec()
                clock_gettime(CLOCK_MONOTONIC, &now)
                return Array("S\(index) \(now.tv_sec * 1_000_000_000 + now.tv_nsec)E\n".utf8)
            }
        case "/echo":
            let body = try environ.input.readAll()
            try startResponse("200 OK", [("Content-Type", "application/octet-stream"), ("Content-Length", String(body.count))])
            return .bytes(body)
        default:
            let body = Array("Hello world!\n".utf8)
            try startResponse("200 OK", [("Content-Type", "text/plain"), ("Content-Length", String(body.count))])
            return .bytes(body)
        }
    }
}
