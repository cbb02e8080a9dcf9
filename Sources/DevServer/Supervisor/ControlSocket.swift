import CDevServeShim
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// Where control sockets live and how commands and answers look on them.
///
/// One socket per running devserve, named after its port, in `$XDG_RUNTIME_DIR/devserve` or
/// else a per-user directory under /tmp, mode 0700; the socket itself is 0600. A client sends
/// one JSON request line and reads one JSON answer until the server closes.
public enum ControlSocket {
    /// A command from `devserve ls`, `show`, `pause`, `resume`, `clear`.
    public struct Request: Codable, Sendable {
        public var command: String
        public var filter: String?
        public var id: Int?
        /// `replay` and `export`: which entries.
        public var ids: [Int]?
        /// `export`: har, curl or raw.
        public var format: String?
        /// `show` and `export`: credentials unmasked.
        public var reveal: Bool?

        public init(command: String, filter: String? = nil, id: Int? = nil, ids: [Int]? = nil, format: String? = nil, reveal: Bool? = nil) {
            self.command = command
            self.filter = filter
            self.id = id
            self.ids = ids
            self.format = format
            self.reveal = reveal
        }
    }

    /// The answer: `error` set when the command failed.
    public struct Response: Codable, Sendable {
        public var error: String?
        /// For a filter error: where in the expression.
        public var errorPosition: Int?
        public var entries: [RecordJSON.Summary]?
        public var record: RecordJSON.Full?
        public var statistics: Recorder.Statistics?
        public var url: String?
        /// What serves: generation, and whether the build is stale and why.
        public var status: String?
        /// `replay`: one line per request replayed; `failed` when any failed.
        public var replays: [String]?
        public var failed: Bool?
        /// `export`: the exported text (raw HTTP: its bytes in base64).
        public var export: String?

        public init() {}
    }

    /// The directory of control sockets for this user.
    public static var directory: String {
        if let runtime = ProcessEnvironment.value("XDG_RUNTIME_DIR"), !runtime.isEmpty { return "\(runtime)/devserve" }
        return "\(ProcessEnvironment.value("TMPDIR") ?? "/tmp")/devserve-\(getuid())"
    }

    /// The socket of the devserve on `port`.
    public static func path(port: Int) -> String { "\(directory)/\(port).sock" }

    /// The ports of running devserve instances that have a socket here. A socket nobody
    /// answers on was left by a devserve that was killed: it is skipped and removed.
    /// - Throws: `PrivateDirectory.Unsafe` when the directory is not this user's own.
    public static func runningPorts() throws -> [Int] {
        guard access(directory, F_OK) == 0 else { return [] }
        try PrivateDirectory.check(directory)
        var ports: [Int] = []
        for name in PrivateDirectory.names(in: directory) {
            guard name.hasSuffix(".sock"), let port = Int(name.dropLast(5)) else { continue }
            let path = path(port: port)
            switch try? ControlClient.connect(path) {
            case let descriptor?:
                close(descriptor)
                ports.append(port)
            case nil:
                if errno == ECONNREFUSED { unlink(path) }
            }
        }
        return ports.sorted()
    }
}

/// The control socket's server, in the supervisor: answers `ls`, `show`, `pause`, `resume`
/// and `clear` from the recorder, on a thread of its own.
final class ControlServer: @unchecked Sendable {
    let path: String
    private let recorder: Recorder
    private let url: String
    private let status: SharedText
    private let descriptor: Int32
    private let replayer: Replayer

