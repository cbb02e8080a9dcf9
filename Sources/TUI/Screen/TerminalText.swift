import CDevServeShim
#if canImport(Glibc)
import Glibc
#endif

/// Request text made safe to draw: control bytes and escape sequences become visible
/// escapes, and grapheme clusters whose width a terminal might disagree with ncurses on (emoji
/// sequences, flags, variation selectors, unassigned code points) become U+FFFD. Every piece
/// then has a width the screen buffer can rely on.
public enum TerminalText {
    /// One drawable piece of text.
    public struct Piece: Equatable, Sendable {
        public var text: String
        public var width: Int
        /// Drawn as an escape (a control character shown, not obeyed).
        public var isEscape: Bool
    }

    private static let replacement = Piece(text: "\u{FFFD}", width: 1, isEscape: true)

    /// The pieces of `text`, in order.
    public static func pieces<S: StringProtocol>(_ text: S) -> [Piece] {
        ensureUTF8Locale()
        var result: [Piece] = []
        result.reserveCapacity(text.utf8.count)
        for character in text {
            if character.unicodeScalars.count == 1, let ascii = character.asciiValue {
                switch ascii {
                case 0x20..<0x7F: result.append(Piece(text: String(character), width: 1, isEscape: false))
                case 0x09: result.append(Piece(text: " ", width: 1, isEscape: false))
                case 0x7F: result.append(Piece(text: "^?", width: 2, isEscape: true))
                default: result.append(Piece(text: "^" + String(UnicodeScalar(ascii + 0x40)), width: 2, isEscape: true))
                }
                continue
            }
            result.append(piece(character))
        }
        return result
    }

    /// Columns `text` takes once sanitized.
    public static func width<S: StringProtocol>(_ text: S) -> Int {
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return text.utf8.count }
        return pieces(text).reduce(0) { $0 + $1.width }
    }

    private static func piece(_ character: Character) -> Piece {
        let scalars = character.unicodeScalars
        guard let first = scalars.first else { return replacement }
        if scalars.count == 1 && first.value == 0x0D { return Piece(text: "^M", width: 2, isEscape: true) }
        if first.value == 0x0D, scalars.count == 2, scalars.last?.value == 0x0A { return Piece(text: "^M^J", width: 4, isEscape: true) }
        if first.value < 0x20 || (0x7F...0x9F).contains(first.value) {
            return Piece(text: "\\x" + String(first.value, radix: 16), width: first.value < 0x10 ? 3 : 4, isEscape: true)
        }
        let base = Int(devserve_shim_wcwidth(first.value))
        guard base == 1 || base == 2 else { return base == 0 ? Piece(text: "", width: 0, isEscape: false) : replacement }
        for scalar in scalars.dropFirst() {
            // Only plain combining marks keep the base's width on every terminal; joiners,
            // variation selectors and regional-indicator pairs do not.
            let value = scalar.value
            if value == 0x200D || (0xFE00...0xFE0F).contains(value) || (0x1F1E6...0x1F1FF).contains(value) || (0x1F3FB...0x1F3FF).contains(value) {
                return replacement
            }
            if devserve_shim_wcwidth(value) != 0 { return replacement }
        }
        return Piece(text: String(character), width: base, isEscape: false)
    }

    nonisolated(unsafe) private static var localeChecked = false

    /// wcwidth needs a UTF-8 LC_CTYPE; the inspector sets the user's locale, and falls back to
    /// C.UTF-8 (tests, and users with no locale set) so widths never depend on the caller.
    public static func ensureUTF8Locale() {
        guard !localeChecked else { return }
        localeChecked = true
        if devserve_shim_codeset_is_utf8() != 0 { return }
        _ = setlocale(LC_CTYPE, "C.UTF-8")
    }
}

extension TerminalText {
    /// `text`'s lines, ended by LF or CR LF. (Swift's Character "\r\n" is one grapheme, which
    /// a split on "\n" does not see: such a line would be drawn whole, with ^M^J in it.)
    static func lines(of text: String) -> [Substring] {
        text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
    }
}

extension TerminalText {
    /// Bytes as text for the screen: UTF-8 where they are UTF-8, and each byte that is not
    /// shown as `\xFF`, as mitmproxy does, rather than as U+FFFD (which hides what it was).
    public static func display(bytes: [UInt8]) -> String {
        if let text = String(validating: bytes, as: UTF8.self) { return text }
        var out = ""
        var index = 0
        while index < bytes.count {
            // The longest valid UTF-8 sequence starting here (1 to 4 bytes), else one escaped byte.
            var taken = false
            for length in stride(from: min(4, bytes.count - index), through: 1, by: -1) {
                if let scalar = String(validating: bytes[index..<(index + length)], as: UTF8.self), scalar.unicodeScalars.count == 1 {
                    out += scalar
                    index += length
                    taken = true
                    break
                }
            }
            if !taken {
                out += "\\x" + String(bytes[index], radix: 16, uppercase: true).leftPadded(to: 2)
                index += 1
            }
        }
        return out
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
