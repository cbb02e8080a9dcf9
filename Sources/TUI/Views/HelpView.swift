/// The help screen, generated from ``KeyBindings``: what each key does where.
struct HelpView {
    let bindings: KeyBindings

    func lines() -> [StyledLine] {
        var lines: [StyledLine] = [StyledLine("devserve inspector: keys", .section), StyledLine()]
        let titles: [(KeyBindings.Context, String)] = [
            (.list, "Request list"), (.detail, "Request detail"), (.global, "Everywhere"),
        ]
        for (context, title) in titles {
            lines.append(StyledLine(title, .section))
            for binding in bindings.bindings where binding.context == context {
                let keys = binding.keys.map(\.label).joined(separator: " ")
                lines.append(StyledLine([.init("  " + left(keys, 20), .key), .init(binding.command.description)]))
            }
            lines.append(StyledLine())
        }
        lines.append(StyledLine("Mouse: the wheel scrolls, a click selects a request or a tab.", .dim))
        lines.append(StyledLine("Filter language (f), as devserve ls -f:", .section))
        lines.append(StyledLine("  ~m METHOD  ~u URL  ~c 404|4xx|400-403  ~h/~hq/~hs HEADER  ~b/~bq/~bs BODY  ~t TYPE", .dim))
        lines.append(StyledLine("  ~e app error  ~crash  ~v violation  ~replay  ~gen N  ~dur >100ms  ~size >1k", .dim))
        lines.append(StyledLine("  ! not, & and (or just a space), | or, ( ); a bare word matches the URL; regexes ignore case", .dim))
        return lines
    }
}
