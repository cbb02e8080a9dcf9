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
        let request = "\"\(summary.method) \(Sanitize.line(summary.target)) \(summary.version)\""
        let status = summary.status == 0 ? "---" : String(summary.status)
        var line = "\(summary.client) - \(request) \(status) \(summary.bytes) B \(Self.duration(summary.durationMicroseconds)) gen \(summary.generation) [\(summary.id)]"
        if summary.outcome != "complete" { line += " (\(summary.outcome))" }
        let colour = Self.colour(status: summary.status)
        let text = color && colour != nil ? "\u{1B}[\(colour!)m\(line)\u{1B}[0m\n" : line + "\n"
        let flushNow = lock.withLock { () -> Bool in
            pending.append(contentsOf: text.utf8)
            return pending.count >= 64 * 1024
        }
        if flushNow { flush() }
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

/// Makes untrusted text safe to print on one terminal line.
public enum Sanitize {
    /// Text from elsewhere (a control socket's answer) made safe for a terminal: line ends
    /// kept, every other control character shown as an escape.
    public static func lines(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { line($0.hasSuffix("\r") ? String($0.dropLast()) : String($0)) }.joined(separator: "\n")
    }

    /// Control characters (escape sequences among them) become visible escapes.
    public static func line(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x09: result += " "
            case 0..<0x20, 0x7F, 0x80..<0xA0: result += "\\x" + (scalar.value < 16 ? "0" : "") + String(scalar.value, radix: 16)
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}
