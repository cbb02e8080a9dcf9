#if canImport(Glibc)
import Glibc
#endif

/// A mutex with a condition variable: for the few places a thread must wait for another
/// (the application thread waiting for request body bytes, or for a slow client).
public final class Condition: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    public init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        condition.deallocate()
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
