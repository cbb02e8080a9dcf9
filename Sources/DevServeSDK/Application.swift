import CDevServe

/// A web application: PEP 3333, "The Application/Framework Side".
///
/// Called once per request, possibly from several threads at once (`wsgi.multithread` is
/// true), with the request's environ and the `start_response` callable. It calls
/// `startResponse` before its body produces a non-empty chunk, and returns the body.
/// Throwing before anything was sent makes the server answer 500; throwing after the headers
/// went out makes it abort the response.
public typealias Application = @Sendable (Environ, StartResponse) throws -> ResponseBody
