import ArgumentParser
import DevServer

/// The request limits, shared by `devserve PLUGIN.so` (which documents them) and the hidden
/// `worker` command (which the supervisor passes them to).
struct LimitOptions: ParsableArguments {
    @Option(help: "Largest request body in bytes; larger is answered 413.")
    var maxRequestBody = HTTPLimits().maxRequestBody

    @Option(help: "Seconds a client may take to send a request head, counted from the connection's start; then 408 and the connection closes.")
    var headerTimeout = HTTPLimits().headerTimeout

    @Option(help: "Seconds a request body may pause between reads; then 408 if the application has not answered yet, and its read fails.")
    var bodyTimeout = HTTPLimits().bodyTimeout

    @Option(help: ArgumentHelp("Request bodies up to this size (e.g. 1M) are read before the application is called, so slow uploads hold no application thread; larger ones stream.", valueName: "bytes"))
    var bufferBody = ByteSize(HTTPLimits().bufferBody)

    @Option(help: "Seconds an idle keep-alive connection stays open.")
    var idleTimeout = HTTPLimits().idleTimeout

    @Option(help: "Seconds requests in flight get to finish when devserve stops (or a reloaded worker retires).")
    var shutdownGrace = HTTPLimits().shutdownGrace

    /// The limits these options describe.
    var limits: HTTPLimits {
        var limits = HTTPLimits()
        limits.maxRequestBody = maxRequestBody
        limits.headerTimeout = headerTimeout
        limits.bodyTimeout = bodyTimeout
        limits.bufferBody = bufferBody.bytes
        limits.idleTimeout = idleTimeout
        limits.shutdownGrace = shutdownGrace
        return limits
    }
}
