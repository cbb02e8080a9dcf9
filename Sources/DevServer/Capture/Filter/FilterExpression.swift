/// A parsed filter: mitmproxy's filter language where they overlap, plus devserve's own
/// operators (`~crash`, `~v`, `~gen`, `~dur`, `~size`, `~replay`).
///
/// ```
/// ~m POST & ~c 5xx          POSTs that failed on the server
/// ~u /api !~c 200-299       under /api, not successful
/// ~dur >200ms | ~size >10k  slow or large
/// (~e | ~crash) ~gen 3      errors and crashes of build 3
/// users                     a bare word is ~u
/// ```
public indirect enum FilterExpression: Sendable {
    /// Which side of the exchange a header, body or content-type test looks at.
    public enum Side: Sendable { case request, response, either }

    /// A numeric comparison: `>`, `>=`, `<`, `<=`, `=`.
    public enum Comparison: String, Sendable { case greater = ">", greaterOrEqual = ">=", less = "<", lessOrEqual = "<=", equal = "=" }

    case method(FilterPattern)
    case url(FilterPattern)
    case status(ClosedRange<Int>)
    case header(FilterPattern, Side)
    case body(FilterPattern, Side)
    case contentType(FilterPattern, Side)
    case applicationError
    case crash
    /// Refused by devserve before any application ran (400, 408, 413, 414, 431, 501, 505).
    case refused
    case violation
    case replay
    case generation(Int)
    /// Duration in microseconds.
    case duration(Comparison, Int)
    /// Response body size in bytes.
    case size(Comparison, Int)
    case not(FilterExpression)
    case and(FilterExpression, FilterExpression)
    case or(FilterExpression, FilterExpression)
    /// Matches everything (the empty filter).
    case all
}

/// A case-insensitive regular expression, with the text it came from.
public struct FilterPattern: @unchecked Sendable {
    public let source: String
    private let regex: Regex<AnyRegexOutput>

    /// The pattern's bytes, lowercased, when it is plain ASCII text with no regex syntax:
    /// matched by a byte scan, many times faster than the regex engine.
    private let literal: [UInt8]?

    init(_ source: String) throws {
        self.source = source
        self.regex = try Regex(source).ignoresCase()
        let plain = source.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F && !Array("\\^$.|?*+()[]{}".utf8).contains($0) }
        self.literal = plain && !source.isEmpty ? Array(source.lowercased().utf8) : nil
    }

    func matches(_ text: String) -> Bool {
        if let literal {
            var text = text
            return text.withUTF8 { Self.contains($0, literal) }
        }
        return text.contains(regex)
    }

    func matches(bytes: [UInt8]) -> Bool {
        if let literal { return bytes.withUnsafeBufferPointer { Self.contains($0, literal) } }
        return String(decoding: bytes, as: UTF8.self).contains(regex)
    }

    private static func contains(_ haystack: UnsafeBufferPointer<UInt8>, _ needle: [UInt8]) -> Bool {
        !ByteSearch.offsets(of: needle, in: haystack, foldCase: true, limit: 1).isEmpty
    }
}

/// A filter that did not parse: what is wrong and where (a character offset).
public struct FilterError: Error, Equatable, CustomStringConvertible {
    public let position: Int
    public let message: String

    public init(position: Int, message: String) {
        self.position = position
        self.message = message
    }

    public var description: String { "at \(position + 1): \(message)" }

    /// The expression with a caret under the position, then the message.
    public func render(_ expression: String) -> String {
        "\(expression)\n\(String(repeating: " ", count: position))^ \(message)"
    }

    /// For a terminal line that starts with `prefix`: the message, then the expression on
    /// its own line with the caret under the problem.
    public func renderBelow(_ expression: String, indent: String = "  ") -> String {
        "\(message)\n\(indent)\(expression)\n\(indent)\(String(repeating: " ", count: position))^"
    }
}