    /// Creates the directory (0700) and the socket (0600), replacing a stale socket left by a
    /// devserve that was killed.
    init(port: Int, recorder: Recorder, url: String, status: SharedText, replayer: Replayer) throws {
        self.replayer = replayer
        self.recorder = recorder
        self.url = url
        self.status = status
        self.path = ControlSocket.path(port: port)
        let directory = ControlSocket.directory
        // Its name is known in advance (clients must find it), so it is checked, not trusted:
        // whoever owns it can replace our socket with theirs.
        try PrivateDirectory.ensure(directory)
        unlink(path)
        descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw SystemCallError(call: "socket", subject: path, errno: errno) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { throw SystemCallError(call: "bind", subject: path, errno: ENAMETOOLONG) }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in raw.copyBytes(from: bytes + [0]) }
        let previous = umask(0o177)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        umask(previous)
        guard bound == 0 else { throw SystemCallError(call: "bind", subject: path, errno: errno) }
        chmod(path, 0o600)
        guard listen(descriptor, 16) == 0 else { throw SystemCallError(call: "listen", subject: path, errno: errno) }
        DetachedThread.start { [self] in serve() }
    }

    /// Removes the socket (at exit).
    func remove() {
        unlink(path)
        close(descriptor)
    }

    /// Requests are answered by this many threads (a replay waiting on a slow response does
    /// not hold up `ls`); requests are read by one poll loop, so idle clients cost an entry in
    /// it, not a thread, and are dropped after `clientTimeout`.
    static let answerers = 8
    /// Clients being read at once; beyond this, a new one is closed at once.
    static let maxClients = 1024
    static let clientTimeout = 5_000_000
    private let waiting = Condition()
    private var queue: [(client: Int32, line: [UInt8])] = []

    private func serve() {
        for _ in 0..<Self.answerers {
            DetachedThread.start { [self] in
                while true {
                    let next = waiting.withLock {
                        waiting.wait { !queue.isEmpty }
                        return queue.removeFirst()
                    }
                    answer(next.client, line: next.line)
                }
            }
        }
        var clients: [Int32: (line: [UInt8], deadline: Int)] = [:]
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            var descriptors = [pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)]
            for client in clients.keys { descriptors.append(pollfd(fd: client, events: Int16(POLLIN), revents: 0)) }
            _ = poll(&descriptors, nfds_t(descriptors.count), 1000)
            let now = MonotonicClock.now()
            if descriptors[0].revents != 0 {
                let client = accept(descriptor, nil, nil)
                if client >= 0 {
                    _ = fcntl(client, F_SETFD, FD_CLOEXEC)
                    _ = fcntl(client, F_SETFL, O_NONBLOCK)
                    if clients.count < Self.maxClients { clients[client] = ([], now + Self.clientTimeout) } else { close(client) }
                } else if errno != EINTR && errno != ECONNABORTED && errno != EAGAIN {
                    return
                }
            }
            for polled in descriptors.dropFirst() where polled.revents != 0 {
                guard var entry = clients[polled.fd] else { continue }
                let count = read(polled.fd, &buffer, buffer.count)
                if count > 0 { entry.line += buffer[0..<count] }
                let complete = count == 0 || entry.line.contains(10) || entry.line.count >= 1 << 20
                if count < 0 && errno != EAGAIN && errno != EINTR {
                    clients[polled.fd] = nil
                    close(polled.fd)
                } else if complete {
                    clients[polled.fd] = nil
                    waiting.withLock { queue.append((polled.fd, entry.line)) }
                    waiting.broadcast()
                } else {
                    clients[polled.fd] = entry
                }
            }
            for (client, entry) in clients where entry.deadline <= now {
                clients[client] = nil
                close(client)
            }
        }
    }

    private func answer(_ client: Int32, line: [UInt8]) {
        _ = fcntl(client, F_SETFL, 0)
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let answer = respond(to: line)
        var offset = 0
        while offset < answer.count {
            let written = answer.withUnsafeBytes { send(client, $0.baseAddress! + offset, answer.count - offset, Int32(MSG_NOSIGNAL)) }
            if written <= 0 { break }
            offset += written
        }
        close(client)
    }

    func respond(to line: [UInt8]) -> [UInt8] {
        var response = ControlSocket.Response()
        do {
            let request = try JSONDecoder().decode(ControlSocket.Request.self, from: Data(line))
            switch request.command {
            case "ls":
                let filter = try FilterParser.parse(request.filter ?? "")
                let now = WallClock.microseconds()
                response.entries = recorder.compactMap { filter.matches($0, now: now) ? RecordJSON.summary($0) : nil }
            case "show":
                guard let id = request.id, let record = recorder.record(id) else {
                    response.error = "no captured request \(request.id.map(String.init) ?? "?"): it may have been evicted (see devserve ls)"
                    break
                }
                response.record = RecordJSON.full(request.reveal == true ? record : Secrets.masked(record))
            case "replay":
                var lines: [String] = []
                for id in request.ids ?? [] {
                    do {
                        lines.append(try replayer.replay(id).summary)
                    } catch {
                        lines.append("#\(id) not replayed: \(error)")
                        response.failed = true
                    }
                }
                response.replays = lines
            case "export":
                response.export = try export(request)
            case "pause": recorder.pause()
            case "resume": recorder.resume()
            case "clear": recorder.clear()
            case "status": break
            case "reload": SignalPipe.wake(SignalPipe.reloadRequest)
            case "restart": SignalPipe.wake(SignalPipe.restartRequest)
            default: response.error = "unknown command \(request.command)"
            }
        } catch let error as FilterError {
            response.error = error.message
            response.errorPosition = error.position
        } catch let problem as RawRequest.Problem {
            response.error = problem.description
        } catch {
            response.error = "malformed control request: \(error)"
        }
        response.statistics = recorder.statistics
        response.url = url
        response.status = status.value
        return Array((try? JSONEncoder().encode(response)) ?? Data("{\"error\":\"cannot encode the answer\"}".utf8))
    }
}

