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
/// per request. Here a sleeping thread is woken only when no awake thread is free to take the
/// work; a thread that takes work while more is queued wakes one more first (so a request that
/// blocks never holds up the ones behind it while threads sleep), and a thread that finishes
/// takes the next queued request before it sleeps. Requests still start in order, and at most
/// `count` run at once.
final class ApplicationThreadPool: @unchecked Sendable {
    private let condition = Condition()
    private var queue = Deque<() -> Void>()
    /// Awake threads not running a request (they look at the queue before sleeping), including
    /// those woken and not yet running.
    private var available: Int
    private var sleeping = 0
    /// Wake-ups given and not yet taken (a woken thread takes one; spurious wake-ups find none).
    private var tickets = 0

    let count: Int

    init(threads count: Int) {
        self.count = max(1, count)
        available = self.count
        for index in 0..<self.count {
            DetachedThread.start { [self] in
                _ = devserve_shim_set_thread_name("TP-#\(index)")
                runForever()
            }
        }
    }

    /// Queues `work` to run on an application thread.
    func submit(_ work: @escaping () -> Void) {
        let wake = condition.withLock {
            queue.append(work)
            return reserveWakeUpIfNeeded()
        }
        if wake { condition.signal() }
    }

    /// With the lock held: when work waits, no awake thread is free and one sleeps, counts
    /// that one as woken. The caller signals after unlocking: signalled under the lock, the
    /// woken thread preempted the signaller on the benchmark's single CPU only to block on
    /// the lock it still held (a futex wait and two context switches per hand-over).
    private func reserveWakeUpIfNeeded() -> Bool {
        guard !queue.isEmpty && available == 0 && sleeping > 0 else { return false }
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
                    let wake = reserveWakeUpIfNeeded()
                    condition.unlocked {
                        if wake { condition.signal() }
                        work()
                    }
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
}
