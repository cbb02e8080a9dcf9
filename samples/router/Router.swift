import DevServeSDK

/// URL routing as an application: a table from PATH_INFO prefix to application.
///
/// The longest prefix that matches on a segment boundary wins; the matched prefix moves from
/// PATH_INFO to the end of SCRIPT_NAME (PEP 3333, "URL Reconstruction": SCRIPT_NAME +
/// PATH_INFO is unchanged). No match is a 404.
struct Router: Sendable {
    let routes: [(prefix: String, application: Application)]

    init(_ routes: [(String, Application)]) {
        self.routes = routes.map { (prefix: $0.0, application: $0.1) }.sorted { $0.prefix.count > $1.prefix.count }
    }

    func callAsFunction(_ environ: Environ, _ startResponse: StartResponse) throws -> ResponseBody {
        let path = environ.pathInfoBytes
        for route in routes {
            let prefix = Array(route.prefix.utf8)
            guard path.starts(with: prefix), path.count == prefix.count || path[prefix.count] == UInt8(ascii: "/") else { continue }
            environ.setBytes("SCRIPT_NAME", (environ.bytes("SCRIPT_NAME") ?? []) + prefix)
            environ.setBytes("PATH_INFO", Array(path[prefix.count...]))
            return try route.application(environ, startResponse)
        }
        let body = Array("No route for \(environ.pathInfo)\n".utf8)
        try startResponse("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", String(body.count))])
        return .bytes(body)
    }
}
