@testable import DevServer
import Foundation
import XCTest

/// The application threads: fewer wake-ups than NIO's pool, never at the price of a request
/// waiting behind one that blocks while a thread sleeps.
final class ApplicationThreadPoolTests: XCTestCase {
    func testRequestsQueuedBehindBlockedOnesStillRunWhileThreadsAreFree() {
        let pool = ApplicationThreadPool(threads: 8)
        let release = DispatchSemaphore(value: 0)
        let started = DispatchSemaphore(value: 0)
        // A burst: three requests that block, submitted before any thread has woken.
        for _ in 0..<3 {
            pool.submit {
                started.signal()
                release.wait()
            }
        }
        let quick = DispatchSemaphore(value: 0)
        for _ in 0..<4 { pool.submit { quick.signal() } }
        for _ in 0..<4 {
            XCTAssertEqual(quick.wait(timeout: .now() + 2), .success, "a quick request waited behind blocked ones")
        }
        for _ in 0..<3 { XCTAssertEqual(started.wait(timeout: .now() + 2), .success) }
        for _ in 0..<3 { release.signal() }
    }

    /// docs/DECISIONS.md, "application threads are SCHED_BATCH": a woken application thread
    /// waits for the event loop's pass to end instead of preempting it.
    func testApplicationsRunOnThreadsThatDoNotPreemptTheEventLoopWhenWoken() {
        let pool = ApplicationThreadPool(threads: 2)
        let ran = DispatchSemaphore(value: 0)
        final class Seen: @unchecked Sendable { var policy: Int32 = -1 }
        let seen = Seen()
        pool.submit {
            seen.policy = sched_getscheduler(0)
            ran.signal()
        }
        XCTAssertEqual(ran.wait(timeout: .now() + 2), .success)
        XCTAssertEqual(seen.policy, 3, "SCHED_BATCH (3 in sched.h; glibc shows the name only to C)")
        XCTAssertEqual(sched_getscheduler(0), 0, "threads other than the pool's keep SCHED_OTHER")
    }

    func testARequestArrivingWhileTheAwakeThreadBlocksRunsOnAnotherWithinMilliseconds() {
        let pool = ApplicationThreadPool(threads: 4)
        let release = DispatchSemaphore(value: 0)
        let started = DispatchSemaphore(value: 0)
        pool.submit {
            started.signal()
            release.wait()
        }
        XCTAssertEqual(started.wait(timeout: .now() + 2), .success)
        let quick = DispatchSemaphore(value: 0)
        let submitted = DispatchTime.now()
        pool.submit { quick.signal() }
        XCTAssertEqual(quick.wait(timeout: .now() + 2), .success, "it waited for the blocked request to end")
        let waited = Double(DispatchTime.now().uptimeNanoseconds - submitted.uptimeNanoseconds) / 1e9
        XCTAssertLessThan(waited, 0.5, "the watcher wakes a thread after about a millisecond without progress")
        release.signal()
    }

    func testABurstOfQuickRequestsRunsOnTheThreadThatIsAwakeAndSlowOnesSpreadOverThreads() {
        let pool = ApplicationThreadPool(threads: 8)
        usleep(200_000)  // threads start awake, looking for work; a worker's are asleep by its first request
        let done = DispatchSemaphore(value: 0)
        for _ in 0..<2000 { pool.submit { done.signal() } }
        for _ in 0..<2000 { XCTAssertEqual(done.wait(timeout: .now() + 5), .success) }
        // Threads woken beside a running one, not threads used: after the queue empties, the
        // next request rightly wakes whichever thread sleeps.
        let quickWakeUps = pool.overlappingWakeUps
        XCTAssertLessThanOrEqual(quickWakeUps, 2, "quick requests woke threads they did not need")
        for _ in 0..<24 {
            pool.submit {
                usleep(500)
                done.signal()
            }
        }
        for _ in 0..<24 { XCTAssertEqual(done.wait(timeout: .now() + 5), .success) }
        XCTAssertGreaterThanOrEqual(pool.overlappingWakeUps - quickWakeUps, 1, "500 µs requests ran one after another on one thread")
    }

    func testNoMoreThanTheThreadCountRunAtOnceAndTheRestRunWhenOneFinishes() {
        let pool = ApplicationThreadPool(threads: 2)
        let release = DispatchSemaphore(value: 0)
        let ran = DispatchSemaphore(value: 0)
        let running = Counter()
        for _ in 0..<3 {
            pool.submit {
                running.add(1)
                ran.signal()
                release.wait()
                running.add(-1)
            }
        }
        XCTAssertEqual(ran.wait(timeout: .now() + 2), .success)
        XCTAssertEqual(ran.wait(timeout: .now() + 2), .success)
        XCTAssertEqual(ran.wait(timeout: .now() + 0.3), .timedOut, "a third ran on a pool of two")
        XCTAssertEqual(running.value, 2)
        release.signal()
        XCTAssertEqual(ran.wait(timeout: .now() + 2), .success, "the third runs when one finishes")
        release.signal()
        release.signal()
    }

    func testEveryRequestOfABurstRunsExactlyOnce() {
        let pool = ApplicationThreadPool(threads: 4)
        let counter = Counter()
        let done = DispatchSemaphore(value: 0)
        for _ in 0..<1000 {
            pool.submit {
                counter.add(1)
                done.signal()
            }
        }
        for _ in 0..<1000 { XCTAssertEqual(done.wait(timeout: .now() + 5), .success) }
        XCTAssertEqual(counter.value, 1000)
    }
}

private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add(_ delta: Int) { lock.lock(); count += delta; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}
