import DevServer

/// Draws one request: a summary line, the tabs, and the current tab's document scrolled, with
/// search matches highlighted.
struct DetailView {
    let model: DetailModel
    let now: Int

    /// The rows the document gets on a screen `height` rows tall (bars, summary and tabs
    /// take 5).
    static func documentHeight(_ height: Int) -> Int { max(1, height - 5) }

    func draw(_ record: RequestRecord?, into screen: inout ScreenBuffer, top row: Int, height: Int) {
        guard let record else {
            screen.write("Request #\(model.recordID) is no longer kept (evicted or cleared).", row: row + 1, column: 2, role: .warning)
            return
        }
        var column = screen.write("#\(record.id) ", row: row, column: 0, role: .dim)
        column = screen.write(record.method + " ", row: row, column: column, role: .method)
        column = screen.write(record.target, row: row, column: column, limit: max(10, screen.width - column - 40))
        column = screen.write("  → ", row: row, column: column, role: .dim)
        let status = record.applicationStatus ?? (record.isInFlight ? "in flight" : "no status")
        column = screen.write(status, row: row, column: column, role: record.status == 0 ? .inFlight : .status(record.status))
        let duration = record.duration ?? max(0, now - record.startedAt)
        column = screen.write("  at \(ListView.clock(record.startedAt, utcOffset: model.utcOffset))  \(ListView.duration(duration))  gen \(record.generation)", row: row, column: column, role: .dim)
        let (marker, role) = ListView.marker(record, now: now)
        if let original = record.replayOf {
            column = screen.write("  replay of #\(original)", row: row, column: column, role: .replay)
        }
        if marker != " " && marker != "R" { screen.write("  " + record.outcome.rawValue, row: row, column: column, role: role) }

        column = 0
        for tab in DetailTab.allCases {
            var label = tab.rawValue
            if tab == .chunks { label += " \(record.chunks.count)" }
            if tab == .errors, Self.problemCount(record) > 0 { label += " \(Self.problemCount(record))" }
            column = screen.write(" \(label) ", row: row + 1, column: column, role: tab == model.tab ? .tabActive : .tabInactive)
            column += 1
        }
        let hint = "mode: \(model.mode.rawValue) (b)"
        if model.tab == .request || model.tab == .response {
            let at = screen.width - TerminalText.width(hint) - 1
            if at > column { screen.write(hint, row: row + 1, column: at, role: .dim) }
        }

        let document = model.document(record, now: now)
        let rows = height - 2
        let first = model.scroll
        let needle = model.search?.needle.lowercased()
        for offset in 0..<max(0, min(rows, document.lineCount - first)) {
            let index = first + offset
            let line = document.line(index)
            let screenRow = row + 2 + offset
            screen.write(line, row: screenRow, column: 1, skip: model.horizontal)
            if let needle, !needle.isEmpty, model.search?.lines.contains(index) == true {
                highlight(needle, in: line.plain, row: screenRow, screen: &screen, current: index == model.focusLine)
            }
        }
        if document.lineCount > rows {
            let position = "\(min(document.lineCount, first + rows))/\(document.lineCount)"
            screen.write(position, row: row + height - 1, column: screen.width - position.count - 1, role: .dim)
        }
    }

    /// Paints each occurrence of `needle` in the row (columns found by sanitized width).
    private func highlight(_ needle: String, in text: String, row: Int, screen: inout ScreenBuffer, current: Bool) {
        let lowered = text.lowercased()
        guard lowered.count == text.count else { return }
        var searchStart = lowered.startIndex
        while let range = lowered[searchStart...].firstRange(of: needle) {
            let from = 1 + TerminalText.width(text[text.startIndex..<range.lowerBound]) - model.horizontal
            let to = from + TerminalText.width(text[range])
            if to > 0 { screen.paint(row: row, from: max(0, from), to: to, role: current ? .searchCurrent : .searchMatch) }
            searchStart = range.upperBound
        }
    }

    static func problemCount(_ record: RequestRecord) -> Int {
        record.violations.count + (record.applicationError == nil ? 0 : 1) + (record.crash == nil ? 0 : 1) + (record.errors.isEmpty ? 0 : 1)
    }
}
