import ArgumentParser
import DevServer

/// The request limits, shared by `devserve PLUGIN.so` (which documents them) and the hidden
/// `worker` command (which the supervisor passes them to).
struct LimitOptions: ParsableArguments {
    @Option(help: "Largest request body in bytes; larger is answered 413.")
    var maxRequestBody = HTTPLimits().maxRequestBody

    @Option(help: "Seconds a client may take to send a request head; then 408 and the connection closes.")
    var headerTimeout = HTTPLimits().headerTimeout

    @Option(help: "Seconds an idle keep-alive connection stays open.")
    var idleTimeout = HTTPLimits().idleTimeout

    @Option(help: "Seconds requests in flight get to finish when devserve stops (or a reloaded worker retires).")
    var shutdownGrace = HTTPLimits().shutdownGrace

    /// The limits these options describe.
    var limits: HTTPLimits {
        var limits = HTTPLimits()
        limits.maxRequestBody = maxRequestBody
        limits.headerTimeout = headerTimeout
        limits.idleTimeout = idleTimeout
        limits.shutdownGrace = shutdownGrace
        return limits
    }
}
