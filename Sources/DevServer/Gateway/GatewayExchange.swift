import CDevServe
import CDevServeShim
#if canImport(Glibc)
import Glibc
#endif

/// One request served by one plugin: builds the environ, calls the application, iterates its
/// body through the response state machine onto the transport, and calls close() exactly once.
///
/// Runs entirely on the calling thread (a worker's application thread, or a test). The plugin
/// reaches it through `devserve_request *`, which is this object; see ``HostFunctionTable``.
public final class GatewayExchange {
    /// Everything a request needs besides the plugin and the transport.
    public struct Request {
        public var head: RequestHead
        public var connection: ConnectionInfo
        public var body: RequestBodySource
        public var id: String

        public init(head: RequestHead, connection: ConnectionInfo = ConnectionInfo(), body: RequestBodySource = BufferedBodySource(), id: String = "1") {
            self.head = head
            self.connection = connection
            self.body = body
            self.id = id
        }
    }

    /// How requests are served: defaults suit the dev server; tests pin the date.
    public struct Configuration: Sendable {
        /// Builds each environ (mount prefix, SERVER_SOFTWARE).
        public var environ = EnvironBuilder()
        /// Block size for file bodies that do not choose one.
        public var fileBlockSize = 64 * 1024
        /// The Server header's value when the application sets none.
        public var serverHeader = "devserve/\(DevServeVersion.current)"
        /// The Date header's value when the application sets none.
        public var date: @Sendable () -> String = HTTPDate.now
        /// How many bytes of a file sent with sendfile are read anyway for the observer
        /// (capture); 0 reads none.
        public var filePrefixForObserver = 1 << 20
        /// Whether the server is closing its connections (a worker retiring): responses whose
        /// head is not yet sent say `Connection: close`, so keep-alive clients do not reuse a
        /// connection about to close.
        public var serverClosing: @Sendable () -> Bool = { false }

        public init() {}
    }

    /// Where the exchange is, for the rule that a request is not used after close().
    enum Phase {
        case running
        /// Inside the iterable's close(): wsgi.errors may still be written.
        case closing
        case ended
    }

    let plugin: LoadedPlugin
    let transport: GatewayTransport
    let observer: GatewayObserver?
    let environ: EnvironStore
    let input: RequestInputStream
    var machine: ResponseStateMachine
    var phase = Phase.running
    /// The exception the application raised (host->raise), if any.
    var raised: (type: String, message: String)?
    /// start_response refused exc_info because headers were sent: the application must
    /// re-raise now.
    var mustReraise = false
    private var ending: ResponseEnding?
    private var clientWentAway = false
    /// Body bytes written to the client after the head (framing included).
    private var wireBodyBytes = 0
    private let fileBlockSize: Int
    private let filePrefixForObserver: Int

    private init(plugin: LoadedPlugin, environ: EnvironStore, request: Request, transport: GatewayTransport, observer: GatewayObserver?, configuration: Configuration) {
        self.plugin = plugin
        self.transport = transport
        self.observer = observer
        self.environ = environ
        self.fileBlockSize = configuration.fileBlockSize
        self.filePrefixForObserver = configuration.filePrefixForObserver
        self.machine = ResponseStateMachine(
            request: .init(isHead: request.head.method == "HEAD", version: request.head.version, wantsKeepAlive: request.head.wantsKeepAlive),
            serverHeader: configuration.serverHeader, date: configuration.date, serverClosing: configuration.serverClosing)
        self.input = RequestInputStream(source: request.body, contentLength: request.head.contentLength)
        if request.head.expectsContinue && request.head.version == .http1_1 {
            input.beforeFirstRead = { [unowned self] in self.sendContinue() }
        }
    }

    /// Serves one request and returns how it ended.
    ///
    /// - Parameters:
    ///   - request: the parsed request, its connection and its body.
    ///   - plugin: the application.
    ///   - transport: where the response goes.
    ///   - observer: receives the request's events (capture), if any.
    ///   - configuration: mount prefix, block size, Date and Server.
    @discardableResult
    public static func serve(
        _ request: Request, plugin: LoadedPlugin, transport: GatewayTransport, observer: GatewayObserver? = nil,
        configuration: Configuration = Configuration()
    ) -> RequestOutcome {
        guard let environ = configuration.environ.build(head: request.head, connection: request.connection, requestID: request.id) else {
            let exchange = GatewayExchange(plugin: plugin, environ: EnvironStore(), request: request, transport: transport, observer: observer, configuration: configuration)
            return exchange.answerNotMounted(prefix: configuration.environ.mountPrefix)
        }
        let exchange = GatewayExchange(plugin: plugin, environ: environ, request: request, transport: transport, observer: observer, configuration: configuration)
        // Whatever crashes on this thread from here on crashed this request (the crash
        // handler reads it): the application runs, and is iterated, on this thread only.
        request.id.utf8CString.withUnsafeBufferPointer { devserve_shim_set_current_request($0.baseAddress, $0.count - 1) }
        defer { devserve_shim_set_current_request(nil, 0) }
        return exchange.run()
    }

