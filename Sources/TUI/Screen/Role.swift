/// What a cell on screen means; ``Palette`` decides how each looks. Views only ever say what
/// they draw (a 5xx status, the selection), never which colour (htop's `CRT.c`, mitmproxy's
/// `palettes.py`).
public enum Role: Int, CaseIterable, Sendable {
    case normal
    case dim
    case title
    case heading
    case selection
    case marked
    case bar
    case barEmphasis
    case tabActive
    case tabInactive
    case status2xx
    case status3xx
    case status4xx
    case status5xx
    case statusNone
    case method
    case inFlight
    case crashed
    case warning
    case error
    case replay
    /// A control byte or escape sequence from request text, shown instead of obeyed.
    case escape
    case prompt
    case searchMatch
    /// The match the last n / N went to.
    case searchCurrent
    case key
    case jsonKey
    case jsonString
    case jsonNumber
    case jsonLiteral
    case section

    /// The role a status code is shown with (0: no status yet).
    public static func status(_ code: Int) -> Role {
        switch code {
        case 200..<300: return .status2xx
        case 300..<400: return .status3xx
        case 400..<500: return .status4xx
        case 500..<600: return .status5xx
        default: return .statusNone
        }
    }
}
