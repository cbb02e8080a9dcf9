/// Where a request came from and where it arrived: the environ's REMOTE_* and SERVER_*.
public struct ConnectionInfo: Sendable {
    /// REMOTE_ADDR
    public let remoteAddress: String
    /// REMOTE_PORT
    public let remotePort: Int
    /// "address:port", made once per connection (the record and the access log name the
    /// client so; an interpolation per request was an allocation).
    public let client: String
    /// SERVER_NAME: the host the server listens on; never empty.
    public var serverName: String
    /// SERVER_PORT
    public var serverPort: Int
    /// wsgi.url_scheme
    public var scheme: String

    public init(remoteAddress: String = "127.0.0.1", remotePort: Int = 0, serverName: String = "127.0.0.1", serverPort: Int = 8000, scheme: String = "http") {
        self.remoteAddress = remoteAddress
        self.remotePort = remotePort
        client = "\(remoteAddress):\(remotePort)"
        self.serverName = serverName.isEmpty ? "localhost" : serverName
        self.serverPort = serverPort
        self.scheme = scheme
    }
}
