import DevServer

/// Draws the request list: a heading and one row per request, newest at the bottom, with
/// columns that fit the width (time and chunk count need 100 columns).
struct ListView {
    struct Columns {
        var time: Bool
        var chunks: Bool
        var type: Int
        var path: Int

        init(width: Int) {
            time = width >= 100
            chunks = width >= 90
            type = width >= 120 ? 18 : width >= 100 ? 14 : 10
            let fixed = 2 + 6 + (time ? 13 : 0) + 7 + 4 + (type + 1) + 8 + 9 + (chunks ? 5 : 0) + 4
            path = max(8, width - fixed)
        }
    }

    let model: ListModel
    let now: Int
    /// Seconds east of UTC for the time column.
    let utcOffset: Int

    func draw(into screen: inout ScreenBuffer, top row: Int, height: Int) {
        let columns = Columns(width: screen.width)
        var heading = "  " + right("ID", 5) + " "
        if columns.time { heading += left("TIME", 12) + " " }
        heading += left("METHOD", 6) + " " + left("PATH", columns.path) + " " + "STA" + " " + left("TYPE", columns.type) + " "
        heading += right("SIZE", 7) + " " + right("DURATION", 8) + " "
        if columns.chunks { heading += right("CH", 4) + " " }
        heading += "GEN"
        screen.write(heading, row: row, column: 0, role: .heading)
        screen.paint(row: row, role: .heading)
        let rows = height - 1
        guard rows > 0 else { return }
        if model.ids.isEmpty {
            let message = model.filter == nil ? "Waiting for requests…" : "No request matches the filter \(model.filterText)"
            screen.write(message, row: row + 2, column: 2, role: .dim)
            return
        }
        let first = model.scroll(height: rows)
        let selected = model.selectedID
        for offset in 0..<min(rows, model.ids.count - first) {
            let id = model.ids[first + offset]
            guard let record = model.source.record(id) else { continue }
            let line = row + 1 + offset
            drawRow(record, columns: columns, into: &screen, row: line)
            if id == selected { screen.paint(row: line, role: .selection) }
        }
    }

    private func drawRow(_ record: RequestRecord, columns: Columns, into screen: inout ScreenBuffer, row: Int) {
        var column = 0
        column = screen.write(model.marks.contains(record.id) ? "*" : " ", row: row, column: column, role: .marked)
        let (marker, markerRole) = Self.marker(record, now: now)
        column = screen.write(marker, row: row, column: column, role: markerRole)
        column = screen.write(right(String(record.id), 5) + " ", row: row, column: column, role: .dim)
        if columns.time { column = screen.write(Self.clock(record.startedAt, utcOffset: utcOffset) + " ", row: row, column: column, role: .dim) }
        column = screen.write(left(record.method, 6) + " ", row: row, column: column, role: .method, limit: 7)
        screen.write(record.target, row: row, column: column, limit: columns.path)
        column += columns.path + 1
        let status = record.status == 0 ? (record.isInFlight ? "..." : "---") : String(record.status)
        column = screen.write(status + " ", row: row, column: column, role: record.isInFlight && record.status == 0 ? .inFlight : .status(record.status))
        // A refused or interrupted request has no content type worth showing: its reason instead.
        if let reason = record.outcomeDetail, record.outcome == .badRequest || record.outcome == .interrupted || record.outcome == .aborted {
            screen.write(reason, row: row, column: column, role: .warning, limit: columns.type)
        } else {
            let type = record.responseContentType.map { String($0.split(separator: ";").first ?? "") } ?? ""
            screen.write(type, row: row, column: column, role: .dim, limit: columns.type)
        }
        column += columns.type + 1
        column = screen.write(right(Self.size(record.responseBodySize), 7) + " ", row: row, column: column)
        let duration = record.duration ?? max(0, now - record.startedAt)
        column = screen.write(right(Self.duration(duration), 8) + " ", row: row, column: column, role: record.isInFlight ? .inFlight : .normal)
        if columns.chunks { column = screen.write(right(String(record.chunks.count), 4) + " ", row: row, column: column, role: .dim) }
        screen.write(right(String(record.generation), 3), row: row, column: column, role: .dim)
    }

    /// In flight: a spinner that turns with time; then what went wrong, if anything.
    static func marker(_ record: RequestRecord, now: Int) -> (String, Role) {
        switch record.outcome {
        case .inFlight: return (["|", "/", "-", "\\"][(now / 125_000) % 4], .inFlight)
        case .crashed: return ("C", .crashed)
        case .interrupted: return ("I", .warning)
        case .applicationError, .aborted: return ("E", .error)
        case .badRequest: return ("B", .warning)
        case .clientGone: return ("G", .warning)
        default: break
        }
        if record.timeout != nil { return ("T", .warning) }
        if !record.violations.isEmpty { return ("V", .warning) }
        if record.replayOf != nil { return ("R", .replay) }
        return (" ", .normal)
    }

    static func clock(_ microseconds: Int, utcOffset: Int) -> String { RecordText.clock(microseconds, utcOffset: utcOffset) }

    static func size(_ bytes: Int) -> String {
        if bytes < 1024 { return "\(bytes) B" }
        if bytes < 1 << 20 { return "\(one(Double(bytes) / 1024)) K" }
        if bytes < 1 << 30 { return "\(one(Double(bytes) / 1_048_576)) M" }
        return "\(one(Double(bytes) / 1_073_741_824)) G"
    }

    static func duration(_ microseconds: Int) -> String {
        if microseconds < 1000 { return "\(microseconds)µs" }
        if microseconds < 1_000_000 { return "\(one(Double(microseconds) / 1000))ms" }
        return "\(one(Double(microseconds) / 1_000_000))s"
    }

    /// One decimal, or none from 100 up.
    static func one(_ value: Double) -> String {
        if value >= 100 { return String(Int(value.rounded())) }
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }
}

func left(_ text: String, _ width: Int) -> String {
    let used = TerminalText.width(text)
    return used >= width ? text : text + String(repeating: " ", count: width - used)
}

func right(_ text: String, _ width: Int) -> String {
    let used = TerminalText.width(text)
    return used >= width ? text : String(repeating: " ", count: width - used) + text
}
