/// Makes untrusted text safe to print on one terminal line.
public enum Sanitize {
    /// Text from elsewhere (a control socket's answer) made safe for a terminal: line ends
    /// kept, every other control character shown as an escape.
    public static func lines(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { line($0.hasSuffix("\r") ? String($0.dropLast()) : String($0)) }.joined(separator: "\n")
    }

    /// Control characters (escape sequences among them) become visible escapes.
    public static func line(_ text: String) -> String {
        if isClean(text) { return text }
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x09: result += " "
            case 0..<0x20, 0x7F, 0x80..<0xA0: result += "\\x" + (scalar.value < 16 ? "0" : "") + String(scalar.value, radix: 16)
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    /// Whether `text` has nothing to escape: no C0 control, DEL or C1 control (U+0080-U+009F,
    /// encoded 0xC2 0x80-0x9F). A byte scan: most targets and log lines are clean (issue 14).
    static func isClean(_ text: String) -> Bool {
        var previous: UInt8 = 0
        for byte in text.utf8 {
            if byte < 0x20 || byte == 0x7F || (previous == 0xC2 && byte >= 0x80 && byte < 0xA0) { return false }
            previous = byte
        }
        return true
    }
}