extension ControlServer {
    /// `devserve export`: the chosen entries (ids, else the filter's, else all) as HAR, or
    /// one entry as a curl command or raw HTTP.
    func export(_ request: ControlSocket.Request) throws -> String {
        let reveal = request.reveal == true
        var records: [RequestRecord]
        if let ids = request.ids, !ids.isEmpty {
            records = try ids.map { id in
                guard let record = recorder.record(id) else { throw RawRequest.Problem("no captured request #\(id): it may have been evicted") }
                return record
            }
        } else {
            let filter = try FilterParser.parse(request.filter ?? "")
            let now = WallClock.microseconds()
            records = recorder.snapshot().filter { filter.matches($0, now: now) }
        }
        switch request.format ?? "har" {
        case "har":
            return String(decoding: HAR.export(records, revealSecrets: reveal), as: UTF8.self)
        case "curl", "raw":
            guard records.count == 1, let record = records.first else {
                throw RawRequest.Problem("--\(request.format ?? "") exports one request: give its id")
            }
            var raw = try RawRequest(record: record)
            if !reveal { raw = Secrets.masked(raw) }
            // Raw HTTP travels as base64: the request's bytes are not text, and JSON would turn
            // the ones that are not UTF-8 into U+FFFD.
            return request.format == "curl" ? raw.curl(base: url) + "\n" : Data(raw.bytes).base64EncodedString()
        default:
            throw RawRequest.Problem("unknown export format \(request.format ?? "")")
        }
    }
}

/// The client side: `devserve ls` and friends.
public enum ControlClient {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Sends `request` to the devserve on `port` (or the only one running) and returns its
    /// answer.
    ///
    /// Talks only to a server run by this user: the socket's directory must be ours and
    /// private, and the process on the other end must have our uid (`SO_PEERCRED`), so
    /// another local user cannot answer `devserve ls` in our place.
    public static func send(_ request: ControlSocket.Request, port: Int?) throws -> ControlSocket.Response {
        let path: String
        do {
            if let port {
                try PrivateDirectory.check(ControlSocket.directory)
                path = ControlSocket.path(port: port)
            } else {
                let ports = try ControlSocket.runningPorts()
                switch ports.count {
                case 0: throw Failure(description: "no devserve is running for this user (no control socket answers in \(ControlSocket.directory))")
                case 1: path = ControlSocket.path(port: ports[0])
                default: throw Failure(description: "several devserve instances are running (ports \(ports.map(String.init).joined(separator: ", "))): choose one with --port")
                }
            }
        } catch let error as Failure {
            throw error
        } catch let error as SystemCallError where error.errno == ENOENT {
            throw Failure(description: "no devserve is running for this user (no \(ControlSocket.directory))")
        } catch {
            throw Failure(description: String(describing: error))
        }
        let descriptor: Int32
        do {
            descriptor = try connect(path)
        } catch {
            let reason = errno == ECONNREFUSED || errno == ENOENT ? "no devserve answers there (is it running?)" : CText.errorText(errno)
            throw Failure(description: "cannot reach the devserve at \(path): \(reason)")
        }
        defer { close(descriptor) }
        try checkPeer(descriptor, path: path)
        let line = Array(try JSONEncoder().encode(request)) + [10]
        _ = line.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = recv(descriptor, &buffer, buffer.count, 0)
            if count <= 0 { break }
            answer += buffer[0..<count]
        }
        return try JSONDecoder().decode(ControlSocket.Response.self, from: Data(answer))
    }
}

extension ControlClient {
    /// Connects to the control socket at `path`, after checking that the socket file is
    /// ours. - Returns: the connected descriptor. - Throws: `Failure`; errno says why.
    static func connect(_ path: String) throws -> Int32 {
        var info = stat()
        guard lstat(path, &info) == 0 else { throw Failure(description: "no socket at \(path)") }
        guard info.st_mode & S_IFMT == S_IFSOCK, info.st_uid == geteuid() else {
            errno = EPERM
            throw Failure(description: "\(path) is not a socket of yours")
        }
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw Failure(description: "socket: \(CText.errorText(errno))") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in raw.copyBytes(from: Array(path.utf8.prefix(raw.count - 1)) + [0]) }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else {
            let code = errno
            close(descriptor)
            errno = code
            throw Failure(description: "connect \(path): \(CText.errorText(code))")
        }
        return descriptor
    }

    /// Refuses a server that runs as another user (`SO_PEERCRED`, unix(7)).
    static func checkPeer(_ descriptor: Int32, path: String) throws {
        var uid: UInt32 = 0
        var pid: Int32 = 0
        guard devserve_shim_peer_credentials(descriptor, &uid, &pid) == 0 else {
            throw Failure(description: "cannot check who serves \(path): \(CText.errorText(errno))")
        }
        guard uid == geteuid() else {
            throw Failure(description: "refusing to talk to \(path): it is served by uid \(uid) (pid \(pid)), not by you (uid \(geteuid()))")
        }
    }
}
