/// Re-indents JSON without building a tree: key order, number spelling and string escapes stay
/// exactly as the application wrote them. - Returns: nil when the text is not valid JSON.
enum JSONPretty {
    private enum Token: Equatable {
        case open(UInt8), close(UInt8), comma, colon
        case string(String), scalar(String)
    }

    static func lines(_ bytes: [UInt8], indent: Int = 2) -> [StyledLine]? {
        guard let tokens = tokenize(bytes), !tokens.isEmpty, balanced(tokens) else { return nil }
        var lines: [StyledLine] = []
        var current = StyledLine()
        var depth = 0
        func newline() {
            lines.append(current)
            current = StyledLine([StyledLine.Span(String(repeating: " ", count: depth * indent))])
        }
        var index = 0
        while index < tokens.count {
            let token = tokens[index]
            let next = index + 1 < tokens.count ? tokens[index + 1] : nil
            switch token {
            case .open(let bracket):
                current.append(String(UnicodeScalar(bracket)))
                if case .close = next {
                    // An empty object or array stays on one line.
                    current.append(bracket == UInt8(ascii: "{") ? "}" : "]")
                    index += 1
                } else {
                    depth += 1
                    newline()
                }
            case .close(let bracket):
                depth -= 1
                newline()
                current.append(String(UnicodeScalar(bracket)))
            case .comma:
                current.append(",")
                newline()
            case .colon:
                current.append(": ")
            case .string(let text):
                current.append(text, next == .colon ? .jsonKey : .jsonString)
            case .scalar(let text):
                current.append(text, text.first.map { $0 == "-" || $0.isNumber } == true ? .jsonNumber : .jsonLiteral)
            }
            index += 1
        }
        lines.append(current)
        return lines.filter { !$0.spans.isEmpty }
    }

    private static func balanced(_ tokens: [Token]) -> Bool {
        var stack: [UInt8] = []
        var values = 0
        for token in tokens {
            switch token {
            case .open(let bracket): stack.append(bracket == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]"))
            case .close(let bracket): guard stack.popLast() == bracket else { return false }
            case .string, .scalar: if stack.isEmpty { values += 1 }
            default: break
            }
            if stack.isEmpty, case .close = token { values += 1 }
        }
        return stack.isEmpty && values == 1
    }

    private static func tokenize(_ bytes: [UInt8]) -> [Token]? {
        var tokens: [Token] = []
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            case UInt8(ascii: "{"), UInt8(ascii: "["): tokens.append(.open(byte)); index += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"): tokens.append(.close(byte)); index += 1
            case UInt8(ascii: ","): tokens.append(.comma); index += 1
            case UInt8(ascii: ":"): tokens.append(.colon); index += 1
            case UInt8(ascii: "\""):
                var end = index + 1
                while end < bytes.count && bytes[end] != UInt8(ascii: "\"") {
                    if bytes[end] == UInt8(ascii: "\\") { end += 1 }
                    if end < bytes.count && bytes[end] < 0x20 { return nil }
                    end += 1
                }
                guard end < bytes.count else { return nil }
                tokens.append(.string(String(decoding: bytes[index...end], as: UTF8.self)))
                index = end + 1
            default:
                var end = index
                while end < bytes.count, !" \t\r\n,:]}[{\"".utf8.contains(bytes[end]) { end += 1 }
                let word = String(decoding: bytes[index..<end], as: UTF8.self)
                guard word == "true" || word == "false" || word == "null" || Double(word) != nil else { return nil }
                tokens.append(.scalar(word))
                index = end
            }
        }
        return tokens
    }
}
