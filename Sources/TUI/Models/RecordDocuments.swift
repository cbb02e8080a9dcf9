import DevServer

/// The text of each detail tab for one record: what the request was, what the application
/// answered (as given and as sent), the environ it received, the chunk timeline and everything
/// that went wrong.
enum RecordDocuments {
    static func document(_ record: RequestRecord, tab: DetailTab, mode: BodyMode, responseBody: [UInt8], now: Int, utcOffset: Int) -> Document {
        switch tab {
        case .request: return request(record, mode: mode, utcOffset: utcOffset)
        case .response: return response(record, mode: mode, body: responseBody)
        case .environ: return environ(record)
        case .chunks: return chunks(record, now: now)
        case .errors: return errors(record)
        }
    }

    static func request(_ record: RequestRecord, mode: BodyMode, utcOffset: Int) -> Document {
        var lines = [
            StyledLine([.init(record.method, .method), .init(" \(record.target) \(record.version)")]),
            StyledLine("at \(ListView.clock(record.startedAt, utcOffset: utcOffset)) from \(record.client), generation \(record.generation), worker request \(record.workerID)"
                + (record.replayOf.map { ", a replay of #\($0) (d diffs them)" } ?? ""), .dim),
            StyledLine(),
            StyledLine("Headers", .section),
        ]
        lines += headerLines(requestHeadersAsSent(record))
        lines.append(StyledLine())
        let body = BodyPresenter.document(
            .init(bytes: record.requestBody, total: record.requestBodySize, contentType: record.requestContentType,
                  contentEncoding: header("content-encoding", in: record.requestHeaders)),
            mode: mode)
        return ConcatenatedDocument([LinesDocument(lines), body])
    }

    static func response(_ record: RequestRecord, mode: BodyMode, body: [UInt8]) -> Document {
        var lines: [StyledLine] = []
        if let status = record.applicationStatus {
            var line = StyledLine("Status ", .section)
            line.append(status, .status(Int(status.prefix(3)) ?? 0))
            if record.headersReplaced { line.append("  (replaced by start_response with exc_info)", .warning) }
            lines.append(line)
        } else {
            lines.append(StyledLine(record.isInFlight ? "start_response not called yet" : "start_response was never called", .warning))
        }
        lines.append(StyledLine())
        lines.append(StyledLine("Headers as the application gave them", .section))
        lines += record.applicationHeaders.isEmpty ? [StyledLine("  (none)", .dim)] : headerLines(record.applicationHeaders)
        lines.append(StyledLine())
        lines.append(StyledLine("As sent", .section))
        if let head = record.sentHead {
            let text = String(decoding: head, as: UTF8.self)
            for (index, line) in text.split(separator: "\r\n").enumerated() {
                if index == 0 {
                    lines.append(StyledLine("  " + line, .status(record.status)))
                } else if let colon = line.firstIndex(of: ":") {
                    lines.append(StyledLine([.init("  " + line[..<colon], .jsonKey), .init(String(line[colon...]))]))
                }
            }
        } else {
            lines.append(StyledLine("  nothing sent yet", .dim))
        }
        lines.append(StyledLine())
        let document = BodyPresenter.document(
            .init(bytes: body, total: record.responseBodySize, contentType: record.responseContentType,
                  contentEncoding: header("content-encoding", in: record.sentHeaders.isEmpty ? record.applicationHeaders : record.sentHeaders)),
            mode: mode)
        return ConcatenatedDocument([LinesDocument(lines), document])
    }

    static func environ(_ record: RequestRecord) -> Document {
        let entries = record.environ.map { (TerminalText.display(bytes: $0.key), TerminalText.display(bytes: $0.value)) }
        let width = min(28, entries.map { TerminalText.width($0.0) }.max() ?? 0)
        var lines = [StyledLine("\(entries.count) keys, as the application received them", .dim)]
        for (key, value) in entries {
            let padding = String(repeating: " ", count: max(0, width - TerminalText.width(key)))
            lines.append(StyledLine([.init(key, .jsonKey), .init(padding + "  "), .init(value)]))
        }
        if let python = record.applicationEnviron {
            lines.append(StyledLine(""))
            lines.append(StyledLine("As the application left it (Python): what differs, with types", .section))
            for field in python {
                let padding = String(repeating: " ", count: max(0, width - TerminalText.width(field.name)))
                lines.append(StyledLine([.init(field.name, .jsonKey), .init(padding + "  "), .init(field.value)]))
            }
        }
        return LinesDocument(lines)
    }

