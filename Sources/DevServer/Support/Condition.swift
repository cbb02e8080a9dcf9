#if canImport(Glibc)
import Glibc
#endif

/// A mutex with a condition variable: for the few places a thread must wait for another
/// (the application thread waiting for request body bytes, or for a slow client).
public final class Condition: @unchecked Sendable {
    /// Both in one block (a request body makes a condition: one allocation for the two, not
    /// two; issue 14).
    private struct Pair {
        var mutex = pthread_mutex_t()
        var condition = pthread_cond_t()
    }
    private let pair = UnsafeMutablePointer<Pair>.allocate(capacity: 1)
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>

    public init() {
        pair.initialize(to: Pair())
        let base = UnsafeMutableRawPointer(pair)
        mutex = (base + MemoryLayout<Pair>.offset(of: \.mutex)!).assumingMemoryBound(to: pthread_mutex_t.self)
        condition = (base + MemoryLayout<Pair>.offset(of: \.condition)!).assumingMemoryBound(to: pthread_cond_t.self)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        pair.deallocate()
    }

    public func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    /// Waits, with the lock held, until `predicate` is true.
    public func wait(until predicate: () -> Bool) {
        while !predicate() { pthread_cond_wait(condition, mutex) }
    }

    /// Waits, with the lock held, until `predicate` is true or `seconds` pass.
    /// - Returns: whether `predicate` became true.
    public func wait(timeout seconds: Double, until predicate: () -> Bool) -> Bool {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let nanoseconds = Int(seconds * 1e9) + now.tv_nsec
        var deadline = timespec(tv_sec: now.tv_sec + nanoseconds / 1_000_000_000, tv_nsec: nanoseconds % 1_000_000_000)
        while !predicate() {
            if pthread_cond_timedwait(condition, mutex, &deadline) == ETIMEDOUT { return predicate() }
        }
        return true
    }

    /// Wakes every waiter; call with the lock held or not.
    public func broadcast() { pthread_cond_broadcast(condition) }

    /// Wakes at least one waiter; call with the lock held or not.
    public func signal() { pthread_cond_signal(condition) }

    /// Runs `body` with the lock released, inside a ``withLock(_:)``.
    public func unlocked(_ body: () -> Void) {
        pthread_mutex_unlock(mutex)
        defer { pthread_mutex_lock(mutex) }
        body()
    }
}
