import DevServeSDK

/// The small applications the router sample mounts.
enum Apps {
    /// Plain text greeting.
    static let hello: Application = { _, startResponse in
        let body = Array("hello from the router\n".utf8)
        try startResponse("200 OK", [("Content-Type", "text/plain"), ("Content-Length", String(body.count))])
        return .bytes(body)
    }

    /// Shows where the router mounted it: SCRIPT_NAME and PATH_INFO.
    static let whereAmI: Application = { environ, startResponse in
        try startResponse("200 OK", [("Content-Type", "text/plain")])
        return .text("SCRIPT_NAME=\(environ.scriptName) PATH_INFO=\(environ.pathInfo)\n")
    }

    /// Counts to `n` (default 3), one chunk per number.
    static let count: Application = { environ, startResponse in
        let limit = environ.query("n").flatMap { Int($0) } ?? 3
        try startResponse("200 OK", [("Content-Type", "text/plain")])
        return .chunks((1...max(1, limit)).map { Array("\($0)\n".utf8) })
    }
}
