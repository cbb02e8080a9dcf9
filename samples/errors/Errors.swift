import DevServeSDK
#if canImport(Glibc)
import Glibc
#endif

/// An error the sample raises on purpose.
struct DeliberateError: Error, CustomStringConvertible {
    let description: String
}

/// Every way an application can fail, one route each:
///
///     /throw-before   throws before start_response           -> 500
///     /throw-after    throws after the first chunk            -> response aborted
///     /exc-info       200, then start_response(500, exc_info) before any body -> 500
///     /exc-info-late  write() a chunk, then start_response(exc_info) -> re-raised, aborted
///     /trap           a Swift trap (force-unwrap of nil)      -> the worker dies
///     /short          Content-Length 100, sends 10 bytes      -> connection closed
///     /hop            sets a Connection header                -> header dropped, violation
///     /slow?ms=N      sleeps N ms (default 1000), then answers
///     /log            writes to wsgi.errors, then answers
@c public func devserve_plugin_entry() -> UnsafeRawPointer {
    Plugin.export(name: "errors") { environ, startResponse in
        switch environ.pathInfo {
        case "/throw-before":
            throw DeliberateError(description: "failed before start_response")
        case "/throw-after":
            try startResponse("200 OK", [("Content-Type", "text/plain")])
            var sent = false
            return .stream {
                if sent { throw DeliberateError(description: "failed after the first chunk") }
                sent = true
                return Array("first chunk\n".utf8)
            }
        case "/exc-info":
            try startResponse("200 OK", [("Content-Type", "text/plain")])
            let error = DeliberateError(description: "changed our mind before any body")
            try startResponse("500 Internal Server Error", [("Content-Type", "text/plain")], excInfo: error)
            return .text("recovered with exc_info\n")
        case "/exc-info-late":
            let write = try startResponse("200 OK", [("Content-Type", "text/plain")])
            try write("headers and a first chunk are out\n")
            // Too late to change the status: start_response hands the error back, and the
            // application lets it propagate, so the server aborts the response.
            try startResponse("500 Internal Server Error", [("Content-Type", "text/plain")], excInfo: DeliberateError(description: "failed after sending"))
            return .text("unreachable\n")
        case "/trap":
            let nothing: Int? = environ["devserve.no-such-key"].flatMap { Int($0) }
            return .text("unreachable \(nothing!)\n")
        case "/short":
            try startResponse("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "100")])
            return .text("ten bytes\n")
        case "/hop":
            try startResponse("200 OK", [("Content-Type", "text/plain"), ("Connection", "close")])
            return .text("I tried to set Connection\n")
        case "/slow":
            let milliseconds = environ.query("ms").flatMap { Int($0) } ?? 1000
            // The whole time, even when a signal cuts a sleep short (a crashing worker's
            // backtracer signals every thread): nanosleep says what was left.
            var request = timespec(tv_sec: max(0, milliseconds) / 1000, tv_nsec: (max(0, milliseconds) % 1000) * 1_000_000)
            var left = timespec()
            while nanosleep(&request, &left) != 0 && errno == EINTR { request = left }
            try startResponse("200 OK", [("Content-Type", "text/plain")])
            return .text("slept \(milliseconds) ms\n")
        case "/log":
            environ.errors.write("a line for wsgi.errors\n")
            environ.errors.flush()
            try startResponse("200 OK", [("Content-Type", "text/plain")])
            return .text("logged\n")
        default:
            let routes = "/throw-before /throw-after /exc-info /exc-info-late /trap /short /hop /slow?ms=N /log\n"
            try startResponse("404 Not Found", [("Content-Type", "text/plain")])
            return .text(routes)
        }
    }
}
