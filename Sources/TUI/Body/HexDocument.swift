import DevServer
/// Bytes as a hex dump, 16 per line, with their offset and printable ASCII: computed per line,
/// so any size opens at once.
public final class HexDocument: Document {
    public let bytes: [UInt8]

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public var lineCount: Int { (bytes.count + 15) / 16 }

    public func line(_ index: Int) -> StyledLine {
        let start = index * 16
        let row = bytes[start..<min(bytes.count, start + 16)]
        var hex = ""
        for (offset, byte) in row.enumerated() {
            hex += Self.hex(byte, digits: 2) + (offset == 7 ? "  " : " ")
        }
        hex += String(repeating: " ", count: max(0, 49 - hex.count))
        let ascii = String(row.map { $0 >= 0x20 && $0 < 0x7F ? Character(UnicodeScalar($0)) : "." })
        var line = StyledLine(Self.hex(start, digits: 8) + "  ", .dim)
        line.append(hex)
        line.append(" " + ascii, .dim)
        return line
    }

    public func lines(containing needle: String) -> [Int] {
        // The bytes as text, and the dump's hex digits ("ff d8").
        var hits = Set(ByteSearch.offsets(of: Array(needle.lowercased().utf8), in: bytes, foldCase: true).map { $0 / 16 })
        let digits = needle.lowercased().filter { $0 != " " }
        if digits.count >= 2 && digits.count % 2 == 0 && digits.allSatisfy(\.isHexDigit) {
            var wanted: [UInt8] = []
            var index = digits.startIndex
            while index < digits.endIndex {
                let next = digits.index(index, offsetBy: 2)
                wanted.append(UInt8(digits[index..<next], radix: 16)!)
                index = next
            }
            hits.formUnion(ByteSearch.offsets(of: wanted, in: bytes, foldCase: false).map { $0 / 16 })
        }
        return hits.sorted()
    }

    static func hex<T: BinaryInteger>(_ value: T, digits: Int) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }
}