    // MARK: The request

    private func run() -> RequestOutcome {
        if let observer { observer.gateway(.started(environ: EnvironView(store: environ))) }
        var body = devserve_body()
        body.size = UInt32(MemoryLayout<devserve_body>.size)
        body.file_descriptor = -1
        body.chunk_count = -1
        let result = withExtendedLifetime(self) {
            plugin.call(request: OpaquePointer(Unmanaged.passUnretained(self).toOpaque()), body: &body)
        }
        if result != Int32(DEVSERVE_APP_OK.rawValue) {
            applicationFailed()
            // A body filled in before the error still gets its close(): on every path.
            if body.file_descriptor > 2 { close(body.file_descriptor) }
            closeBody(&body)
            return finish()
        }
        if (0...2).contains(body.file_descriptor) {
            // Zero-filled by a plugin that did not keep the host's -1: stdin is no response body.
            report(Violation(.invalidFileDescriptor, "the body's file_descriptor is \(body.file_descriptor) (the worker's \(["stdin", "stdout", "stderr"][Int(body.file_descriptor)])): not a file of the application's; ignored"))
            body.file_descriptor = -1
        }
        if mustReraise {
            report(Violation(.excInfoNotReraised, "start_response refused exc_info because the headers were sent, and the application returned instead of re-raising"))
            perform(machine.fail(message: "exc_info after headers were sent"))
            closeBody(&body)
            return finish()
        }
        if body.file_descriptor >= 0 {
            sendFile(descriptor: body.file_descriptor, blockSize: Int(body.file_block_size))
        } else {
            iterate(&body)
        }
        closeBody(&body)
        return finish()
    }

    /// Iterates the application's body: next() until it ends, fails, or the client leaves.
    private func iterate(_ body: inout devserve_body) {
        guard let next = body.next else {
            perform(machine.end())
            return
        }
        let request = OpaquePointer(Unmanaged.passUnretained(self).toOpaque())
        var produced: Int64 = 0
        while !clientWentAway && ending == nil {
            var chunk: UnsafePointer<UInt8>?
            var length = 0
            let status = next(body.context, request, &chunk, &length)
            if status < 0 || mustReraise {
                if status >= 0 {
                    report(Violation(.excInfoNotReraised, "start_response refused exc_info because the headers were sent, and the body went on instead of re-raising"))
                }
                applicationFailed()
                return
            }
            if status == 0 {
                if body.chunk_count >= 0 && produced != body.chunk_count {
                    report(Violation(.chunkCountMismatch, "the body reported \(body.chunk_count) chunks but produced \(produced)"))
                }
                perform(machine.end())
                return
            }
            produced += 1
            let bytes = UnsafeRawBufferPointer(start: chunk, count: chunk != nil ? max(0, length) : 0)
            let onlyChunk = body.chunk_count == 1 && produced == 1
            let output = send(chunk: bytes, fromWrite: false, knownTotalLength: onlyChunk ? bytes.count : nil)
            if output.exceeded {
                // Content-Length is satisfied; nothing more is asked of the iterable.
                perform(machine.end())
                return
            }
        }
    }

