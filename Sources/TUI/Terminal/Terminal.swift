@preconcurrency import CNcursesw
import CDevServeShim
#if canImport(Glibc)
import Glibc
#endif

/// The only type that talks to curses (STYLE.md): sets the terminal up, turns a
/// ``ScreenBuffer`` into curses calls through the ``Palette``, reads keys and mouse events,
/// and puts the terminal back as it was. Used from one thread only.
final class Terminal {
    enum SetupError: Error, CustomStringConvertible {
        case cannotInitialize(String)

        var description: String {
            switch self {
            case .cannotInitialize(let term): return "cannot start the inspector on this terminal (TERM=\(term)); use --no-tui"
            }
        }
    }

    let palette: Palette
    private var previous: ScreenBuffer?
    private var ended = false
    private let screen: OpaquePointer?

    /// Takes over the terminal on stdin/stdout; with `output`/`input` given (benchmarks), a
    /// curses screen on those files instead.
    init(output: UnsafeMutablePointer<FILE>? = nil, input: UnsafeMutablePointer<FILE>? = nil, type: String? = nil, colour: Bool? = nil) throws {
        _ = setlocale(LC_ALL, "")
        // Wide characters need a UTF-8 LC_CTYPE; without one set, C.UTF-8 rather than '?'.
        if devserve_shim_codeset_is_utf8() == 0 { _ = setlocale(LC_CTYPE, "C.UTF-8") }
        let term = getenv("TERM").map { String(cString: $0) } ?? "dumb"
        if let output, let input {
            guard let created = newterm(type ?? term, output, input) else { throw SetupError.cannotInitialize(type ?? term) }
            screen = created
            _ = set_term(created)
        } else {
            screen = nil
            guard initscr() != nil else { throw SetupError.cannotInitialize(term) }
        }
        cbreak()
        noecho()
        nonl()
        _ = keypad(devserve_curses_stdscr(), true)
        _ = nodelay(devserve_curses_stdscr(), true)
        _ = curs_set(0)
        _ = set_escdelay(25)
        _ = mousemask(devserve_curses_mouse_mask(), nil)
        _ = mouseinterval(0)
        let wantsColour = colour ?? (getenv("NO_COLOR").map { String(cString: $0).isEmpty } ?? true)
        var useColour = false
        if wantsColour && has_colors() {
            start_color()
            _ = use_default_colors()
            useColour = devserve_curses_colors() >= 8
        }
        palette = Palette(colour: useColour)
        if useColour {
            for role in Role.allCases {
                let style = palette.style(role)
                _ = init_pair(Int16(role.rawValue + 1), style.foreground.rawValue, style.background.rawValue)
            }
        }
    }

    /// Rows and columns.
    var size: (width: Int, height: Int) { (Int(devserve_curses_columns()), Int(devserve_curses_lines())) }

    /// Shows `buffer`, rewriting only the rows that changed since the last frame.
    func draw(_ buffer: ScreenBuffer) {
        let full = previous.map { $0.width != buffer.width || $0.height != buffer.height } ?? true
        if full { _ = erase() }
        for row in 0..<buffer.height {
            if !full, let previous, Self.rowEqual(previous, buffer, row) { continue }
            var column = 0
            while column < buffer.width {
                let role = buffer[row, column].role
                var text = ""
                var end = column
                while end < buffer.width && buffer[row, end].role == role {
                    text += buffer[row, end].text
                    end += 1
                }
                put(text, row: row, column: column, role: role)
                column = end
            }
        }
        previous = buffer
        _ = refresh()
    }

    /// Forgets what is on screen, so the next frame is drawn in full (after a resize).
    func invalidate() {
        previous = nil
        _ = clearok(devserve_curses_stdscr(), true)
    }

    private static func rowEqual(_ a: ScreenBuffer, _ b: ScreenBuffer, _ row: Int) -> Bool {
        for column in 0..<a.width where a[row, column] != b[row, column] { return false }
        return true
    }

    private func put(_ text: String, row: Int, column: Int, role: Role) {
        let style = palette.style(role)
        var attributes = devserve_curses_normal()
        if style.attributes.contains(.bold) { attributes |= devserve_curses_bold() }
        if style.attributes.contains(.dim) { attributes |= devserve_curses_dim() }
        if style.attributes.contains(.reverse) { attributes |= devserve_curses_reverse() }
        if style.attributes.contains(.underline) { attributes |= devserve_curses_underline() }
        let pair = palette.colour ? Int16(role.rawValue + 1) : 0
        var bytes = Array(text.utf8)
        bytes.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                devserve_curses_put(Int32(row), Int32(column), $0, Int32(buffer.count), attributes, pair)
            }
        }
    }

    /// Every key waiting, without blocking.
    func readKeys() -> [Key] {
        var keys: [Key] = []
        while true {
            var character: wint_t = 0
            let result = wget_wch(devserve_curses_stdscr(), &character)
            if result == ERR { break }
            if result == KEY_CODE_YES {
                if let key = special(Int32(character)) { keys.append(key) }
            } else if let key = Self.plain(UInt32(character)) {
                keys.append(key)
            }
        }
        return keys
    }

    private func special(_ code: Int32) -> Key? {
        switch code {
        case KEY_UP: return .up
        case KEY_DOWN: return .down
        case KEY_LEFT: return .left
        case KEY_RIGHT: return .right
        case KEY_PPAGE: return .pageUp
        case KEY_NPAGE: return .pageDown
        case KEY_HOME: return .home
        case KEY_END: return .end
        case KEY_BTAB: return .backTab
        case KEY_BACKSPACE: return .backspace
        case KEY_DC: return .delete
        case KEY_ENTER: return .enter
        case KEY_RESIZE:
            invalidate()
            return .resize
        case KEY_MOUSE:
            var event = MEVENT()
            guard getmouse(&event) == OK else { return nil }
            if event.bstate & devserve_curses_wheel_up() != 0 { return .wheelUp }
            if devserve_curses_wheel_down() != 0 && event.bstate & devserve_curses_wheel_down() != 0 { return .wheelDown }
            if event.bstate & devserve_curses_click() != 0 { return .click(row: Int(event.y), column: Int(event.x)) }
            return nil
        default:
            for number in 1...12 where code == devserve_curses_key_f(Int32(number)) { return .function(number) }
            return nil
        }
    }

    static func plain(_ value: UInt32) -> Key? {
        switch value {
        case 10, 13: return .enter
        case 27: return .escape
        case 9: return .tab
        case 8, 127: return .backspace
        case 1...26: return .control(Character(UnicodeScalar(value + 96)!))
        default: return UnicodeScalar(value).map { .character(Character($0)) }
        }
    }

    /// Gives the terminal to another program (an editor) until ``resume()``.
    func suspend() {
        _ = def_prog_mode()
        endwin()
    }

    /// Takes the terminal back after ``suspend()`` and redraws everything.
    func resume() {
        _ = reset_prog_mode()
        invalidate()
        _ = refresh()
    }

    /// Puts the terminal back (idempotent).
    func end() {
        guard !ended else { return }
        ended = true
        _ = curs_set(1)
        endwin()
        if let screen { delscreen(screen) }
    }
}
