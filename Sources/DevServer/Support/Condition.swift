#if canImport(Glibc)
import Glibc
#endif

/// A mutex with a condition variable: for the few places a thread must wait for another
/// (the application thread waiting for request body bytes, or for a slow client).
public final class Condition: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>

    /// The condition's offset in the one block that holds both (a request body makes one
    /// condition: one allocation for the two, not two; issue 14).
    private static let conditionOffset = (MemoryLayout<pthread_mutex_t>.stride + MemoryLayout<pthread_cond_t>.alignment - 1)
        / MemoryLayout<pthread_cond_t>.alignment * MemoryLayout<pthread_cond_t>.alignment

    public init() {
        let block = UnsafeMutableRawPointer.allocate(
            byteCount: Self.conditionOffset + MemoryLayout<pthread_cond_t>.stride,
            alignment: max(MemoryLayout<pthread_mutex_t>.alignment, MemoryLayout<pthread_cond_t>.alignment))
        mutex = block.bindMemory(to: pthread_mutex_t.self, capacity: 1)
        condition = (block + Self.conditionOffset).bindMemory(to: pthread_cond_t.self, capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        UnsafeMutableRawPointer(mutex).deallocate()
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