    /// Sends a wsgi.file_wrapper body: the file from its current offset to its end. A regular
    /// file's remaining size is known up front, so it gets a Content-Length.
    private func sendFile(descriptor: Int32, blockSize: Int) {
        defer { close(descriptor) }
        var info = stat()
        let offset = lseek(descriptor, 0, SEEK_CUR)
        var total: Int?
        if fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, offset >= 0 {
            total = Int(info.st_size) - Int(offset)
        }
        if let files = transport as? FileSendingTransport, let total, total > 0, let head = machine.fileBody(length: total) {
            perform(head)
            if observer != nil {
                var prefix = [UInt8](repeating: 0, count: min(total, filePrefixForObserver))
                let read = prefix.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, off_t(offset)) }
                observer?.gateway(.fileSent(size: total, prefix: Array(prefix.prefix(max(0, read)))))
            }
            guard !clientWentAway else { return }
            do {
                try files.sendFile(descriptor: descriptor, offset: Int(offset), count: total)
                if !machine.request.isHead { wireBodyBytes += total }
            } catch {
                clientWentAway = true
                machine.clientGone()
                return
            }
            perform(machine.end())
            return
        }
        var buffer = [UInt8](repeating: 0, count: blockSize > 0 ? blockSize : fileBlockSize)
        var sentAny = false
        while !clientWentAway && ending == nil {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count < 0 {
                raised = ("OSError", "reading the file wrapper's file failed: \(String(cString: strerror(errno)))")
                applicationFailed()
                return
            }
            if count == 0 { break }
            buffer.withUnsafeBytes { _ = send(chunk: UnsafeRawBufferPointer(rebasing: $0[0..<count]), fromWrite: false, knownTotalLength: sentAny ? nil : total) }
            sentAny = true
        }
        if ending == nil && !clientWentAway { perform(machine.end()) }
    }

    /// The iterable's close(): exactly once, on every path.
    private func closeBody(_ body: inout devserve_body) {
        phase = .closing
        if let close = body.close {
            close(body.context, OpaquePointer(Unmanaged.passUnretained(self).toOpaque()))
        }
        body.close = nil
        phase = .ended
    }

    private func finish() -> RequestOutcome {
        phase = .ended
        let outcome: RequestOutcome
        if clientWentAway {
            outcome = .clientGone
        } else if raised != nil {
            outcome = ending == .abort ? .aborted : .applicationError
        } else if ending == .abort {
            outcome = .aborted
        } else {
            outcome = .complete
        }
        if !clientWentAway { transport.finish(ending ?? .abort) } else { transport.finish(.abort) }
        observer?.gateway(.wire(bodyBytes: wireBodyBytes))
        observer?.gateway(.finished(outcome))
        return outcome
    }

    private func applicationFailed() {
        let (type, message) = raised ?? ("UnknownError", "the application failed without saying why")
        raised = (type, message)
        observer?.gateway(.applicationError(type: type, message: message))
        // A request body the client broke (too large, malformed) is the client's fault: it
        // decides the status, not the application that tripped over it.
        let bodyError = input.failure as? RequestBodyError
        let status: (code: Int, reason: String) = bodyError?.status ?? (500, "Internal Server Error")
        let outcome = machine.hasSentHead ? "after the headers were sent; the response was aborted" : "before the response started; answered \(status.code)"
        observer?.gateway(.errors("Error in application \(plugin.name) \(outcome):\n\(type): \(message)\n"))
        if let bodyError {
            perform(machine.fail(message: String(describing: bodyError), status: status))
        } else {
            perform(machine.fail(message: "\(type): \(message)"))
        }
    }

    private func answerNotMounted(prefix: String) -> RequestOutcome {
        let body = Array("Not Found: this application is mounted at \(prefix)\n".utf8)
        _ = machine.startResponse(status: Array("404 Not Found".utf8), headers: [(Array("Content-Type".utf8), Array("text/plain; charset=utf-8".utf8))], hasExcInfo: false)
        body.withUnsafeBytes { perform(machine.chunk(count: $0.count, fromWrite: false, knownTotalLength: $0.count), payload: $0) }
        perform(machine.end())
        transport.finish(ending ?? .close)
        return .notMounted
    }

    // MARK: Performing the machine's outputs

    /// A body chunk from the iterable, a file or write(): framed by the machine, put on the
    /// wire, then captured. Captured once it is on its way, so that the event loop is woken
    /// before the capture's writer thread: on one CPU the first woken runs first (a streamed
    /// chunk reached the client's socket 41-56 µs after its yield, then 31-44; issue 14).
    @discardableResult
    func send(chunk bytes: UnsafeRawBufferPointer, fromWrite: Bool, knownTotalLength: Int? = nil) -> ResponseStateMachine.Output {
        let output = machine.chunk(count: bytes.count, fromWrite: fromWrite, knownTotalLength: knownTotalLength)
        perform(output, payload: bytes)
        observer?.gateway(.chunk(bytes, fromWrite: fromWrite))
        return output
    }

    /// Puts the machine's output on the wire (its bytes, the first `output.payload` bytes of
    /// `payload`, its trailer) and reports its violations.
    func perform(_ output: ResponseStateMachine.Output, payload: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0)) {
        for violation in output.violations { report(violation) }
        if let head = output.sentHead { observer?.gateway(.headSent(head)) }
        // The server's own page (a 500) is what the client got: the record shows it as sent.
        if let page = output.serverBody, !page.isEmpty { page.withUnsafeBytes { observer?.gateway(.chunk($0, fromWrite: false)) } }
        if output.wireCount > 0 && !clientWentAway {
            do {
                if !output.bytes.isEmpty { try transport.write(output.bytes) }
                if output.payload > 0 { try transport.write(UnsafeRawBufferPointer(rebasing: payload.prefix(output.payload))) }
                if !output.trailer.isEmpty { try transport.write(output.trailer) }
                try transport.flush()
                // What went on the wire after the head, framing included (the access log's size).
                wireBodyBytes += output.wireCount - (output.sentHead?.count ?? 0)
            } catch {
                clientWentAway = true
                machine.clientGone()
            }
        }
        if let outputEnding = output.ending { ending = outputEnding }
    }

    func report(_ violation: Violation) {
        observer?.gateway(.violation(violation))
    }

    var isClientGone: Bool { clientWentAway }

    private static let continueLine = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    /// "100 Continue", no later than the first read of wsgi.input, and never after a final
    /// status (docs/GATEWAY.md, Errors; RFC 9110 section 10.1.1).
    private func sendContinue() {
        guard !machine.hasSentHead, !clientWentAway else { return }
        do {
            try transport.write(Self.continueLine)
            try transport.flush()
        } catch {
            clientWentAway = true
            machine.clientGone()
        }
    }
}
