import DevServeSDK

/// Middleware that appends a line to every response, correcting Content-Length when the
/// application set one.
struct Footer: Middleware {
    let line: String

    func handle(_ environ: Environ, _ startResponse: StartResponse, next: Application) throws -> ResponseBody {
        let footer = Array(line.utf8)
        let wrapped = StartResponse { status, headers, excInfo in
            let adjusted = headers.map { name, value -> (String, String) in
                guard name.lowercased() == "content-length", let length = Int(value) else { return (name, value) }
                return (name, String(length + footer.count))
            }
            return try startResponse(status, adjusted, excInfo: excInfo)
        }
        return try next(environ, wrapped).appending(footer)
    }
}
