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
