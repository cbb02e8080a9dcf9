/// A string one thread writes and others read (the supervisor's status line).
final class SharedText: @unchecked Sendable {
    private let lock = Lock()
    private var text = ""

    var value: String {
        get { lock.withLock { text } }
        set { lock.withLock { text = newValue } }
    }
}
