#if canImport(Glibc)
import Glibc
#endif

/// What workers say: their event streams, stdout and stderr, read by the supervisor's loop.
extension Supervisor {
    /// Reads what `worker` wrote: every pipe, or only those in `readable` (what poll reported).
    func readPipes(of worker: WorkerProcess, readable: Set<Int32>? = nil) {
        func ready(_ descriptor: Int32) -> Bool { descriptor >= 0 && readable.map { $0.contains(descriptor) } ?? true }
        if ready(worker.events), let bytes = drain(&worker.events) {
            worker.eventBuffer += bytes
            do {
                for event in try EventFrame.decode(&worker.eventBuffer) { handle(event, from: worker) }
            } catch {
                log.error("worker gen \(worker.generation) pid \(worker.pid): \(error)")
                worker.eventBuffer.removeAll()
            }
        }
        if ready(worker.stdout), let bytes = drain(&worker.stdout) {
            lines(bytes, buffer: &worker.stdoutLine) { log.text($0, prefix: "  gen \(worker.generation) stdout |") }
        }
        if ready(worker.stderr), let bytes = drain(&worker.stderr) {
            worker.stderrTail = Array((worker.stderrTail + bytes).suffix(64 * 1024))
            lines(bytes, buffer: &worker.stderrLine) { line in
                log.text(line, prefix: "  gen \(worker.generation) stderr |")
            }
        }
    }

    /// Reads what is available; nil when nothing was. Closes the descriptor at end of file.
    func drain(_ descriptor: inout Int32) -> [UInt8]? {
        var result: [UInt8] = []
        while true {
            // One buffer for every read: zeroing a fresh 64 KiB per pipe per wake-up cost the
            // loop 4% of its time under load.
            let count = readBuffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count > 0 {
                result += readBuffer[0..<count]
                continue
            }
            if count == 0 || (errno != EAGAIN && errno != EINTR) {
                close(descriptor)
                descriptor = -1
            }
            break
        }
        return result.isEmpty ? nil : result
    }

    func lines(_ bytes: [UInt8], buffer: inout [UInt8], _ each: (String) -> Void) {
        buffer += bytes
        while let newline = buffer.firstIndex(of: 10) {
            each(String(decoding: buffer[..<newline], as: UTF8.self) + "\n")
            buffer.removeSubrange(...newline)
        }
    }

    func handle(_ event: WorkerEvent, from worker: WorkerProcess) {
        let touched = configuration.capture ? recorder.apply(event) : nil
        worker.lastHeard = MonotonicClock.now()
        if worker.silent {
            worker.silent = false
            log.info("worker gen \(worker.generation) pid \(worker.pid) answers again")
            updateStatus()
        }
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
            if !everReady { log.info("serving \(url) from \(configuration.displayName)") }
            everReady = true
            log.info("worker gen \(worker.generation) pid \(worker.pid) ready: plugin \(plugin) (ABI \(abi), Swift \(swift))")
            if worker === candidate {
                handOver(to: worker)
            } else {
                worker.startAccepting()
                updateStatus()
            }
        case .serving, .stoppedAccepting:
            if case .stoppedAccepting = event { worker.stoppedAccepting = true }
            continueHandOver()
        case .loadFailed(let reported):
            // The worker loaded this generation's snapshot; the user knows the file by its name.
            let reason = configuration.application == nil
                ? reported.replacing(worker.pluginPath, with: configuration.pluginPath)
                : reported.replacing("\(worker.pluginPath): the plugin's init failed: ", with: "\(configuration.displayName): ")
            worker.loadFailure = reason
            if worker === candidate {
                candidateFailed(worker, reason: reason)
            } else {
                log.error("cannot load the plugin: \(reason)")
            }
        case .requestStarted(let start):
            worker.inFlight[start.id] = (start.method, start.target)
        case .requestBody, .responseStarted, .headSent, .chunk, .applicationEnviron, .applicationTraceback:
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
            if worker.ready { replace(worker, immediately: true) }
        }
    }
}
