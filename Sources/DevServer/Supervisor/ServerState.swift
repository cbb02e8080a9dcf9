/// What the supervisor is doing, for the inspector's status bar: published by the supervisor's
/// loop, read by any thread.
public struct ServerState: Sendable, Equatable {
    /// The worker's state as the user thinks of it.
    public enum WorkerState: String, Sendable {
        case starting
        case serving
        /// A new generation is starting; the old one serves meanwhile.
        case reloading
        /// The worker died; a new one starts after a backoff.
        case restarting
        /// The plugin keeps failing to start: waiting for the file to change.
        case waitingForChange = "waiting for a new build"
        /// The worker stopped answering (no heartbeat): stopped, or its event loop is blocked.
        case stuck = "not answering"
        case stopping
    }

    public var url = ""
    public var pluginPath = ""
    /// The generation serving (or starting, before any serves).
    public var generation = 1
    public var workerPID: Int32?
    public var worker = WorkerState.starting
    /// Why the generation serving is not the newest build.
    public var stale: String?
    /// A --build command is running.
    public var building = false
    /// Requests answered (or refused) since devserve started.
    public var served = 0

    public init() {}
}

/// A value one thread publishes and others read.
public final class Shared<Value: Sendable>: @unchecked Sendable {
    private let lock = Lock()
    private var stored: Value
    private var observers: [@Sendable () -> Void] = []

    public init(_ value: Value) { stored = value }

    /// Setting it tells the observers (after the new value is readable).
    public var value: Value {
        get { lock.withLock { stored } }
        set { set(newValue, notify: true) }
    }

    /// Stores `value`, telling the observers only when `notify` (a counter that changes with
    /// every request need not wake anyone).
    public func set(_ value: Value, notify: Bool) {
        let observers = lock.withLock {
            stored = value
            return notify ? self.observers : []
        }
        for observer in observers { observer() }
    }

    /// Calls `observer` on the setting thread after every change.
    public func observe(_ observer: @escaping @Sendable () -> Void) {
        lock.withLock { observers.append(observer) }
    }
}
