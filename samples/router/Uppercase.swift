import DevServeSDK

/// Middleware that transforms every chunk (ASCII letters to upper case), one chunk out for
/// each chunk in: the block boundary rule of PEP 3333, "Middleware Handling of Block
/// Boundaries". Lengths do not change, so Content-Length stays right.
struct Uppercase: Middleware {
    func handle(_ environ: Environ, _ startResponse: StartResponse, next: Application) throws -> ResponseBody {
        try next(environ, startResponse).mapChunks { chunk in
            chunk.map { $0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z") ? $0 - 32 : $0 }
        }
    }
}
