/// Builds a request's environ: PEP 3333, "environ Variables", with the rules of GATEWAY.md.
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
        guard path.starts(with: prefix), path.count == prefix.count || path[prefix.count] == UInt8(ascii: "/") else { return nil }

        let environ = EnvironStore()
        environ["REQUEST_METHOD"] = Array(head.method.utf8)
        environ["SCRIPT_NAME"] = prefix
        environ["PATH_INFO"] = Array(path[prefix.count...])
        environ["QUERY_STRING"] = Array(query.utf8)
        environ["REQUEST_URI"] = Array(head.target.utf8)
        environ["SERVER_NAME"] = Array(connection.serverName.utf8)
        environ["SERVER_PORT"] = Array(String(connection.serverPort).utf8)
        environ["SERVER_PROTOCOL"] = Array(head.version.description.utf8)
        environ["SERVER_SOFTWARE"] = Array(serverSoftware.utf8)
        environ["REMOTE_ADDR"] = Array(connection.remoteAddress.utf8)
        environ["REMOTE_PORT"] = Array(String(connection.remotePort).utf8)

        var order: [String] = []
        var joined: [String: String] = [:]
        for (name, value) in head.headers where !name.contains("_") {
            let key: String
            switch name.lowercased() {
            case "content-type": key = "CONTENT_TYPE"
            case "content-length": key = "CONTENT_LENGTH"
            default: key = "HTTP_" + name.uppercased().replacingDashes()
            }
            if let existing = joined[key] {
                joined[key] = existing + "," + value
            } else {
                order.append(key)
                joined[key] = value
            }
        }
        for key in order { environ[key] = Array(joined[key]!.utf8) }

        environ["wsgi.version"] = Array("1.0".utf8)
        environ["wsgi.url_scheme"] = Array(connection.scheme.utf8)
        environ["wsgi.multithread"] = Array("true".utf8)
        environ["wsgi.multiprocess"] = Array("false".utf8)
        environ["wsgi.run_once"] = Array("false".utf8)
        environ["wsgi.input_terminated"] = Array("true".utf8)
        environ["devserve.request_id"] = Array(requestID.utf8)
        return environ
    }

    /// Splits a request-target into its path and query; an absolute-form target loses its
    /// scheme and authority (RFC 9112 section 3.2.2).
    static func split(target: String) -> (path: Substring, query: Substring) {
        var rest = Substring(target)
        if !rest.hasPrefix("/"), let colon = rest.firstIndex(of: ":"), rest[colon...].hasPrefix("://") {
            let afterAuthority = rest[rest.index(colon, offsetBy: 3)...]
            rest = afterAuthority.firstIndex(where: { $0 == "/" || $0 == "?" }).map { afterAuthority[$0...] } ?? "/"
            if rest.hasPrefix("?") { rest = "/" + rest }
        }
        guard let question = rest.firstIndex(of: "?") else { return (rest, "") }
        return (rest[..<question], rest[rest.index(after: question)...])
    }
}

extension String {
    fileprivate func replacingDashes() -> String { String(map { $0 == "-" ? "_" : $0 }) }
}
