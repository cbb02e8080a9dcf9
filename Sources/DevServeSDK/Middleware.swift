/// Middleware: to the server an application, to the application a server (PEP 3333,
/// "Middleware: Components that Play Both Sides").
///
/// A value wrapping `next`. It may change the environ before calling `next`, wrap
/// `startResponse` to rewrite status and headers, and wrap the returned body, keeping the
/// block boundary rule (each chunk `next` yields produces at least one chunk, possibly empty,
/// before the next one is asked for); ``ResponseBody/mapChunks(_:)`` does that.
public protocol Middleware: Sendable {
    func handle(_ environ: Environ, _ startResponse: StartResponse, next: Application) throws -> ResponseBody
}

/// A stack of middleware in front of an application: the one place a stack is composed.
///
/// The first middleware in the list is the outermost: it sees the request first and the
/// response last. `MiddlewareStack([a, b], app)` serves as `a(b(app))`.
public struct MiddlewareStack: Sendable {
    public let middleware: [any Middleware]
    public let application: Application

    public init(_ middleware: [any Middleware], application: @escaping Application) {
        self.middleware = middleware
        self.application = application
    }

    /// The composed application.
    public var composed: Application {
        middleware.reversed().reduce(application) { next, layer in
            { environ, startResponse in try layer.handle(environ, startResponse, next: next) }
        }
    }
}
