/// When the supervisor hands the free memory that evicted records left behind back to the
/// kernel (glibc's `malloc_trim`), so that `--max-memory` bounds RSS, not only the recorder's
/// own estimate.
///
/// A trim is kernel work on the server's CPU: 2.4-3.4 ms for 37-48 MiB free, measured after
/// the 1 MiB echo benchmark. A worker waiting for the CPU meanwhile delays what it serves (a
/// streamed chunk arrived 0.7-1.5 ms late instead of 0.25), so the trim waits for quiet: no
/// request in flight and no worker event for ``quietInterval``, when it costs no one
/// anything. Under load it runs only when a quarter of `--max-memory` lies free (at least
/// ``floor``), at most every ``loadInterval``: asking glibc how much is free walks its arenas
/// (2% of the loop's time when done every second under load), and under a stream of large
/// bodies freed memory is reused at once; trimming it each time made every new body fault its
/// pages in again.
struct MemoryTrim {
    /// How long the workers must have sent nothing before the server counts as quiet (µs).
    static let quietInterval = 100_000
    /// The shortest time between two looks at the free heap under load (µs).
    static let loadInterval = 2_000_000
    /// Free heap below this is not worth a trim.
    static let floor = 16 << 20

    /// The recorder's `--max-memory`.
    let maxMemory: Int
    /// Evictions counted when the free heap was last looked at while quiet, or last trimmed.
    private(set) var settledEvictions = 0
    private var lookedAt = Int.min / 2

    init(maxMemory: Int) {
        self.maxMemory = maxMemory
    }

    /// Evictions since the last trim or quiet look: the loop should wake to look for quiet.
    func isPending(evictions: Int) -> Bool { evictions > settledEvictions }

    /// Whether to trim now. `quiet` and `freeBytes` are asked only when the answer depends on
    /// them (this is asked on every turn of the supervisor's loop).
    /// - Parameters:
    ///   - now: the monotonic clock, µs.
    ///   - evictions: the recorder's eviction count so far.
    ///   - quiet: no request in flight and no worker event for ``quietInterval``.
    mutating func shouldTrim(now: Int, evictions: Int, quiet isQuiet: () -> Bool, freeBytes: () -> Int) -> Bool {
        guard isPending(evictions: evictions) else { return false }
        let quiet = isQuiet()
        if !quiet && now - lookedAt < Self.loadInterval { return false }
        lookedAt = now
        let free = freeBytes()
        // Quiet, nothing more comes free until the next eviction: the loop may sleep.
        if quiet { settledEvictions = evictions }
        guard free > (quiet ? Self.floor : max(Self.floor, maxMemory / 4)) else { return false }
        settledEvictions = evictions
        return true
    }
}
