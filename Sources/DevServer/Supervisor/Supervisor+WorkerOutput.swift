#if canImport(Glibc)
import Glibc
#endif

/// What workers say: their event streams, stdout and stderr, read by the supervisor's loop.
extension Supervisor {
    func readPipes(of worker: WorkerProcess) {
        if worker.events >= 0, let bytes = drain(&worker.events) {
            worker.eventBuffer += bytes
            do {
                for event in try EventFrame.decode(&worker.eventBuffer) { handle(event, from: worker) }
            } catch {
                log.error("worker gen \(worker.generation) pid \(worker.pid): \(error)")
                worker.eventBuffer.removeAll()
            }
        }
        if worker.stdout >= 0, let bytes = drain(&worker.stdout) {
            lines(bytes, buffer: &worker.stdoutLine) { log.text($0, prefix: "  gen \(worker.generation) stdout |") }
        }
        if worker.stderr >= 0, let bytes = drain(&worker.stderr) {
            worker.stderrTail = Array((worker.stderrTail + bytes).suffix(64 * 1024))
            lines(bytes, buffer: &worker.stderrLine) { line in
                log.text(line, prefix: "  gen \(worker.generation) stderr |")
                if line.contains("Program crashed") && !worker.crashing {
                    // The Swift backtracer holds the dying worker while it symbolicates, which
                    // takes a while; it no longer accepts, so start its replacement now. Only
                    // for a worker that was serving: one dying on start-up gets the backoff.
                    worker.crashing = true
                    if worker.ready { replace(worker, immediately: true) }
                }
            }
        }
    }

    /// Reads what is available; nil when nothing was. Closes the descriptor at end of file.
    func drain(_ descriptor: inout Int32) -> [UInt8]? {
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = read(descriptor, &buffer, buffer.count)
            if count > 0 {
                result += buffer[0..<count]
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
        switch event {
        case .hello(let version, _, _):
            if version != WorkerEvent.formatVersion {
                log.error("worker speaks event format \(version), this devserve \(WorkerEvent.formatVersion): mismatched binaries")
            }
        case .ready(let plugin, let abi, let swift):
            worker.ready = true
            worker.pluginName = plugin
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
            let reason = reported.replacing(worker.pluginPath, with: configuration.pluginPath)
            worker.loadFailure = reason
            if worker === candidate {
                candidateFailed(worker, reason: reason)
            } else {
                log.error("cannot load the plugin: \(reason)")
            }
        case .requestStarted(let start):
            worker.inFlight[start.id] = (start.method, start.target)
        case .requestBody, .responseStarted, .headSent, .chunk:
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
        }
    }
}
