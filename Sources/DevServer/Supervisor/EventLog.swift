import DequeModule

/// The supervisor's messages while the inspector owns the screen: worker starts, crashes with
/// their backtraces, reloads, builds, warnings, and what the plugin printed on stdout and
/// stderr. Bounded (the oldest lines go first); thread-safe; subscribers are told when a line
/// arrives, never given it, like the recorder's.
public final class EventLog: @unchecked Sendable {
    public enum Level: String, Sendable {
        case info, warning, error
        /// A line the plugin printed, or the worker's own stderr (a backtrace).
        case output
    }

    public struct Entry: Sendable, Equatable {
        /// Wall-clock time, microseconds since the epoch.
        public var time: Int
        public var level: Level
        public var text: String

        public init(time: Int, level: Level, text: String) {
            self.time = time
            self.level = level
            self.text = text
        }
    }

    public let capacity: Int
    private let lock = Lock()
    private var entries = Deque<Entry>()
    private var added = 0
    private var problems = 0
    private var subscribers: [Int: @Sendable () -> Void] = [:]
    private var nextSubscriber = 0

    public init(capacity: Int = 5000) { self.capacity = capacity }

    public func append(_ level: Level, _ text: String, time: Int = WallClock.microseconds()) {
        let handlers: [@Sendable () -> Void] = lock.withLock {
            entries.append(Entry(time: time, level: level, text: text))
            if entries.count > capacity { entries.removeFirst() }
            added += 1
            if level == .warning || level == .error { problems += 1 }
            return Array(subscribers.values)
        }
        for handler in handlers { handler() }
    }

    /// Every line kept, oldest first.
    public func snapshot() -> [Entry] { lock.withLock { Array(entries) } }

    /// Lines appended since the log began (kept or not): a reader's cheap "anything new?".
    public var totalAdded: Int { lock.withLock { added } }

    /// Warnings and errors appended since the log began.
    public var problemCount: Int { lock.withLock { problems } }

    @discardableResult
    public func subscribe(_ handler: @escaping @Sendable () -> Void) -> Int {
        lock.withLock {
            nextSubscriber += 1
            subscribers[nextSubscriber] = handler
            return nextSubscriber
        }
    }

    public func unsubscribe(_ token: Int) { lock.withLock { subscribers[token] = nil } }
}
