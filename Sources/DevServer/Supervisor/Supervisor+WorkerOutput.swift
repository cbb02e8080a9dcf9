#if canImport(Glibc)
import Glibc
#endif
import NIOCore

/// What workers say: their event streams, stdout and stderr, read by the supervisor's loop.
extension Supervisor {
    /// Reads what `worker` wrote: every pipe, or only those in `readable` (what poll reported).
    func readPipes(of worker: WorkerProcess, readable: Set<Int32>? = nil) {
        func ready(_ descriptor: Int32) -> Bool { descriptor >= 0 && readable.map { $0.contains(descriptor) } ?? true }
        if ready(worker.events), drain(&worker.events, into: &worker.eventBuffer) {
            do {
                // Decoded and handled while the read is borrowed: a request's frames are lent
                // from it to the recorder, which keeps them as they came (``RequestFrame``).
                // (A copy of the buffer's value, released before the buffer is changed again: no
                // copy of its bytes, and handling may touch the worker's buffer.)
                let consumed: Int = try {
                    let stream = worker.eventBuffer
                    return try stream.withUnsafeReadableBytes { bytes in
                        try EventFrame.decodeLending(bytes, ring: worker.bodyRing) { handle($0, from: worker) }
                    }
                }()
                worker.eventBuffer.moveReaderIndex(forwardBy: consumed)
                if worker.eventBuffer.readableBytes == 0 {
                    worker.eventBuffer.clear()
                } else if worker.eventBuffer.readerIndex > worker.eventBuffer.capacity / 2 {
                    // Only a partial frame is left: it moves to the front, once per half buffer.
                    worker.eventBuffer.discardReadBytes()
                }
                // Lent body bytes were copied where they are kept: the worker may reuse them.
                worker.bodyRing?.releaseTaken()
            } catch {
                // Nothing after a bad frame can be trusted to line up: the worker is replaced
                // rather than left serving with its capture silenced.
                log.error("worker gen \(worker.generation) pid \(worker.pid): its event stream is corrupt (\(error)); replacing it")
                worker.eventBuffer.clear()
                worker.events = -1
                if lifecycle.role(of: worker.identity) == .current { replaceWorker(worker, because: "the event stream of worker gen \(worker.generation) pid \(worker.pid) is corrupt") }
            }
        }
        if ready(worker.stdout), let bytes = drain(&worker.stdout) {
            lines(bytes, buffer: &worker.stdoutLine, dropped: &worker.stdoutDropped) { log.text($0, prefix: "  gen \(worker.generation) stdout |") }
        }
        if ready(worker.stderr), let bytes = drain(&worker.stderr) {
            worker.stderrTail = Array((worker.stderrTail + bytes).suffix(64 * 1024))
            lines(bytes, buffer: &worker.stderrLine, dropped: &worker.stderrDropped) { line in
                log.text(line, prefix: "  gen \(worker.generation) stderr |")
            }
        }
    }

