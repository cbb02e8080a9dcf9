/// The help screen, generated from ``KeyBindings``: what each key does where.
struct HelpView {
    let bindings: KeyBindings

    /// The row flags ``ListView`` draws, and what they mean.
    static let flags: [(String, String)] = [
        ("| / - \\", "running (the spinner turns)"),
        ("C", "crashed: the worker died serving this request"),
        ("I", "interrupted: the worker crashed while serving another request"),
        ("E", "the application raised, or the response was cut off"),
        ("B", "refused by devserve before the application (bad request, timeout)"),
        ("G", "the client went away before the response was sent"),
        ("T", "ran past --request-timeout"),
        ("V", "a gateway contract violation"),
        ("R", "a replay of another request"),
        ("*", "marked (m); r, D and x act on the marked requests"),
    ]

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
        lines.append(StyledLine())
        lines.append(StyledLine("Flags in the list, left of each request", .section))
        for (flag, meaning) in Self.flags {
            lines.append(StyledLine([.init("  " + left(flag, 20), .key), .init(meaning)]))
        }
        lines.append(StyledLine())
        lines.append(StyledLine("Filter language (f), as devserve ls -f:", .section))
        lines.append(StyledLine("  ~m METHOD  ~u URL  ~c 404|4xx|400-403  ~h/~hq/~hs HEADER  ~b/~bq/~bs BODY  ~t TYPE", .dim))
        lines.append(StyledLine("  ~e app error  ~crash  ~v violation  ~replay  ~gen N  ~dur >100ms  ~size >1k", .dim))
        lines.append(StyledLine("  ! not, & and (or just a space), | or, ( ); a bare word matches the URL; regexes ignore case", .dim))
        return lines
    }
}
