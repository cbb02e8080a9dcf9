import DevServer

/// The event log pane: the supervisor's lines with their time and level.
struct EventLogView {
    let utcOffset: Int

    func lines(_ entries: [EventLog.Entry]) -> [StyledLine] {
        guard !entries.isEmpty else { return [StyledLine("Nothing logged yet.", .dim)] }
        return entries.map { entry in
            let time = String(ListView.clock(entry.time, utcOffset: utcOffset).prefix(8))
            let role: Role
            let label: String
            switch entry.level {
            case .info: (role, label) = (.normal, "     ")
            case .warning: (role, label) = (.warning, "warn ")
            case .error: (role, label) = (.error, "ERROR")
            case .output: (role, label) = (.dim, "  out")
            }
            return StyledLine([.init(time + " ", .dim), .init(label + " ", role), .init(entry.text, entry.level == .output ? .normal : role)])
        }
    }
}
