/// Parses the filter language. Precedence: `!` binds tightest, then `&` (also written as
/// juxtaposition: `~m GET ~c 200` means both), then `|`; parentheses group.
public enum FilterParser {
    /// Parses `text`; an empty or blank text matches everything.
    /// - Throws: `FilterError` with the position of the problem.
    public static func parse(_ text: String) throws -> FilterExpression {
        var parser = Parser(tokens: try tokenize(text), end: text.count)
        guard !parser.tokens.isEmpty else { return .all }
        let expression = try parser.orExpression()
        if let extra = parser.peek {
            throw FilterError(position: extra.position, message: extra.kind == .close ? "unbalanced ')'" : "unexpected '\(extra.text)'")
        }
        return expression
    }

    struct Token: Equatable {
        enum Kind: Equatable { case open, close, not, and, or, op, word }
        let kind: Kind
        let text: String
        let position: Int
    }

    static func tokenize(_ text: String) throws -> [Token] {
        let characters = Array(text)
        var tokens: [Token] = []
        var index = 0
        while index < characters.count {
            let character = characters[index]
            switch character {
            case " ", "\t", "\n":
                index += 1
            case "(": tokens.append(Token(kind: .open, text: "(", position: index)); index += 1
            case ")": tokens.append(Token(kind: .close, text: ")", position: index)); index += 1
            case "!": tokens.append(Token(kind: .not, text: "!", position: index)); index += 1
            case "&": tokens.append(Token(kind: .and, text: "&", position: index)); index += 1
            case "|": tokens.append(Token(kind: .or, text: "|", position: index)); index += 1
            case "\"", "'":
                let start = index
                var value = ""
                index += 1
                while index < characters.count && characters[index] != character {
                    if characters[index] == "\\" && index + 1 < characters.count {
                        value.append(characters[index])
                        index += 1
                    }
                    value.append(characters[index])
                    index += 1
                }
                guard index < characters.count else { throw FilterError(position: start, message: "unterminated quote") }
                index += 1
                tokens.append(Token(kind: .word, text: value, position: start))
            default:
                let start = index
                var value = ""
                while index < characters.count && !" \t\n()|&".contains(characters[index]) {
                    value.append(characters[index])
                    index += 1
                }
                tokens.append(Token(kind: value.hasPrefix("~") ? .op : .word, text: value, position: start))
            }
        }
        return tokens
    }

    private struct Parser {
        var tokens: [Token]
        let end: Int
        var index = 0

        var peek: Token? { index < tokens.count ? tokens[index] : nil }

        mutating func next() -> Token? {
            defer { index += 1 }
            return peek
        }

        mutating func orExpression() throws -> FilterExpression {
            var left = try andExpression()
            while peek?.kind == .or {
                index += 1
                left = .or(left, try andExpression())
            }
            return left
        }

        mutating func andExpression() throws -> FilterExpression {
            var left = try unary()
            while let token = peek, token.kind != .or, token.kind != .close {
                if token.kind == .and { index += 1 }
                left = .and(left, try unary())
            }
            return left
        }

        mutating func unary() throws -> FilterExpression {
            guard let token = next() else { throw FilterError(position: end, message: "expected a filter after this") }
            switch token.kind {
            case .not:
                return .not(try unary())
            case .open:
                let inner = try orExpression()
                guard peek?.kind == .close else { throw FilterError(position: token.position, message: "unbalanced '('") }
                index += 1
                return inner
            case .word:
                return .url(try pattern(token))
            case .op:
                return try operation(token)
            case .close:
                throw FilterError(position: token.position, message: "unbalanced ')'")
            case .and, .or:
                throw FilterError(position: token.position, message: "'\(token.text)' needs a filter on its left")
            }
        }

        mutating func argument(for token: Token) throws -> Token {
            guard let argument = peek, argument.kind == .word else {
                throw FilterError(position: token.position + token.text.count, message: "\(token.text) needs an argument")
            }
            index += 1
            return argument
        }

        func pattern(_ token: Token) throws -> FilterPattern {
            do {
                return try FilterPattern(token.text)
            } catch {
                throw FilterError(position: token.position, message: "invalid regular expression \(token.text.debugDescription)")
            }
        }

