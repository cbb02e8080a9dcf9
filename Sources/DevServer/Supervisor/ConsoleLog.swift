#if canImport(Glibc)
import Glibc
#endif

/// The `--no-tui` output: one access-log line per request, worker lifecycle lines, the
/// application's wsgi.errors text and violations, coloured by status class like werkzeug's
/// log when stdout is a terminal and NO_COLOR is unset.
///
/// With the inspector on screen the same lines go to its ``EventLog`` instead, except the
/// access log: the request list shows that.
public final class ConsoleLog: @unchecked Sendable {
    private let color: Bool
    private let lock = Lock()
    private var divertedTo: EventLog?
    /// Access-log lines not written yet: the supervisor writes them once per turn of its loop
    /// (``flush()``), one write(2) for many requests under load instead of one each.
    private var pending: [UInt8] = []

    public init(color: Bool? = nil) {
        self.color = color ?? (isatty(STDOUT_FILENO) == 1 && ProcessEnvironment.value("NO_COLOR").map(\.isEmpty) ?? true)
    }

    /// Sends lines to `eventLog` instead of the terminal while the inspector owns it (nil: back
    /// to the terminal).
    public func divert(to eventLog: EventLog?) { lock.withLock { divertedTo = eventLog } }

    private var eventLog: EventLog? { lock.withLock { divertedTo } }

    /// `127.0.0.1:50312 - "GET /path HTTP/1.1" 200 13 B 0.41 ms gen 1 [1.7]`
    public func access(_ summary: RequestSummary) {
        guard eventLog == nil else { return }
        // Appended as bytes into the pending buffer, under one lock: no String per piece
        // (issue 14: the interpolated line was 11% of the supervisor's time per request).
        let colour = color ? Self.colour(status: summary.status) : nil
        let target = Sanitize.line(summary.target)
        let flushNow = lock.withLock { () -> Bool in
            if let colour { pending.append(contentsOf: "\u{1B}[\(colour)m".utf8) }
            pending.append(contentsOf: summary.client.utf8)
            pending.append(contentsOf: " - \"".utf8)
            pending.append(contentsOf: summary.method.utf8)
            pending.append(32)
            pending.append(contentsOf: target.utf8)
            pending.append(32)
            pending.append(contentsOf: summary.version.utf8)
            pending.append(contentsOf: "\" ".utf8)
            if summary.status == 0 { pending.append(contentsOf: "---".utf8) } else { Self.appendDecimal(summary.status, to: &pending) }
            pending.append(32)
            Self.appendDecimal(summary.bytes, to: &pending)
            pending.append(contentsOf: " B ".utf8)
            Self.appendDuration(summary.durationMicroseconds, to: &pending)
            pending.append(contentsOf: " gen ".utf8)
            Self.appendDecimal(summary.generation, to: &pending)
            pending.append(contentsOf: " [".utf8)
            pending.append(contentsOf: summary.id.utf8)
            pending.append(93)
            if summary.outcome != "complete" {
                pending.append(contentsOf: " (".utf8)
                pending.append(contentsOf: summary.outcome.utf8)
                pending.append(41)
            }
            if colour != nil { pending.append(contentsOf: "\u{1B}[0m".utf8) }
            pending.append(10)
            return pending.count >= 64 * 1024
        }
        if flushNow { flush() }
    }

    static func appendDecimal(_ value: Int, to bytes: inout [UInt8]) {
        if value < 0 {
            bytes.append(45)
            appendDecimal(-value, to: &bytes)
            return
        }
        if value >= 10 { appendDecimal(value / 10, to: &bytes) }
        bytes.append(UInt8(48 + value % 10))
    }

    /// ``duration(_:)``'s text, appended: "734 µs", "1.25 ms", "12 ms", "1.5 s".
    static func appendDuration(_ microseconds: Int, to bytes: inout [UInt8]) {
        if microseconds < 1000 {
            appendDecimal(microseconds, to: &bytes)
            bytes.append(contentsOf: " µs".utf8)
        } else {
            bytes.append(contentsOf: duration(microseconds).utf8)
        }
    }

    /// Writes the access-log lines held back (whole lines, in order).
    public func flush() {
        lock.withLock { writePending() }
    }

    /// With the lock held.
    private func writePending() {
        guard !pending.isEmpty else { return }
        write(pending)
        pending.removeAll(keepingCapacity: pending.capacity <= 256 * 1024)
    }

    /// With the lock held: all of `bytes` to stdout.
    private func write(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { Glibc.write(STDOUT_FILENO, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 && errno == EINTR { continue }
            if written <= 0 { return }
            offset += written
        }
    }

    /// A worker lifecycle line or a notice.
    public func info(_ text: String) {
        if let eventLog { return eventLog.append(.info, text) }
        emit("devserve: \(text)", colour: "1")
    }

    /// A warning, e.g. a violation of the gateway contract.
    public func warning(_ text: String) {
        if let eventLog { return eventLog.append(.warning, text) }
        emit("devserve: warning: \(text)", colour: "33")
    }

    /// An error line.
    public func error(_ text: String) {
        if let eventLog { return eventLog.append(.error, text) }
        emit("devserve: error: \(text)", colour: "31;1")
    }

    /// Text from the application or the worker, each line prefixed.
    public func text(_ text: String, prefix: String) {
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast(text.hasSuffix("\n") ? 1 : 0) {
            if let eventLog {
                eventLog.append(.output, "\(prefix) \(line)")
            } else {
                emit("\(prefix) \(Sanitize.line(String(line)))", colour: nil)
            }
        }
    }

    /// Prints `entries` as the terminal log would have (after the inspector leaves the screen).
    public func replay(_ entries: [EventLog.Entry]) {
        for entry in entries {
            switch entry.level {
            case .info: emit("devserve: \(entry.text)", colour: "1")
            case .warning: emit("devserve: warning: \(entry.text)", colour: "33")
            case .error: emit("devserve: error: \(entry.text)", colour: "31;1")
            case .output: emit(Sanitize.line(entry.text), colour: nil)
            }
        }
    }

    private func emit(_ line: String, colour: String?) {
        let text = color && colour != nil ? "\u{1B}[\(colour!)m\(line)\u{1B}[0m\n" : line + "\n"
        // One write(2) per line, after the access lines held back: lines from several sources
        // never interleave mid-line, and stay in order.
        lock.withLock {
            writePending()
            write(Array(text.utf8))
        }
    }

    static func duration(_ microseconds: Int) -> String {
        if microseconds < 1000 { return "\(microseconds) µs" }
        if microseconds < 10_000 { return String(Double(microseconds / 10) / 100) + " ms" }
        if microseconds < 1_000_000 { return "\(microseconds / 1000) ms" }
        return String(Double(microseconds / 10_000) / 100) + " s"
    }

    private static func colour(status: Int) -> String? {
        switch status {
        case 200..<300: return nil
        case 300..<400: return "36"
        case 400..<500: return "33"
        case 500...: return "31"
        default: return "35"
        }
    }
}
