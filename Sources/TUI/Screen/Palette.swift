/// How each ``Role`` looks: a colour pair where colours work, attributes alone where they do
/// not (`NO_COLOR`, monochrome terminals). The only place that knows colours.
public struct Palette: Sendable {
    public enum Colour: Int16, Sendable {
        case terminalDefault = -1
        case black = 0, red, green, yellow, blue, magenta, cyan, white
    }

    public struct Attributes: OptionSet, Sendable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }
        public static let bold = Attributes(rawValue: 1)
        public static let dim = Attributes(rawValue: 2)
        public static let reverse = Attributes(rawValue: 4)
        public static let underline = Attributes(rawValue: 8)
    }

    public struct Style: Sendable, Equatable {
        public var foreground: Colour
        public var background: Colour
        public var attributes: Attributes

        public static func == (a: Style, b: Style) -> Bool {
            a.foreground == b.foreground && a.background == b.background && a.attributes == b.attributes
        }
    }

    /// Whether colours are used at all.
    public let colour: Bool

    public init(colour: Bool) { self.colour = colour }

    public func style(_ role: Role) -> Style {
        colour ? Self.coloured(role) : Style(foreground: .terminalDefault, background: .terminalDefault, attributes: Self.monochrome(role))
    }

    private static func coloured(_ role: Role) -> Style {
        func style(_ foreground: Colour, _ background: Colour = .terminalDefault, _ attributes: Attributes = []) -> Style {
            Style(foreground: foreground, background: background, attributes: attributes)
        }
        switch role {
        case .normal: return style(.terminalDefault)
        case .dim: return style(.terminalDefault, .terminalDefault, .dim)
        case .title: return style(.white, .blue, .bold)
        case .heading: return style(.terminalDefault, .terminalDefault, [.bold, .underline])
        case .selection: return style(.black, .cyan)
        case .marked: return style(.magenta, .terminalDefault, .bold)
        case .bar: return style(.white, .blue)
        case .barEmphasis: return style(.yellow, .blue, .bold)
        case .tabActive: return style(.black, .cyan, .bold)
        case .tabInactive: return style(.terminalDefault)
        case .status2xx: return style(.green)
        case .status3xx: return style(.cyan)
        case .status4xx: return style(.yellow)
        case .status5xx: return style(.red, .terminalDefault, .bold)
        case .statusNone: return style(.magenta)
        case .method: return style(.terminalDefault, .terminalDefault, .bold)
        case .inFlight: return style(.cyan, .terminalDefault, .bold)
        case .crashed: return style(.white, .red, .bold)
        case .warning: return style(.yellow)
        case .error: return style(.red, .terminalDefault, .bold)
        case .replay: return style(.blue, .terminalDefault, .bold)
        case .escape: return style(.magenta)
        case .prompt: return style(.terminalDefault, .terminalDefault, .bold)
        case .searchMatch: return style(.black, .yellow)
        case .searchCurrent: return style(.black, .cyan, .bold)
        case .key: return style(.cyan, .terminalDefault, .bold)
        case .jsonKey: return style(.blue, .terminalDefault, .bold)
        case .jsonString: return style(.green)
        case .jsonNumber: return style(.cyan)
        case .jsonLiteral: return style(.magenta)
        case .section: return style(.terminalDefault, .terminalDefault, .bold)
        }
    }

    private static func monochrome(_ role: Role) -> Attributes {
        switch role {
        case .normal, .tabInactive, .status2xx, .status3xx, .jsonString, .jsonNumber, .jsonLiteral, .escape: return []
        case .dim: return .dim
        case .title, .bar, .selection, .tabActive, .searchMatch, .crashed: return .reverse
        case .searchCurrent: return [.reverse, .bold, .underline]
        case .barEmphasis: return [.reverse, .bold]
        case .heading: return .underline
        case .marked, .status4xx, .method, .inFlight, .warning, .replay, .prompt, .key, .jsonKey, .section: return .bold
        case .status5xx, .error: return [.bold, .underline]
        case .statusNone: return .dim
        }
    }
}