    /// Reads what is available straight into the free end of `buffer` (the event stream: no
    /// copy in between); whether anything was read. Closes the descriptor at end of file.
    func drain(_ descriptor: inout Int32, into buffer: inout ByteBuffer, readSize: Int = eventReadSize) -> Bool {
        var any = false
        while true {
            var count = 0
            var error: Int32 = 0
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: readSize) { free in
                count = read(descriptor, free.baseAddress, free.count)
                error = errno
                return max(0, count)
            }
            if count > 0 {
                any = true
                continue
            }
            if count == 0 || (error != EAGAIN && error != EINTR) {
                close(descriptor)
                descriptor = -1
            }
            return any
        }
    }

    /// The room one read of the event stream asks for: its pipe's size (``WorkerProcess``).
    static let eventReadSize = 1 << 20

    /// Reads what is available (a worker's stdout or stderr); nil when nothing was. Closes the
    /// descriptor at end of file.
    func drain(_ descriptor: inout Int32) -> [UInt8]? {
        var buffer = ByteBuffer()
        return drain(&descriptor, into: &buffer, readSize: 64 * 1024) ? Array(buffer.readableBytesView) : nil
    }

    /// The longest line kept from a worker's output; the rest of a longer one is counted and
    /// dropped (800 MB without a newline once grew the supervisor by 200 MB).
    static let maxLine = 16 * 1024

    /// Splits `bytes` (after what `buffer` holds) into lines for `each`. A line longer than
    /// ``maxLine`` is shown up to there as soon as it reaches it, the rest of it up to its
    /// newline is counted in `dropped` (not held), and a note says how much was left out.
    func lines(_ bytes: [UInt8], buffer: inout [UInt8], dropped: inout Int, _ each: (String) -> Void) {
        var start = 0
        while start < bytes.count {
            let newline = bytes[start...].firstIndex(of: 10)
            let end = newline ?? bytes.count
            if dropped > 0 {
                dropped += end - start
            } else {
                let take = min(Self.maxLine - buffer.count, end - start)
                buffer += bytes[start..<(start + take)]
                if take < end - start {
                    // The cap is reached: show what there is now, count the rest.
                    each(String(decoding: buffer, as: UTF8.self) + "…\n")
                    buffer.removeAll()
                    dropped = end - start - take
                }
            }
            guard let newline else { return }
            if dropped > 0 {
                each("[… \(dropped) more bytes of that line not shown]\n")
            } else {
                each(String(decoding: buffer, as: UTF8.self) + "\n")
            }
            buffer.removeAll(keepingCapacity: buffer.capacity <= 64 * 1024)
            dropped = 0
            start = newline + 1
        }
    }

    /// The events read from `worker` in one go: the recorder takes them all at once, then the
    /// supervisor's own bookkeeping runs event by event.
    func handle(_ events: [WorkerEvent], from worker: WorkerProcess) {
        let touched = configuration.capture ? recorder.apply(events) : []
        let now = MonotonicClock.now()
        decodingKept = configuration.capture
        lastWorkerEvents = now
        worker.lastHeard = now
        if lifecycle.silent.contains(worker.identity) {
            worker.silentReport = nil
            log.info("worker gen \(worker.generation) pid \(worker.pid) answers again")
            apply(.answering(worker.identity))
        }
        for (index, event) in events.enumerated() {
            handle(event, from: worker, touched: touched.isEmpty ? nil : touched[index])
        }
    }

    private func handle(_ event: WorkerEvent, from worker: WorkerProcess, touched: Int?) {
        switch event {
        case .hello(let version, _, _):
            if version != WorkerEvent.formatVersion {
                log.error("worker speaks event format \(version), this devserve \(WorkerEvent.formatVersion): mismatched binaries")
            }
        case .ready(let plugin, let abi, let swift):
            worker.ready = true
            worker.pluginName = plugin
            // Said once the application is known to load: a URL printed before a plugin that
            // turns out unloadable promises what it cannot keep.
            if !lifecycle.everReady { log.info("serving \(url) from \(configuration.displayName)") }
            log.info("worker gen \(worker.generation) pid \(worker.pid) ready: plugin \(plugin) (ABI \(abi), Swift \(swift))")
            apply(.ready(worker.identity, now: MonotonicClock.now()))
        case .serving:
            break
        case .stoppedAccepting:
            apply(.stoppedAccepting(worker.identity, now: MonotonicClock.now()))
        case .loadFailed(let reported):
            // The worker loaded this generation's snapshot; the user knows the file by its name.
            let reason = configuration.application == nil
                ? reported.replacing(worker.pluginPath, with: configuration.pluginPath)
                : reported.replacing("\(worker.pluginPath): the plugin's init failed: ", with: "\(configuration.displayName): ")
            worker.loadFailure = reason
            apply(.loadFailed(worker.identity, reason: reason, now: MonotonicClock.now()))
        case .requestStarted(let start):
            worker.inFlight[start.id] = (start.method, start.target)
        case .requestFrame(let frame):
            if let start = frame.start { worker.inFlight[frame.id] = (start.method, start.target) }
        case .requestBody, .requestBodyLent, .responseStarted, .headSent, .chunk, .applicationEnviron, .applicationTraceback:
            break
        case .requestFinished(let summary):
            worker.inFlight[summary.id] = nil
            served += 1
            if let journal, let touched, let record = recorder.record(touched) { journal.append(record, recorder: recorder) }
            log.access(summary)
        case .errors(let id, let text):
            log.text(text, prefix: "[\(id)]")
        case .violation(let id, let kind, let message):
            log.warning("[\(id)] gateway violation \(kind): \(message)")
        case .applicationError:
            break  // its text arrives as .errors too
        case .watchFile(let path):
            watchApplicationFile(path)
        case .heartbeat:
            break
        case .crashed(let signal, let requestID):
            // From the worker's own crash handler, before the backtracer runs: the Swift
            // backtracer holds the dying worker while it symbolicates (seconds on a debug
            // build), so its replacement starts now. Only for a worker that was serving: one
            // dying on start-up gets the backoff. Never from text on stderr: an application
            // may print anything.
            guard !worker.crashing else { break }
            worker.crashing = true
            worker.crashSignal = Int32(signal)
            worker.culprit = requestID.isEmpty ? nil : requestID
            let blame = worker.culprit.flatMap { id in worker.inFlight[id].map { " while serving [\(id)] \($0.method) \(Sanitize.line($0.target))" } } ?? ""
            let what = signal == 0 ? "is exiting (exit() was called)" : "caught \(Self.signalName(Int32(signal)))"
            log.error("worker gen \(worker.generation) pid \(worker.pid) \(what)\(blame); starting its replacement")
            apply(.crashReported(worker.identity, now: MonotonicClock.now()))
        }
    }
}
