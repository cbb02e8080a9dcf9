import CDevServeShim
import NIOCore
import NIOPosix

/// One HTTP/1.1 connection in a worker: feeds the bytes it reads to its ``HTTPRequestParser``,
/// runs each request's application on the thread pool through the gateway core, and answers
/// pipelined requests strictly in order.
///
/// It owns what the parser does not: validation that needs the whole head (Host, body limits,
/// Transfer-Encoding codings, CONNECT), the order of responses, reading backpressure (it stops
/// reading from the socket while a request body waits for the application, or too many
/// pipelined requests are queued), the head, keep-alive and idle timeouts, draining a body the
/// application did not read, and closing the connection after every refusal so that nothing
/// after bad bytes is parsed as a new request.
final class HTTPConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// A request received (at least its head), not yet finished. Its head is immutable and its
    /// body source is thread-safe; `bodyComplete` is touched on the event loop only.
    final class Pending: @unchecked Sendable {
        let head: RequestHead
        let id: String
        let body: ChannelBodySource
        /// The decoder has delivered the request's end.
        var bodyComplete = false
        /// Request body bytes already reported to the supervisor (event loop only).
        var capturedBody = 0
        init(head: RequestHead, id: String, body: ChannelBodySource) {
            self.head = head
            self.id = id
            self.body = body
        }
    }

    private enum Item {
        case request(Pending)
        /// A refusal, the head when it parsed, and the bytes of the head as they arrived.
        case refusal(ErrorResponse, RequestHead?, [UInt8])
    }

    /// How many pipelined requests may wait before the connection stops reading.
    private static let maxQueued = 16
    /// How much of an unread request body is read and thrown away to keep the connection.
    private static let maxDrain = 4 << 20

    private let worker: WorkerContext
    private let connection: ConnectionInfo
    private var parser: HTTPRequestParser
    private var headTimer: LazyTimer?
    /// Any byte arrived on this connection.
    private var sawBytes = false
    private var queue: [Item] = []
    private var running: Pending?
    /// The running request's transport (nil between requests).
    private var transport: ChannelTransport?
    /// The connection's transport, made for its first request and used by each after it: what
    /// it tracks (bytes not yet written, the client gone) belongs to the connection, and one per
    /// request cost five allocations (issue 14). Its closures hold this handler until the
    /// connection closes (`channelInactive` lets go).
    private var connectionTransport: ChannelTransport?
    private var resumeFromAnyThread: (@Sendable () -> Void)?
    private var idleTimeout: (() -> Void)?
    private var receiving: Pending?
    /// The request whose unread body is being read and discarded before the next request.
    private var draining: Pending?
    private var drained = 0
    private var refusing = false
    private var closed = false
    private var pendingRead = false
    private var idleTimer: LazyTimer?
    /// The next request, held back until its body has arrived (up to --buffer-body), so that a
    /// slow upload waits here, on the event loop, and not in an application thread.
    private var awaiting: Pending?
    private var bodyTimer: Scheduled<Void>?
    /// The running request's response has put bytes on the wire (its head, at least).
    private var responseStarted = false
    /// Where the crash handler finds this connection to answer it if the worker dies.
    private var crashSlot = CrashAnswerSlot(local: nil, peer: nil)

    init(worker: WorkerContext, connection: ConnectionInfo) {
        self.worker = worker
        self.connection = connection
        parser = HTTPRequestParser(limits: worker.limits)
    }

    // MARK: Inbound

    func channelActive(context: ChannelHandlerContext) {
        crashSlot = CrashAnswerSlot(local: context.channel.localAddress, peer: context.channel.remoteAddress)
        let loop = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        worker.connections.opened(self, stop: { [eventLoop = context.eventLoop] in
            eventLoop.execute { loop.value.0.stopWhenIdle(context: loop.value.1) }
        }, abandon: { [eventLoop = context.eventLoop] in
            eventLoop.execute { loop.value.0.abandon(context: loop.value.1) }
        })
        startIdleTimer(context: context)
        startHeadTimer(context: context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refusing else { return }
        sawBytes = true
        parser.feed(unwrapInboundIn(data))
        while !refusing, let event = parser.next() {
            switch event {
            case .head(let head): received(head, context: context)
            case .body(let buffer): receivedBody(buffer, context: context)
            case .end: receivedEnd(context: context)
            case .refused(let refusal):
                receiving?.body.fail(.broken("the request body was malformed"))
                receiving = nil
                dropAwaited()
                refuse(context: context, refusal, head: nil)
            }
        }
        // The head timer runs from the first bytes of a head (or the connection's start) until
        // the head is whole.
        if parser.hasPartialHead && !refusing { startHeadTimer(context: context) }
        resumeReading(context: context)
    }

    private func received(_ head: RequestHead, context: ChannelHandlerContext) {
        cancelIdleTimer()
        headTimer?.disarm()
        if let refusal = validate(head) {
            refuse(context: context, refusal, head: head)
            return
        }
        let body = ChannelBodySource(
            limit: worker.limits.maxRequestBody, highWater: max(1 << 20, worker.limits.bufferBody), timeout: worker.limits.bodyTimeout,
            onDrained: resumeReadingFromAnyThread(context: context))
        let pending = Pending(head: head, id: worker.nextRequestID(), body: body)
        receiving = pending
        queue.append(.request(pending))
        startNext(context: context)
    }

    private func receivedBody(_ buffer: ByteBuffer, context: ChannelHandlerContext) {
        if let draining, receiving === draining {
            drained += buffer.readableBytes
            if drained > Self.maxDrain { close(context: context, afterWrites: true) }
            return
        }
        guard let receiving else { return }
        // Reported before the application can read it: once appended, the application may
        // finish (and its end be reported) before this thread sends anything more.
        if worker.capture { worker.captureRequestBody(receiving, buffer) }
        receiving.body.append(buffer)
        if case .tooLarge = receiving.body.failureReason, running !== receiving {
            // Not started yet: the request is refused outright.
            if awaiting === receiving {
                awaiting = nil
                cancelBodyTimer()
            }
            self.receiving = nil
            queue.removeAll { if case .request(let item) = $0 { return item === receiving } else { return false } }
            refuse(context: context, .tooLarge("the request body is larger than \(worker.limits.maxRequestBody) bytes"), head: receiving.head)
        } else if let awaiting, awaiting === receiving {
            if receiving.body.received >= worker.limits.bufferBody {
                startAwaited(context: context)
            } else {
                startBodyTimer(context: context)
            }
        }
    }

    private func receivedEnd(context: ChannelHandlerContext) {
        if let receiving {
            receiving.bodyComplete = true
            receiving.body.finish()
            if awaiting === receiving { startAwaited(context: context) }
        }
        receiving = nil
        if draining != nil {
            draining = nil
            startNext(context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // The parser's refusals are events; an error here is I/O: the client is gone.
        close(context: context, afterWrites: false)
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed = true
        idleTimer?.cancel()
        headTimer?.cancel()
        cancelBodyTimer()
        awaiting?.body.fail(.broken("the client went away"))
        awaiting = nil
        transport?.connectionClosed()
        // The transport's closures hold this handler: let go of it with the connection.
        connectionTransport = nil
        resumeFromAnyThread = nil
        idleTimeout = nil
        receiving?.body.fail(.broken("the client went away"))
        for case .request(let pending) in queue { pending.body.fail(.broken("the client went away")) }
        queue.removeAll()
        crashSlot.release()
        worker.connections.closed(self)
        context.fireChannelInactive()
    }

    // MARK: Outbound: read backpressure

    func read(context: ChannelHandlerContext) {
        if shouldPauseReading {
            pendingRead = true
        } else {
            context.read()
        }
    }

    private var shouldPauseReading: Bool {
        refusing || queue.count >= Self.maxQueued || (receiving?.body.isFull ?? false)
    }

    /// Resumes reading from the application thread that drained a body (one closure per
    /// connection, not per request; let go of in `channelInactive`: it holds this handler).
    private func resumeReadingFromAnyThread(context: ChannelHandlerContext) -> @Sendable () -> Void {
        if let resumeFromAnyThread { return resumeFromAnyThread }
        let loop = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let resume: @Sendable () -> Void = { [eventLoop = context.eventLoop] in
            eventLoop.execute { loop.value.0.resumeReading(context: loop.value.1) }
        }
        resumeFromAnyThread = resume
        return resume
    }

    private func resumeReading(context: ChannelHandlerContext) {
        guard pendingRead, !shouldPauseReading, !closed else { return }
        pendingRead = false
        context.read()
    }

    // MARK: Validation

    /// What needs the whole head to refuse (the parser refused malformed bytes already): RFC 9112.
    private func validate(_ head: RequestHead) -> ErrorResponse? {
        let hosts = head.count(of: "host")
        if hosts > 1 { return .badRequest("the request has \(hosts) Host headers") }
        if hosts == 0 && head.version == .http1_1 { return .badRequest("an HTTP/1.1 request must have a Host header") }
        if head.method == "CONNECT" {
            return .notImplemented("CONNECT asks for a tunnel: devserve is an origin server, not a proxy")
        }
        if let problem = RequestTargetForm.problem(target: head.target, method: head.method) { return .badRequest(problem) }
        let encodings = head.values("transfer-encoding")
        if !encodings.isEmpty {
            if head.version == .http1_0 {
                // RFC 9112 section 6.1: Transfer-Encoding in HTTP/1.0 cannot be trusted.
                return .badRequest("Transfer-Encoding in an HTTP/1.0 request")
            }
            let codings = encodings.flatMap { $0.split(separator: ",") }.map { $0.trimmingWhitespace().lowercased() }
            if codings.last != "chunked" { return .badRequest("Transfer-Encoding \(encodings.joined(separator: ", ")) does not end with chunked: the body's length is unknown") }
            if codings != ["chunked"] { return .notImplemented("Transfer-Encoding \(encodings.joined(separator: ", ")) is not supported; only chunked (RFC 9112 section 6.1)") }
        }
        if let length = head.contentLength, length > worker.limits.maxRequestBody {
            return .tooLarge("the request body is \(length) bytes, over the limit of \(worker.limits.maxRequestBody)")
        }
        return nil
    }

    // MARK: Running requests in order

    private func startNext(context: ChannelHandlerContext) {
        guard running == nil, awaiting == nil, !closed, !queue.isEmpty else { return }
        switch queue.removeFirst() {
        case .refusal(let refusal, let head, let raw):
            guard crashSlot.mayStartResponse() else { return }
            let response = refusal.bytes(date: worker.gateway.date())
            worker.reportRefusal(refusal, head: head, connection: connection, raw: raw, response: response)
            context.writeAndFlush(wrapOutboundOut(response), promise: nil)
            close(context: context, afterWrites: true)
        case .request(let pending):
            if shouldBuffer(pending) {
                awaiting = pending
                crashSlot.waiting(for: pending.id)
                startBodyTimer(context: context)
            } else {
                run(pending, context: context)
            }
        }
    }

    /// Whether to read `pending`'s body before calling the application: it has one, small
    /// enough to hold (--buffer-body), not all here yet, and the client is not waiting for
    /// 100 Continue (which goes out only when the application reads).
    private func shouldBuffer(_ pending: Pending) -> Bool {
        let limit = worker.limits.bufferBody
        guard limit > 0, !pending.bodyComplete, !pending.head.expectsContinue, pending.body.received < limit else { return false }
        if let length = pending.head.contentLength {
            return length > 0 && length <= limit
        }
        return pending.head.contains("transfer-encoding")
    }

    /// The held-back request's body is here (or is bigger than we hold): run it.
    private func startAwaited(context: ChannelHandlerContext) {
        guard let pending = awaiting else { return }
        awaiting = nil
        cancelBodyTimer()
        run(pending, context: context)
    }

    /// --body-timeout between two reads of a body being read before the application runs:
    /// then 408, as nginx's client_body_timeout.
    private func startBodyTimer(context: ChannelHandlerContext) {
        cancelBodyTimer()
        let timeout = worker.limits.bodyTimeout
        let loop = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        bodyTimer = context.eventLoop.scheduleTask(in: .milliseconds(Int64(timeout * 1000))) {
            let (handler, context) = loop.value
            guard let pending = handler.awaiting else { return }
            handler.awaiting = nil
            let failure = ChannelBodySource.Failure.timedOut(seconds: timeout)
            pending.body.fail(failure)
            if handler.receiving === pending { handler.receiving = nil }
            handler.refuse(context: context, .timeout(failure.description), head: pending.head)
        }
    }

    /// The held-back request will never run: the connection is being refused.
    private func dropAwaited() {
        awaiting = nil
        cancelBodyTimer()
    }

    private func cancelBodyTimer() {
        bodyTimer?.cancel()
        bodyTimer = nil
    }

    private func run(_ pending: Pending, context: ChannelHandlerContext) {
        // The slot says "waiting" before the crash flag is read, and the crash handler sets
        // the flag before it reads the slots: either it sees this request waiting and answers
        // it, or this sees the flag. Read first, the flag could be clear and the slot still
        // idle when the handler looked: the request went unanswered (2 of 166 polls in a storm
        // of 200 traps).
        crashSlot.waiting(for: pending.id)
        if devserve_shim_worker_crashed() != 0 {
            // This process is dying (its crash handler ran; the backtracer may take seconds)
            // and a new worker is already starting: the client is told to retry, by this
            // refusal or by the handler's second pass, whichever claims the slot first.
            refuse(context: context, .workerCrashed("the worker crashed; a new one is starting: retry"), head: pending.head)
            return
        }
        running = pending
        let transport = connectionTransport ?? makeTransport(context: context)
        self.transport = transport
        worker.serve(pending, connection: connection, transport: transport)
    }

    private func makeTransport(context: ChannelHandlerContext) -> ChannelTransport {
        let loop = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let transport = ChannelTransport(
            eventLoop: context.eventLoop,
            send: { buffer, promise in
                let (handler, context) = loop.value
                guard handler.startResponse() else {
                    promise?.fail(ChannelError.ioOnClosedChannel)
                    return
                }
                context.writeAndFlush(handler.wrapOutboundOut(buffer), promise: promise)
            },
            sendRegion: { box, promise in
                let (handler, context) = loop.value
                guard handler.startResponse() else { return promise.fail(ChannelError.ioOnClosedChannel) }
                // Below this handler the socket channel takes IOData: the file goes out with
                // sendfile, never through Swift.
                context.writeAndFlush(NIOAny(IOData.fileRegion(box.region)), promise: promise)
            },
            complete: { ending in
                let (handler, context) = loop.value
                handler.requestCompleted(ending, context: context)
            })
        connectionTransport = transport
        return transport
    }

    /// Before a response's bytes go out: false when the connection is closed, or when the
    /// crash handler has already answered it (the worker is dying).
    private func startResponse() -> Bool {
        guard !closed else { return false }
        if !responseStarted {
            guard crashSlot.mayStartResponse() else { return false }
            responseStarted = true
        }
        return true
    }

    private func requestCompleted(_ ending: ResponseEnding, context: ChannelHandlerContext) {
        guard let finished = running else { return }
        crashSlot.idle()
        running = nil
        transport = nil
        responseStarted = false
        switch ending {
        case .abort, .close:
            // An aborted response still gets what was already written (the client then sees
            // the connection close before the response is complete).
            close(context: context, afterWrites: true)
        case .keepAlive:
            if !finished.bodyComplete {
                if finished.head.expectsContinue || finished.body.failureReason != nil {
                    // The client may still be waiting for 100 Continue, or the body is broken:
                    // nothing more on this connection can be trusted to line up.
                    close(context: context, afterWrites: true)
                    return
                }
                finished.body.fail(.broken("not read by the application"))
                draining = finished
                drained = 0
                resumeReading(context: context)
                return
            }
            startNext(context: context)
            if running == nil && queue.isEmpty && receiving == nil {
                if worker.isStopping {
                    // This response's head left before the worker was told to stop, so it
                    // promised keep-alive: the client may be sending its next request now.
                    // Closing at once raced with it (a reset request about once in three
                    // million during reloads under load); it gets the idle connection's
                    // moment instead, and a request in it is answered with Connection: close.
                    stopWhenIdle(context: context)
                } else {
                    startIdleTimer(context: context)
                }
            }
            resumeReading(context: context)
        }
    }

    private func refuse(context: ChannelHandlerContext, _ refusal: ErrorResponse, head: RequestHead?) {
        guard !refusing else { return }
        refusing = true
        let raw = parser.headBytes(limit: 8192)
        headTimer?.disarm()
        queue.append(.refusal(refusal, head, raw))
        startNext(context: context)
    }

    /// --header-timeout from the connection's start, or from the first bytes of a head, until
    /// the head is whole: then 408 (a client trickling its headers is cut off while everyone
    /// else is served), or a quiet close when it sent nothing at all (a browser's preconnect,
    /// a port scan).
    private func startHeadTimer(context: ChannelHandlerContext) {
        let timer = headTimer ?? LazyTimer(eventLoop: context.eventLoop)
        headTimer = timer
        guard !timer.isArmed else { return }
        let timeout = worker.limits.headerTimeout
        let loop = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer.arm(in: .milliseconds(Int64(timeout * 1000))) {
            let (handler, context) = loop.value
            guard !handler.refusing else { return }
            guard handler.sawBytes else { return handler.close(context: context, afterWrites: false) }
            handler.receiving?.body.fail(.broken("the request head was refused"))
            handler.dropAwaited()
            handler.refuse(context: context, .timeout("the request head did not arrive within \(timeout) s"), head: nil)
        }
    }

    private func close(context: ChannelHandlerContext, afterWrites: Bool) {
        guard !closed else { return }
        refusing = true
        if afterWrites {
            // Writes complete in order, and most carry no promise: an empty one after them
            // completes when they have all reached the socket (or failed).
            let written = context.eventLoop.makePromise(of: Void.self)
            context.writeAndFlush(wrapOutboundOut(ByteBuffer()), promise: written)
            let loop = NIOLoopBound(context, eventLoop: context.eventLoop)
            written.futureResult.whenComplete { _ in loop.value.close(promise: nil) }
        } else {
            context.close(promise: nil)
        }
    }

    // MARK: Stopping

    /// The worker is stopping: an idle connection gets a moment for one more request (an
    /// active keep-alive client sends it within microseconds; one just accepted has not sent
    /// its first yet), which is answered with `Connection: close`; a busy one closes after its
    /// response (`isStopping`). Closing an idle keep-alive connection at once would race with
    /// a client sending on it.
    private func stopWhenIdle(context: ChannelHandlerContext) {
        guard !closed else { return }
        let isIdle = running == nil && queue.isEmpty && receiving == nil
        guard isIdle else { return }
        let loop = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(in: .milliseconds(500)) {
            let (handler, context) = loop.value
            if handler.running == nil && handler.queue.isEmpty && handler.receiving == nil { handler.close(context: context, afterWrites: true) }
        }
    }

    /// The worker's grace ran out with this connection's request still running (stuck in the
    /// application): its client gets a 504 when nothing was sent yet, then the connection
    /// closes; the application's later writes go nowhere.
    private func abandon(context: ChannelHandlerContext) {
        guard !closed else { return }
        if running != nil && !responseStarted && startResponse() {
            let response = ErrorResponse.gatewayTimeout("the application did not answer in time; its worker was replaced (see devserve ls)")
            context.writeAndFlush(wrapOutboundOut(response.bytes(date: worker.gateway.date())), promise: nil)
        }
        transport?.connectionClosed()
        close(context: context, afterWrites: true)
    }

    // MARK: Idle timeout

    private func startIdleTimer(context: ChannelHandlerContext) {
        let timer = idleTimer ?? LazyTimer(eventLoop: context.eventLoop)
        idleTimer = timer
        timer.arm(in: .milliseconds(Int64(worker.limits.idleTimeout * 1000)), idleTimeoutAction(context: context))
    }

    /// What the idle timer does when it fires, made once per connection (armed after every
    /// request; let go of in `channelInactive`: it holds this handler).
    private func idleTimeoutAction(context: ChannelHandlerContext) -> () -> Void {
        if let idleTimeout { return idleTimeout }
        let loop = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let action = {
            let (handler, context) = loop.value
            if handler.running == nil && handler.queue.isEmpty && handler.receiving == nil {
                handler.close(context: context, afterWrites: true)
            }
        }
        idleTimeout = action
        return action
    }

    private func cancelIdleTimer() {
        idleTimer?.disarm()
    }
}