    static func chunks(_ record: RequestRecord, now: Int) -> Document {
        let total = record.chunks.reduce(0) { $0 + $1.size }
        var state = record.isInFlight ? "streaming, \(milliseconds(max(0, now - record.startedAt))) so far" : "complete"
        if let last = record.chunks.last, !record.isInFlight { state = "last at \(milliseconds(last.offset))" }
        var lines = [
            StyledLine("\(record.chunks.count) chunk\(record.chunks.count == 1 ? "" : "s"), \(total) bytes, \(state)", record.isInFlight ? .inFlight : .dim),
            StyledLine("     #    at ms      +ms      size  preview", .heading),
        ]
        var previous = 0
        for (index, chunk) in record.chunks.enumerated() {
            let preview = String(decoding: chunk.bytes.prefix(60), as: UTF8.self)
            let delta = chunk.offset - previous
            previous = chunk.offset
            lines.append(StyledLine([
                .init(pad(String(index + 1), 6) + "  " + pad(decimal(chunk.offset), 8) + " " + pad("+" + decimal(delta), 8) + "  " + pad(String(chunk.size), 8) + "  ", .dim),
                .init(preview.replacingNewlines()),
            ]))
        }
        if record.chunks.isEmpty { lines.append(StyledLine(record.isInFlight ? "  waiting for the first chunk" : "  no body chunks", .dim)) }
        return LinesDocument(lines)
    }

    static func errors(_ record: RequestRecord) -> Document {
        var lines: [StyledLine] = []
        lines.append(StyledLine([.init("Outcome ", .section), .init(record.outcome.rawValue, outcomeRole(record))]))
        if let detail = record.outcomeDetail { lines.append(StyledLine("  " + detail, .warning)) }
        if let timeout = record.timeout { lines.append(StyledLine("  timed out: " + timeout, .warning)) }
        if let error = record.applicationError {
            lines.append(StyledLine())
            lines.append(StyledLine("Application exception", .section))
            lines.append(StyledLine([.init("  " + error.name, .error), .init(": " + error.value)]))
        }
        if !record.violations.isEmpty {
            lines.append(StyledLine())
            lines.append(StyledLine("Gateway violations (see docs/GATEWAY.md)", .section))
            for violation in record.violations { lines.append(StyledLine([.init("  " + violation.name, .warning), .init(": " + violation.value)])) }
        }
        lines.append(StyledLine())
        if let frames = record.applicationTraceback, !frames.isEmpty {
            lines.append(StyledLine("Traceback frames, innermost last", .section))
            for frame in frames {
                lines.append(StyledLine([.init("  \(frame.file):\(frame.line)", .jsonKey), .init(" in \(frame.function)")]))
            }
            lines.append(StyledLine())
        }
        lines.append(StyledLine("wsgi.errors", .section))
        if record.errors.isEmpty {
            lines.append(StyledLine("  (nothing written)", .dim))
        } else {
            for line in TerminalText.lines(of: record.errors) { lines.append(StyledLine("  " + line)) }
        }
        if let crash = record.crash {
            lines.append(StyledLine())
            lines.append(StyledLine([.init("Worker crashed ", .section), .init(crash.signal, .crashed)]))
            for line in TerminalText.lines(of: crash.backtrace) { lines.append(StyledLine("  " + line)) }
        }
        return LinesDocument(lines)
    }

    static func outcomeRole(_ record: RequestRecord) -> Role {
        switch record.outcome {
        case .inFlight: return .inFlight
        case .complete: return .status2xx
        case .crashed: return .crashed
        case .applicationError, .aborted, .badRequest: return .error
        case .clientGone, .notMounted, .interrupted: return .warning
        }
    }

    /// The request's headers, with values that were not UTF-8 (kept as U+FFFD in the header
    /// list) taken from the environ, which holds the client's bytes: shown as `\xFF`.
    static func requestHeadersAsSent(_ record: RequestRecord) -> [HeaderField] {
        guard record.requestHeaders.contains(where: { $0.value.contains("\u{FFFD}") }) else { return record.requestHeaders }
        return record.requestHeaders.map { header in
            guard header.value.contains("\u{FFFD}") else { return header }
            let key: String
            switch header.name.lowercased() {
            case "content-type": key = "CONTENT_TYPE"
            case "content-length": key = "CONTENT_LENGTH"
            default: key = "HTTP_" + header.name.uppercased().map { $0 == "-" ? "_" : $0 }.map(String.init).joined()
            }
            guard let raw = record.environ.first(where: { String(decoding: $0.key, as: UTF8.self) == key })?.value else { return header }
            return HeaderField(header.name, TerminalText.display(bytes: raw))
        }
    }

    static func headerLines(_ headers: [HeaderField]) -> [StyledLine] {
        headers.map { StyledLine([.init("  " + $0.name, .jsonKey), .init(": " + $0.value)]) }
    }

    static func header(_ name: String, in headers: [HeaderField]) -> String? {
        headers.first { $0.name.lowercased() == name }?.value
    }

    static func milliseconds(_ microseconds: Int) -> String { decimal(microseconds) + " ms" }

    /// Microseconds as milliseconds with one decimal.
    static func decimal(_ microseconds: Int) -> String { "\(microseconds / 1000).\(microseconds / 100 % 10)" }

    static func pad(_ text: String, _ width: Int) -> String {
        String(repeating: " ", count: max(0, width - text.count)) + text
    }
}

extension String {
    /// Newlines as visible "⏎" so a preview stays on one row.
    func replacingNewlines() -> String {
        var out = ""
        for scalar in unicodeScalars {
            if scalar == "\n" { out += "⏎" } else if scalar != "\r" { out.unicodeScalars.append(scalar) }
        }
        return out
    }
}
