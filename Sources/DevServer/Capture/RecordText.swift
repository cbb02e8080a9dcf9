#if canImport(Glibc)
import Glibc
#endif

/// How `devserve ls` and `devserve show` print records for people (the `--json` forms are
/// ``RecordJSON``). Untrusted text is sanitized: no control characters reach the terminal.
public enum RecordText {
    /// A table, one request per line, oldest first.
    public static func listing(_ entries: [RecordJSON.Summary]) -> String {
        var lines = [pad("ID", 6) + pad("TIME", 13) + pad("METHOD", 8) + pad("STATUS", 7) + pad("SIZE", 9) + pad("DURATION", 10) + pad("CHUNKS", 7) + pad("GEN", 5) + "TARGET"]
        for entry in entries {
            var flags: [String] = []
            if entry.outcome != "complete" { flags.append(entry.outcome) }
            if entry.violations > 0 { flags.append("\(entry.violations) violation\(entry.violations == 1 ? "" : "s")") }
            if entry.timedOut { flags.append("timed out") }
            if let original = entry.replayOf { flags.append("replay of \(original)") }
            let status = entry.status == 0 ? "-" : String(entry.status)
            let duration = entry.duration.map(ConsoleLog.duration) ?? "…"
            var line = pad(String(entry.id), 6) + pad(clock(entry.startedAt), 13) + pad(entry.method, 8) + pad(status, 7)
            line += pad(size(entry.size), 9) + pad(duration, 10) + pad(String(entry.chunks), 7) + pad(String(entry.generation), 5)
            line += Sanitize.line(entry.target)
            if let type = entry.contentType { line += "  [\(Sanitize.line(type))]" }
            if !flags.isEmpty { line += "  (\(flags.joined(separator: ", ")))" }
            lines.append(line)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Everything about one request, in sections.
    public static func detail(_ record: RecordJSON.Full) -> String {
        let summary = record.summary
        var out = "Request \(summary.id) [\(summary.workerID)], generation \(summary.generation), from \(record.client), at \(clock(summary.startedAt))\n"
        out += "Outcome: \(summary.outcome)\(record.outcomeDetail.map { " (\($0))" } ?? "")\(summary.duration.map { " after \(ConsoleLog.duration($0))" } ?? "")\n"
        if let timeout = record.timeout { out += "Timed out: \(timeout)\n" }
        out += "\n== Request\n\(summary.method) \(Sanitize.line(summary.target)) \(record.version)\n"
        out += headers(record.requestHeaders) + body(record.requestBody)
        out += "\n== Response\n"
        if let status = record.applicationStatus {
            out += "As the application gave it\(record.headersReplaced ? " (replaced through exc_info)" : ""):\n\(Sanitize.line(status))\n" + headers(record.applicationHeaders)
        }
        if let head = record.sentHead {
            out += "As sent:\n" + head.split(separator: "\r\n", omittingEmptySubsequences: true).map { Sanitize.line(String($0)) + "\n" }.joined()
        } else {
            out += "Nothing was sent.\n"
        }
        out += body(record.responseBody)
        out += "\n== Chunks (\(record.chunks.count))\n"
        for (index, chunk) in record.chunks.enumerated() {
            let preview = Sanitize.line(String((chunk.body.text ?? "<binary>").prefix(60)))
            out += pad("#\(index + 1)", 6) + pad(String(format3(chunk.offsetMs)) + " ms", 14) + pad("\(chunk.size) B", 10) + preview + "\n"
        }
        out += "\n== Environ\n" + record.environ.map { "\(Sanitize.line($0.name)) = \(Sanitize.line($0.value))\n" }.joined()
        if let python = record.applicationEnviron {
            out += "\n== Environ as the application left it (what differs, with Python types)\n"
            out += python.map { "\(Sanitize.line($0.name)) = \(Sanitize.line($0.value))\n" }.joined()
        }
        if !record.errors.isEmpty || !record.violations.isEmpty || record.applicationError != nil || record.crash != nil {
            out += "\n== Errors\n"
            if let error = record.applicationError { out += "The application raised \(error.name): \(Sanitize.line(error.value))\n" }
            if let frames = record.applicationTraceback, !frames.isEmpty {
                out += "Frames, innermost last:\n" + frames.map { "  \(Sanitize.line($0.file)):\($0.line) in \(Sanitize.line($0.function))\n" }.joined()
            }
            for violation in record.violations { out += "Violation \(violation.name): \(Sanitize.line(violation.value))\n" }
            if !record.errors.isEmpty { out += "wsgi.errors:\n" + record.errors.split(separator: "\n").map { "  " + Sanitize.line(String($0)) + "\n" }.joined() }
            if let crash = record.crash {
                out += "The worker crashed with \(crash.signal):\n" + crash.backtrace.split(separator: "\n").map { "  " + Sanitize.line(String($0)) + "\n" }.joined()
            }
        }
        let t = record.timings
        out += "\n== Timings\nstart_response \(ms(t.startResponse)), first byte \(ms(t.firstByte)), last byte \(ms(t.lastByte)), close \(ms(t.close))\n"
        return out
    }

    private static func headers(_ headers: [HeaderField]) -> String {
        headers.map { "\(Sanitize.line($0.name)): \(Sanitize.line($0.value))\n" }.joined()
    }

    private static func body(_ body: RecordJSON.Body) -> String {
        let bytes = body.bytes
        var out = ""
        if bytes.isEmpty && body.notKept == 0 { return "(no body)\n" }
        if let text = body.text {
            out += "\n" + text.split(separator: "\n", omittingEmptySubsequences: false).map { Sanitize.line(String($0)) }.joined(separator: "\n") + "\n"
        } else {
            out += "\n(\(bytes.count) bytes of binary; --json has them in base64)\n"
        }
        if body.notKept > 0 { out += "(\(body.notKept) bytes not kept: over --max-body)\n" }
        return out
    }

    private static func ms(_ microseconds: Int) -> String {
        microseconds < 0 ? "-" : format3(Double(microseconds) / 1000) + " ms"
    }

    /// "1.234 ms"
    public static func milliseconds(_ microseconds: Int) -> String { ms(microseconds) }

    /// "2 s", "1.5 s".
    public static func seconds(_ value: Double) -> String { value == value.rounded() ? "\(Int(value)) s" : "\(value) s" }

    private static func format3(_ value: Double) -> String {
        let scaled = Int((value * 1000).rounded())
        let fraction = String(abs(scaled) % 1000)
        return "\(scaled / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
    }

    private static func size(_ bytes: Int) -> String {
        if bytes < 10_000 { return "\(bytes) B" }
        if bytes < 10 << 20 { return "\(bytes >> 10) KiB" }
        return "\(bytes >> 20) MiB"
    }

    /// Local time of day with milliseconds.
    static func clock(_ microseconds: Int) -> String {
        var seconds = time_t(microseconds / 1_000_000)
        var parts = tm()
        localtime_r(&seconds, &parts)
        return clock(microseconds, utcOffset: parts.tm_gmtoff)
    }

    /// "HH:MM:SS.mmm" at `utcOffset` seconds east of UTC.
    public static func clock(_ microseconds: Int, utcOffset: Int) -> String {
        let seconds = ((microseconds / 1_000_000 + utcOffset) % 86_400 + 86_400) % 86_400
        let milliseconds = microseconds / 1000 % 1000
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let fraction = milliseconds < 10 ? "00\(milliseconds)" : milliseconds < 100 ? "0\(milliseconds)" : "\(milliseconds)"
        return "\(two(seconds / 3600)):\(two(seconds / 60 % 60)):\(two(seconds % 60)).\(fraction)"
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }
}