        mutating func operation(_ token: Token) throws -> FilterExpression {
            switch token.text {
            case "~m": return .method(try pattern(try argument(for: token)))
            case "~u": return .url(try pattern(try argument(for: token)))
            case "~h": return .header(try pattern(try argument(for: token)), .either)
            case "~hq": return .header(try pattern(try argument(for: token)), .request)
            case "~hs": return .header(try pattern(try argument(for: token)), .response)
            case "~b": return .body(try pattern(try argument(for: token)), .either)
            case "~bq": return .body(try pattern(try argument(for: token)), .request)
            case "~bs": return .body(try pattern(try argument(for: token)), .response)
            case "~t": return .contentType(try pattern(try argument(for: token)), .either)
            case "~tq": return .contentType(try pattern(try argument(for: token)), .request)
            case "~ts": return .contentType(try pattern(try argument(for: token)), .response)
            case "~e": return .applicationError
            case "~crash": return .crash
            case "~refused": return .refused
            case "~v": return .violation
            case "~replay": return .replay
            case "~c": return .status(try statusRange(try argument(for: token)))
            case "~gen":
                let argument = try argument(for: token)
                guard let generation = Int(argument.text), generation >= 0 else {
                    throw FilterError(position: argument.position, message: "~gen needs a generation number, not \(argument.text.debugDescription)")
                }
                return .generation(generation)
            case "~dur":
                let (comparison, value) = try comparison(for: token, units: ["us": 1, "µs": 1, "ms": 1000, "s": 1_000_000, "": 1000])
                return .duration(comparison, value)
            case "~size":
                let (comparison, value) = try comparison(for: token, units: ["b": 1, "k": 1024, "kb": 1024, "m": 1 << 20, "mb": 1 << 20, "g": 1 << 30, "": 1])
                return .size(comparison, value)
            default:
                throw FilterError(position: token.position, message: "unknown operator \(token.text); the operators are ~m ~u ~c ~h ~hq ~hs ~b ~bq ~bs ~t ~tq ~ts ~e ~crash ~refused ~v ~replay ~gen ~dur ~size")
            }
        }

        /// `404`, `4xx`, `400-403`.
        func statusRange(_ token: Token) throws -> ClosedRange<Int> {
            let text = token.text.lowercased()
            if text.count == 3, text.hasSuffix("xx"), let first = Int(text.prefix(1)), (1...5).contains(first) {
                return first * 100...first * 100 + 99
            }
            let parts = text.split(separator: "-", omittingEmptySubsequences: false)
            if parts.count == 2, let low = Int(parts[0]), let high = Int(parts[1]), low <= high {
                return low...high
            }
            if parts.count == 1, let code = Int(text) { return code...code }
            throw FilterError(position: token.position, message: "~c needs a status: 404, 4xx or 400-403")
        }

        /// `>200ms`, `>= 1s`, `<10k`: a comparison (default `=`), a number and a unit.
        mutating func comparison(for token: Token, units: [String: Int]) throws -> (FilterExpression.Comparison, Int) {
            var argument = try argument(for: token)
            var text = argument.text
            if [">", ">=", "<", "<=", "="].contains(text), let number = peek, number.kind == .word {
                index += 1
                text += number.text
                argument = Token(kind: .word, text: text, position: argument.position)
            }
            var comparison = FilterExpression.Comparison.equal
            for candidate in [">=", "<=", ">", "<", "="] where text.hasPrefix(candidate) {
                comparison = FilterExpression.Comparison(rawValue: candidate)!
                text.removeFirst(candidate.count)
                break
            }
            let digits = text.prefix { $0.isNumber || $0 == "." }
            let unit = text.dropFirst(digits.count).lowercased()
            guard let number = Double(digits), let multiplier = units[unit] else {
                throw FilterError(position: argument.position, message: "\(token.text) needs a comparison like >200ms or <10k, not \(argument.text.debugDescription)")
            }
            return (comparison, Int(number * Double(multiplier)))
        }
    }
}
