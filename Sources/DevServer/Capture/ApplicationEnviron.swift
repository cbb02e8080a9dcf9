/// The text a bridge sends for the environ as its application left it (devserve.h
/// `application_environ`): "KEY\tDESCRIPTION\n" lines, with tab, newline and backslash in a
/// key or description written as \t, \n and \\.
public enum ApplicationEnviron {
    /// The lines as entries.
    public static func entries(_ lines: String) -> [HeaderField] {
        lines.split(separator: "\n").map { line in
            let parts = line.split(separator: "\t", maxSplits: 1, omittingEmptySubsequences: false)
            return HeaderField(unescape(parts[0]), parts.count > 1 ? unescape(parts[1]) : "")
        }
    }

    /// Entries as lines (the journal stores entries).
    public static func lines(_ entries: [HeaderField]) -> String {
        entries.map { escape($0.name) + "\t" + escape($0.value) + "\n" }.joined()
    }

    static func escape(_ text: String) -> String {
        guard text.contains(where: { $0 == "\\" || $0 == "\t" || $0 == "\n" }) else { return text }
        var out = ""
        for character in text {
            switch character {
            case "\\": out += "\\\\"
            case "\t": out += "\\t"
            case "\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }

    static func unescape(_ text: Substring) -> String {
        guard text.contains("\\") else { return String(text) }
        var out = ""
        var escaping = false
        for character in text {
            if escaping {
                out += character == "t" ? "\t" : character == "n" ? "\n" : String(character)
                escaping = false
            } else if character == "\\" {
                escaping = true
            } else {
                out.append(character)
            }
        }
        return out
    }
}
