/// A key press or mouse event, as the inspector understands it (curses codes stay in
/// ``Terminal``).
public enum Key: Hashable, Sendable {
    case character(Character)
    case up, down, left, right
    case pageUp, pageDown, home, end
    case enter, escape, tab, backTab, backspace, delete
    case function(Int)
    /// Ctrl plus a letter (lowercase).
    case control(Character)
    case resize
    case wheelUp, wheelDown
    /// A click at (row, column).
    case click(row: Int, column: Int)

    /// How the help screen writes the key.
    public var label: String {
        switch self {
        case .character(" "): return "Space"
        case .character(let character): return String(character)
        case .up: return "↑"
        case .down: return "↓"
        case .left: return "←"
        case .right: return "→"
        case .pageUp: return "PgUp"
        case .pageDown: return "PgDn"
        case .home: return "Home"
        case .end: return "End"
        case .enter: return "Enter"
        case .escape: return "Esc"
        case .tab: return "Tab"
        case .backTab: return "Shift-Tab"
        case .backspace: return "Backspace"
        case .delete: return "Del"
        case .function(let number): return "F\(number)"
        case .control(let letter): return "Ctrl-\(letter.uppercased())"
        case .resize: return "resize"
        case .wheelUp: return "wheel up"
        case .wheelDown: return "wheel down"
        case .click: return "click"
        }
    }
}
