/// A frame: rows of cells, each a piece of text with a ``Role``. Views draw here; only
/// ``Terminal`` turns it into curses calls, and tests read it back as text.
public struct ScreenBuffer: Equatable {
    public struct Cell: Equatable {
        /// What the cell shows: one column's text, or "" after a double-width character.
        public var text: String
        public var role: Role
    }

    public let width: Int
    public let height: Int
    public private(set) var cells: [Cell]

    public init(width: Int, height: Int) {
        self.width = max(0, width)
        self.height = max(0, height)
        cells = Array(repeating: Cell(text: " ", role: .normal), count: self.width * self.height)
    }

    public subscript(row: Int, column: Int) -> Cell { cells[row * width + column] }

    /// Paints `role` over columns `from..<to` of `row`, keeping the text (a selection bar).
    public mutating func paint(row: Int, from: Int = 0, to: Int? = nil, role: Role) {
        guard row >= 0 && row < height else { return }
        let end = min(to ?? width, width)
        var column = max(0, from)
        while column < end {
            cells[row * width + column].role = role
            column += 1
        }
    }

    /// Blanks `row` from `from` to the end, in `role`.
    public mutating func clear(row: Int, from: Int = 0, role: Role = .normal) {
        guard row >= 0 && row < height else { return }
        for column in max(0, from)..<width { cells[row * width + column] = Cell(text: " ", role: role) }
    }

    /// Writes `text`, sanitized, at (row, column), clipped to `limit` columns (and the screen);
    /// clipped text ends with "…". - Returns: the column after the last one written.
    @discardableResult
    public mutating func write<S: StringProtocol>(_ text: S, row: Int, column: Int, role: Role = .normal, limit: Int? = nil) -> Int {
        guard row >= 0 && row < height && column < width else { return column }
        let end = min(width, column + (limit ?? width))
        var at = column
        let pieces = TerminalText.pieces(text)
        let total = pieces.reduce(0) { $0 + $1.width }
        let clipped = column + total > end
        let room = clipped ? end - column - 1 : end - column
        for piece in pieces {
            guard piece.width > 0 else { continue }
            if at + piece.width > column + room { break }
            if at >= 0 {
                set(row, at, piece.text, piece.isEscape && role == .normal ? .escape : role, width: piece.width)
            }
            at += piece.width
        }
        if clipped && room >= 0 && at < end {
            set(row, at, "…", role, width: 1)
            at += 1
        }
        return at
    }

    /// Writes spans left to right. - Returns: the column after the last.
    @discardableResult
    public mutating func write(_ line: StyledLine, row: Int, column: Int, limit: Int? = nil, skip: Int = 0) -> Int {
        let end = min(width, column + (limit ?? width))
        var at = column
        var toSkip = skip
        for span in line.spans {
            guard at < end else { break }
            var text = Substring(span.text)
            if toSkip > 0 {
                // Horizontal scrolling: drop whole pieces until `skip` columns are gone.
                var dropped = 0
                var index = text.startIndex
                while index < text.endIndex && dropped < toSkip {
                    dropped += TerminalText.width(String(text[index]))
                    index = text.index(after: index)
                }
                toSkip -= dropped
                text = text[index...]
                if text.isEmpty { continue }
            }
            at = write(text, row: row, column: at, role: span.role, limit: end - at)
        }
        return at
    }

    private mutating func set(_ row: Int, _ column: Int, _ text: String, _ role: Role, width pieceWidth: Int) {
        let index = row * width + column
        cells[index] = Cell(text: text, role: role)
        var extra = 1
        while extra < pieceWidth && column + extra < width {
            cells[index + extra] = Cell(text: "", role: role)
            extra += 1
        }
    }

    /// The frame as plain text, one line per row, trailing blanks removed (for tests).
    public var text: String {
        (0..<height).map { row in
            var line = ""
            for column in 0..<width { line += cells[row * width + column].text }
            while line.hasSuffix(" ") { line.removeLast() }
            return line
        }.joined(separator: "\n")
    }

    /// Which role each cell has, one letter per role class, for tests that check colours:
    /// `.` normal, `s` selection, `2`..`5` status classes, `b` bars, `e` error, `w` warning,
    /// `f` in flight, `m` search match, `x` escape, anything else `o`.
    public var roleMap: String {
        (0..<height).map { row in
            String((0..<width).map { column -> Character in
                switch cells[row * width + column].role {
                case .normal: return "."
                case .selection: return "s"
                case .status2xx: return "2"
                case .status3xx: return "3"
                case .status4xx: return "4"
                case .status5xx: return "5"
                case .bar, .barEmphasis, .title: return "b"
                case .error, .crashed: return "e"
                case .warning: return "w"
                case .inFlight: return "f"
                case .searchMatch: return "m"
                case .searchCurrent: return "M"
                case .escape: return "x"
                default: return "o"
                }
            })
        }.joined(separator: "\n")
    }
}

/// A line of text in several roles.
public struct StyledLine: Equatable {
    public struct Span: Equatable {
        public var text: String
        public var role: Role

        public init(_ text: String, _ role: Role = .normal) {
            self.text = text
            self.role = role
        }
    }

    public var spans: [Span]

    public init(_ spans: [Span] = []) { self.spans = spans }

    public init(_ text: String, _ role: Role = .normal) { spans = [Span(text, role)] }

    public var plain: String { spans.map(\.text).joined() }

    public mutating func append(_ text: String, _ role: Role = .normal) { spans.append(Span(text, role)) }

    /// The line cut into rows of at most `width` columns; rows after the first start with
    /// `indent` blanks.
    public func wrapped(width: Int, indent: Int) -> [StyledLine] {
        guard width > indent + 1 else { return [self] }
        var rows: [StyledLine] = []
        var row = StyledLine()
        var used = 0
        for span in spans {
            var text = ""
            for piece in TerminalText.pieces(span.text) {
                if used + piece.width > width {
                    if !text.isEmpty { row.append(text, span.role) }
                    rows.append(row)
                    row = StyledLine(String(repeating: " ", count: indent))
                    used = indent
                    text = ""
                }
                text += piece.text
                used += piece.width
            }
            if !text.isEmpty { row.append(text, span.role) }
        }
        rows.append(row)
        return rows
    }
}
