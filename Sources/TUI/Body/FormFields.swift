/// `application/x-www-form-urlencoded` bodies as name = value lines, decoded (HTML's
/// "application/x-www-form-urlencoded parser": `+` is a space, then percent-decoding).
enum FormFields {
    static func fields(_ bytes: [UInt8]) -> [(name: String, value: String)] {
        bytes.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true).map { pair in
            let parts = pair.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            return (decode(parts[0]), parts.count > 1 ? decode(parts[1]) : "")
        }
    }

    static func decode(_ bytes: ArraySlice<UInt8>) -> String {
        var out: [UInt8] = []
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "+") {
                out.append(0x20)
            } else if byte == UInt8(ascii: "%"), index + 2 < bytes.endIndex,
                      let value = UInt8(String(decoding: bytes[index + 1...index + 2], as: UTF8.self), radix: 16) {
                out.append(value)
                index += 2
            } else {
                out.append(byte)
            }
            index += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func lines(_ bytes: [UInt8]) -> [StyledLine] {
        let fields = fields(bytes)
        let width = min(24, fields.map { TerminalText.width($0.name) }.max() ?? 0)
        return fields.map { field in
            let padding = String(repeating: " ", count: max(0, width - TerminalText.width(field.name)))
            return StyledLine([.init(field.name, .jsonKey), .init(padding + " = ", .dim), .init(field.value)])
        }
    }
}
