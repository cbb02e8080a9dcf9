/// Workers that stop answering, requests that run too long, and replacing a worker by hand.
extension Supervisor {
    /// A serving worker silent for this long is reported: it sends a heartbeat every second.
    static let silenceLimit = 3_000_000

    /// Samples each worker's resident memory (/proc/PID/statm), once a second: what it had
    /// when it died is the best clue that the kernel's OOM killer took it.
    func sampleMemory(now: Int) {
        for worker in workers where now - worker.memorySampledAt >= 1_000_000 {
            worker.memorySampledAt = now
            guard let text = FileBytes.read("/proc/\(worker.pid)/statm").map({ String(decoding: $0, as: UTF8.self) }),
                  let pages = text.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else { continue }
            worker.lastRSS = pages * Int(sysconf(Int32(_SC_PAGESIZE)))
        }
    }

    /// Notices a serving worker that went quiet (stopped with SIGSTOP, or its event loop
    /// blocked) and says so with what it has in flight; nothing is killed for it: a developer
    /// may be holding it in a debugger. `devserve restart` or R replaces it by hand.
    func checkHeartbeats(now: Int) {
        for worker in workers where worker.accepting && !worker.crashing && !lifecycle.silent.contains(worker.identity) && lifecycle.role(of: worker.identity) != .retiring {
            guard now - worker.lastHeard > Self.silenceLimit else { continue }
            let seconds = (now - worker.lastHeard) / 1_000_000
            let inFlight = inFlightText(worker, now: now)
            log.warning("worker gen \(worker.generation) pid \(worker.pid) has not answered for \(seconds) s: stopped or wedged; \(inFlight) (devserve restart, or R in the inspector, replaces it)")
            worker.silentReport = "NOT ANSWERING for \(seconds) s: stopped or wedged; \(inFlight)"
            apply(.heartbeatMissed(worker.identity))
        }
    }

    /// "requests in flight: [1.2] GET /x for 5.1 s, ..." for a worker.
    func inFlightText(_ worker: WorkerProcess, now: Int) -> String {
        guard !worker.inFlight.isEmpty else { return "no request in flight" }
        let wall = WallClock.microseconds()
        let items = worker.inFlight.sorted { $0.key < $1.key }.prefix(5).map { id, request -> String in
            let started = recorder.record(workerID: id).map { " for \(RecordText.milliseconds(max(0, wall - $0.startedAt)))" } ?? ""
            return "[\(id)] \(request.method) \(Sanitize.line(request.target))\(started)"
        }
        let more = worker.inFlight.count > 5 ? " and \(worker.inFlight.count - 5) more" : ""
        return "requests in flight: " + items.joined(separator: ", ") + more
    }

    /// --request-timeout enforces, as gunicorn's --timeout: a request past it gets its worker
    /// replaced. The new worker takes over accepting; the others in flight get the shutdown
    /// grace; then the old worker is killed, and a stuck request whose head was not sent gets a
    /// 504 from it before it goes.
    func enforceRequestTimeout(newlyTimedOut ids: [Int]) {
        guard let current, lifecycle.role(of: current.identity) == .current, current.replacedBecause == nil, lifecycle.candidate == nil else { return }
        for id in ids {
            guard let record = recorder.record(id), current.inFlight[record.workerID] != nil else { continue }
            let reason = "[\(record.workerID)] \(record.method) \(Sanitize.line(record.target)) ran past --request-timeout \(RecordText.seconds(configuration.requestTimeout ?? 0))"
            replaceWorker(current, because: reason)
            return
        }
    }

    /// Starts a new worker to take over from `worker` (a new generation of the code as it is
    /// now), and kills `worker` if it has not exited after the shutdown grace.
    func replaceWorker(_ worker: WorkerProcess, because reason: String) {
        worker.replacedBecause = reason
        log.warning("\(reason): replacing worker gen \(worker.generation) pid \(worker.pid)")
        apply(.reloadRequested(reason: reason, now: MonotonicClock.now()))
    }
}

#if canImport(Glibc)
import Glibc
#endif
