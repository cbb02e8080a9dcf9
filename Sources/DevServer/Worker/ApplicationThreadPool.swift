import CDevServeShim
import DequeModule
#if canImport(Glibc)
import Glibc
#endif

/// The worker's application threads (`--threads`): requests run here, off the event loop,
/// because a WSGI application may block.
///
/// It differs from NIO's `NIOThreadPool` in when it wakes a thread (issue 14). NIO signals its
/// condition on every submit, so a burst of 64 requests read in one event-loop pass woke up to
/// 64 threads, each to run one request: on the benchmark's single CPU, two context switches
/// per request. Here work goes to a thread that is already awake when there is one, and a
/// sleeping thread is woken:
/// - when none is running;
/// - when requests have been taking ``overlapWork`` or longer (a Flask request is ~100 µs, and
///   then several threads overlap one's Python with another's socket work): as soon as work
///   waits and no awake thread is free, as NIO's pool would but one thread at a time;
/// - when requests are quicker than that, only if ``patience`` passes with no request taken
///   (the running ones block: the watcher's case). A burst of quick requests then runs on the
///   thread that is awake, without a context switch per request.
/// So a request that blocks holds up the ones behind it by about a millisecond at most. A
/// thread that finishes takes the next queued request before it sleeps. Requests still start
/// in order, and at most `count` run at once.
final class ApplicationThreadPool: @unchecked Sendable {
    /// Requests that take this long on average (microseconds, the application's time with the
    /// server's on its thread) run on overlapping threads.
    static let overlapWork = 50
    /// How long the queue may make no progress at all before the watcher wakes a thread.
    static let patience = 1_000

    private let condition = Condition()
    private var queue = Deque<() -> Void>()
    /// How long requests take on their thread, averaged over the last few (microseconds).
    private var averageWork = 0
    /// Awake threads not running a request (they look at the queue before sleeping), including
    /// those woken and not yet running.
    private var available: Int
    private var sleeping = 0
    private var running = 0
    /// Wake-ups given and not yet taken (a woken thread takes one; spurious wake-ups find none).
    private var tickets = 0
    /// Requests taken from the queue so far: the watcher's measure of progress.
    private var taken = 0
    /// Threads woken while another was running a request (what the policy decides; the tests
    /// read it as ``overlappingWakeUps``).
    private var wakeUpsBesideRunning = 0
    /// Whether the watcher is timing the queue (guarded by `condition`).
    private var watching = false
    /// The watcher sleeps on this until it is needed.
    private let watcherBell = Condition()
    private var watcherRung = false

    let count: Int

    /// ``wakeUpsBesideRunning``, read under the lock.
    var overlappingWakeUps: Int { condition.withLock { wakeUpsBesideRunning } }

    init(threads count: Int) {
        self.count = max(1, count)
        available = self.count
        for index in 0..<self.count {
            DetachedThread.start { [self] in
                _ = devserve_shim_set_thread_name("TP-#\(index)")
                Self.yieldOnWakeUp()
                runForever()
            }
        }
        DetachedThread.start { [self] in
            _ = devserve_shim_set_thread_name("TP-watcher")
            watchForever()
        }
    }

    /// Puts the calling thread in Linux's SCHED_BATCH: woken, it waits for the running thread
    /// to block or use up its slice instead of preempting it (sched(7)); otherwise scheduled as
    /// before. A request handed over by the event loop in the middle of its pass then starts
    /// when the pass ends, not halfway through it: hello without capture, context switches per
    /// request 0.20 -> 0.09 and worker CPU 3-4% lower; latency at 1 and 64 connections the same
    /// (docs/DECISIONS.md). Failing (not Linux), nothing changes.
    private static func yieldOnWakeUp() {
        _ = devserve_shim_set_thread_batch_scheduling()
    }

    /// Queues `work` to run on an application thread.
    func submit(_ work: @escaping () -> Void) {
        let (wake, ring) = condition.withLock { () -> (Bool, Bool) in
            queue.append(work)
            let wake = (running == 0 || overlapping) && reserveWakeUp()
            return (wake, startWatching())
        }
        // Signalled after unlocking: under the lock, the woken thread preempted the signaller
        // on the benchmark's single CPU only to block on the lock it still held.
        if wake { condition.signal() }
        if ring { ringWatcher() }
    }

    /// With the lock held: whether the watcher must start timing the queue (the caller rings
    /// it after unlocking).
    private func startWatching() -> Bool {
        guard !watching && needsAnotherThread else { return false }
        watching = true
        return true
    }

    private func ringWatcher() {
        watcherBell.withLock { watcherRung = true }
        watcherBell.signal()
    }

    /// With the lock held: whether requests are slow enough to run on overlapping threads.
    private var overlapping: Bool { averageWork >= Self.overlapWork }

    /// With the lock held: work waits, no awake thread is free, and one sleeps.
    private var needsAnotherThread: Bool { !queue.isEmpty && available == 0 && sleeping > 0 }

    /// With the lock held: when another thread is needed, counts one sleeper as woken. The
    /// caller signals after unlocking.
    private func reserveWakeUp() -> Bool {
        guard needsAnotherThread else { return false }
        if running > 0 { wakeUpsBesideRunning += 1 }
        sleeping -= 1
        available += 1
        tickets += 1
        return true
    }

    private func runForever() {
        condition.withLock {
            while true {
                if let work = queue.popFirst() {
                    available -= 1
                    running += 1
                    taken += 1
                    let wake = overlapping && reserveWakeUp()
                    let ring = startWatching()
                    var took = 0
                    condition.unlocked {
                        if wake { condition.signal() }
                        if ring { ringWatcher() }
                        let start = MonotonicClock.now()
                        work()
                        took = MonotonicClock.now() - start
                    }
                    averageWork += (took - averageWork) / 8
                    running -= 1
                    available += 1
                } else {
                    available -= 1
                    sleeping += 1
                    condition.wait { tickets > 0 }
                    tickets -= 1
                }
            }
        }
    }

    /// While work waits and every awake thread is busy: when a whole ``patience`` passes
    /// without a request taken, wakes another thread.
    private func watchForever() {
        while true {
            watcherBell.withLock {
                watcherBell.wait { watcherRung }
                watcherRung = false
            }
            var keepWatching = true
            while keepWatching {
                let mark = condition.withLock { taken }
                usleep(UInt32(Self.patience))
                let wake = condition.withLock { () -> Bool in
                    let stalled = taken == mark && reserveWakeUp()
                    keepWatching = needsAnotherThread || stalled
                    if !keepWatching { watching = false }
                    return stalled
                }
                if wake { condition.signal() }
            }
        }
    }
}
