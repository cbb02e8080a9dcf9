/// Builds a request's environ: PEP 3333, "environ Variables", with the rules of docs/GATEWAY.md.
public struct EnvironBuilder: Sendable {
    /// SCRIPT_NAME: the prefix the application is mounted under; "" at the root. No trailing
    /// slash.
    public var mountPrefix: String
    /// SERVER_SOFTWARE
    public var serverSoftware: String

    public init(mountPrefix: String = "", serverSoftware: String = "devserve/\(DevServeVersion.current)") {
        var prefix = mountPrefix
        while prefix.hasSuffix("/") { prefix.removeLast() }
        self.mountPrefix = prefix
        self.serverSoftware = serverSoftware
    }

    /// The environ for a request, or nil when its path is outside the mount prefix.
    ///
    /// - PATH_INFO is percent-decoded to raw bytes (so non-UTF-8 bytes survive; PEP 3333 does
    ///   the same with Latin-1 native strings) after SCRIPT_NAME is taken off its front.
    /// - QUERY_STRING is the text after the first `?`, not decoded.
    /// - Each header becomes HTTP_NAME (upper-cased, `-` to `_`), repeated headers joined with
    ///   ","; Content-Type and Content-Length become CONTENT_TYPE and CONTENT_LENGTH instead.
    ///   Header names containing `_` are dropped: they would be indistinguishable from the
    ///   `-` spelling in the environ, a known way to smuggle a spoofed header past a proxy
    ///   (gunicorn and nginx drop them too).
    func build(head: RequestHead, connection: ConnectionInfo, requestID: String) -> EnvironStore? {
        let (rawPath, query) = Self.split(target: head.target)
        let path = PercentDecoding.decode(Array(rawPath.utf8))
        let prefix = Array(mountPrefix.utf8)
        // The asterisk-form (`OPTIONS *`, RFC 9112 section 3.2.4) asks about the server, not a
        // path: an application at the root gets PATH_INFO "*"; a mounted one is not asked.
        let asterisk = prefix.isEmpty && head.target == "*"
        let mounted = path.starts(with: prefix) && (path.count == prefix.count || path[prefix.count] == UInt8(ascii: "/"))
        guard asterisk || mounted else { return nil }

        // Every key below is distinct (HTTP_* never collides with the CGI names), so entries
        // are appended without a lookup.
        let environ = EnvironStore()
        environ.append("REQUEST_METHOD".utf8, head.method.utf8)
        environ.append("SCRIPT_NAME".utf8, prefix)
        environ.append("PATH_INFO".utf8, path[prefix.count...])
        environ.append("QUERY_STRING".utf8, query.utf8)
        environ.append("REQUEST_URI".utf8, head.target.utf8)
        environ.append("SERVER_NAME".utf8, connection.serverName.utf8)
        environ.append("SERVER_PORT".utf8, String(connection.serverPort).utf8)
        switch head.version {
        case .http1_1: environ.append("SERVER_PROTOCOL".utf8, "HTTP/1.1".utf8)
        case .http1_0: environ.append("SERVER_PROTOCOL".utf8, "HTTP/1.0".utf8)
        default: environ.append("SERVER_PROTOCOL".utf8, head.version.description.utf8)
        }
        environ.append("SERVER_SOFTWARE".utf8, serverSoftware.utf8)
        environ.append("REMOTE_ADDR".utf8, connection.remoteAddress.utf8)
        environ.append("REMOTE_PORT".utf8, String(connection.remotePort).utf8)

        // Keys written as bytes straight into the environ's arena, repeats found by a scan (a
        // request has a few dozen headers at most): no String, array or dictionary per header
        // (issue 14).
        let headersStart = environ.count
        for (index, header) in head.headers.enumerated() where !header.name.utf8.contains(UInt8(ascii: "_")) {
            if let raw = head.rawValues[index] {
                environ.appendHeader(name: header.name.utf8, value: raw, headersStart: headersStart)
            } else {
                environ.appendHeader(name: header.name.utf8, value: header.value.utf8, headersStart: headersStart)
            }
        }

        environ.append("wsgi.version".utf8, "1.0".utf8)
        environ.append("wsgi.url_scheme".utf8, connection.scheme.utf8)
        environ.append("wsgi.multithread".utf8, "true".utf8)
        // True: during a reload the old generation finishes its requests while the new one
        // serves, so an equivalent application may run in another process at the same time.
        environ.append("wsgi.multiprocess".utf8, "true".utf8)
        environ.append("wsgi.run_once".utf8, "false".utf8)
        environ.append("wsgi.input_terminated".utf8, "true".utf8)
        environ.append("devserve.request_id".utf8, requestID.utf8)
        return environ
    }

    static func split(target: String) -> (path: Substring, query: Substring) {
        var rest = Substring(target)
        if !rest.hasPrefix("/"), RequestTargetForm.isAbsoluteForm(rest), let colon = rest.firstIndex(of: ":") {
            let afterAuthority = rest[rest.index(colon, offsetBy: 3)...]
            rest = afterAuthority.firstIndex(where: { $0 == "/" || $0 == "?" }).map { afterAuthority[$0...] } ?? "/"
            if rest.hasPrefix("?") { rest = "/" + rest }
        }
        guard let question = rest.firstIndex(of: "?") else { return (rest, "") }
        return (rest[..<question], rest[rest.index(after: question)...])
    }
}
