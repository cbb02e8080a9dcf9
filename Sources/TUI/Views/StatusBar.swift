import DevServer

/// The top bar (what is serving, where) and the bottom bar (what the capture holds and how the
/// list is shown).
struct StatusBar {
    var server: ServerState
    var statistics: Recorder.Statistics
    var requestsPerSecond: Double
    var filter: String
    var follow: Bool
    var sort: SortOrder
    /// The sort shows the largest first.
    var descending = false
    /// Requests marked (m): r, D and x act on them.
    var marked = 0
    /// Warnings and errors logged since the event log was last opened.
    var unreadProblems: Int

    func drawTop(into screen: inout ScreenBuffer, row: Int, title: String) {
        screen.clear(row: row, role: .bar)
        let plugin = server.pluginPath.split(separator: "/").last.map(String.init) ?? server.pluginPath
        var column = screen.write(" devserve ", row: row, column: 0, role: .barEmphasis)
        column = screen.write(server.url + "  ", row: row, column: column, role: .bar)
        column = screen.write("\(plugin) gen \(server.generation)", row: row, column: column, role: .bar)
        if let pid = server.workerPID { column = screen.write("  pid \(pid)", row: row, column: column, role: .bar) }
        let state = server.worker == .serving ? "serving" : server.worker.rawValue.uppercased()
        column = screen.write("  " + state, row: row, column: column, role: server.worker == .serving ? .bar : .barEmphasis)
        if server.building { column = screen.write("  BUILDING", row: row, column: column, role: .barEmphasis) }
        if let stale = server.stale { column = screen.write("  STALE: \(stale)", row: row, column: column, role: .barEmphasis) }
        let hint = " \(title)  ? help "
        let at = screen.width - TerminalText.width(hint)
        if at > column + 1 { screen.write(hint, row: row, column: at, role: .bar) }
    }

    func drawBottom(into screen: inout ScreenBuffer, row: Int) {
        screen.clear(row: row, role: .bar)
        var column = 1
        column = screen.write("\(statistics.inFlight) in flight", row: row, column: column, role: statistics.inFlight > 0 ? .barEmphasis : .bar)
        column = screen.write("  \(ListView.one(requestsPerSecond)) req/s", row: row, column: column, role: .bar)
        column = screen.write("  \(statistics.count)/\(statistics.capacity) kept", row: row, column: column, role: .bar)
        column = screen.write("  \(ListView.size(statistics.bytes))/\(ListView.size(statistics.maxMemory))", row: row, column: column, role: .bar)
        if statistics.paused { column = screen.write("  PAUSED", row: row, column: column, role: .barEmphasis) }
        column = screen.write(follow ? "  follow" : "  ", row: row, column: column, role: .bar)
        if sort != .time { column = screen.write("  sort:\(sort.rawValue)\(descending ? "↓" : "↑")", row: row, column: column, role: .barEmphasis) }
        if marked > 0 { column = screen.write("  \(marked) marked", row: row, column: column, role: .barEmphasis) }
        if !filter.isEmpty { column = screen.write("  filter: \(filter)", row: row, column: column, role: .barEmphasis) }
        if unreadProblems > 0 {
            let text = " E: \(unreadProblems) new problem\(unreadProblems == 1 ? "" : "s") "
            let at = screen.width - TerminalText.width(text)
            if at > column { screen.write(text, row: row, column: at, role: .crashed) }
        }
    }
}
