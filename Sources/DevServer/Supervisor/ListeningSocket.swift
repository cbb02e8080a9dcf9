#if canImport(Glibc)
import Glibc
#endif

/// The listening socket the supervisor owns and every worker inherits as fd 3. The
/// supervisor never accepts on it: NIO in the workers sets it non-blocking.
public struct ListeningSocket: Sendable {
    public let descriptor: Int32
    /// The port actually bound (the real one when asked for port 0).
    public let port: Int
    public let host: String

    /// Why binding failed, in words a user can act on.
    public struct BindError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Binds and listens on `host:port` (IPv4 or IPv6 literal, or a name such as
    /// "localhost").
    public static func bind(host: String, port: Int, backlog: Int32 = 1024) throws -> ListeningSocket {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            throw BindError(description: "cannot resolve host \(host): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(list) }
        let descriptor = socket(first.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw BindError(description: "socket failed: \(CText.errorText(errno))") }
        var yes: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        if Glibc.bind(descriptor, first.pointee.ai_addr, first.pointee.ai_addrlen) != 0 {
            let code = errno
            close(descriptor)
            switch code {
            case EADDRINUSE: throw BindError(description: "port \(port) on \(host) is already in use: stop the other server or pick another with --port (--port 0 picks a free one)")
            case EACCES: throw BindError(description: "no permission to bind port \(port) on \(host): ports below 1024 need privileges")
            case EADDRNOTAVAIL: throw BindError(description: "\(host) is not an address of this machine")
            default: throw BindError(description: "cannot bind \(host):\(port): \(CText.errorText(code))")
            }
        }
        guard listen(descriptor, backlog) == 0 else {
            let code = errno
            close(descriptor)
            throw BindError(description: "cannot listen on \(host):\(port): \(CText.errorText(code))")
        }
        var address = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let boundPort = withUnsafeMutablePointer(to: &address) { pointer -> Int in
            _ = pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
            if Int32(pointer.pointee.ss_family) == AF_INET6 {
                return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin6_port)) }
            }
            return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
        }
        return ListeningSocket(descriptor: descriptor, port: boundPort, host: host)
    }

    /// Whether `host` is a loopback address or name (anything else gets a warning).
    public static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host.hasPrefix("127.") || host == "::1" || host == "[::1]"
    }
}
