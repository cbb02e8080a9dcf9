import DevServer
/// A `multipart/form-data` (or any multipart) body as a summary of its parts: each part's
/// name, file name, type and size, and the start of a text part (RFC 7578, RFC 2046 §5.1).
enum MultipartSummary {
    struct Part {
        var headers: [(String, String)]
        var body: ArraySlice<UInt8>
    }

    static func boundary(contentType: String?) -> String? {
        guard let contentType else { return nil }
        for parameter in contentType.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].trimmingWhitespace().lowercased() == "boundary" else { continue }
            var value = String(pair[1]).trimmingWhitespace()
            if value.hasPrefix("\"") && value.hasSuffix("\"") && value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            return value
        }
        return nil
    }

    static func parts(_ bytes: [UInt8], boundary: String) -> [Part]? {
        let delimiter = Array("--\(boundary)".utf8)
        let offsets = ByteSearch.offsets(of: delimiter, in: bytes, foldCase: false)
        guard offsets.count >= 2 else { return nil }
        var parts: [Part] = []
        for (start, end) in zip(offsets, offsets.dropFirst()) {
            var from = start + delimiter.count
            if bytes[from...].starts(with: [13, 10]) { from += 2 } else if bytes[from...].starts(with: [10]) { from += 1 }
            var to = end
            if to >= 2 && bytes[to - 2] == 13 && bytes[to - 1] == 10 { to -= 2 } else if to >= 1 && bytes[to - 1] == 10 { to -= 1 }
            guard from <= to else { continue }
            let section = bytes[from..<to]
            let separator = ByteSearch.offsets(of: [13, 10, 13, 10], in: Array(section), foldCase: false, limit: 1).first
            let headerEnd = separator.map { section.startIndex + $0 } ?? section.endIndex
            let bodyStart = separator.map { section.startIndex + $0 + 4 } ?? section.endIndex
            let headers = String(decoding: section[section.startIndex..<headerEnd], as: UTF8.self)
                .split(separator: "\r\n")
                .compactMap { line -> (String, String)? in
                    let pair = line.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
                    guard pair.count == 2 else { return nil }
                    return (String(pair[0]), String(pair[1]).trimmingWhitespace())
                }
            parts.append(Part(headers: headers, body: section[bodyStart...]))
        }
        return parts
    }

    static func lines(_ bytes: [UInt8], contentType: String?) -> [StyledLine]? {
        guard let boundary = boundary(contentType: contentType), let parts = parts(bytes, boundary: boundary) else { return nil }
        var lines = [StyledLine("\(parts.count) part\(parts.count == 1 ? "" : "s"), boundary \(boundary)", .dim)]
        for (number, part) in parts.enumerated() {
            let disposition = part.headers.first { $0.0.lowercased() == "content-disposition" }?.1 ?? ""
            let type = part.headers.first { $0.0.lowercased() == "content-type" }?.1
            var line = StyledLine("part \(number + 1)", .section)
            for name in ["name", "filename"] {
                if let value = parameter(name, in: disposition) { line.append("  \(name)=", .dim); line.append(value, .jsonKey) }
            }
            if let type { line.append("  \(type)", .dim) }
            line.append("  \(part.body.count) bytes", .dim)
            lines.append(line)
            let isText = type.map { $0.hasPrefix("text/") || $0.contains("json") } ?? true
            if isText, let text = String(validating: part.body.prefix(200), as: UTF8.self) {
                for preview in TerminalText.lines(of: text).prefix(3) {
                    lines.append(StyledLine("    " + preview))
                }
            } else {
                lines.append(StyledLine("    (binary)", .dim))
            }
        }
        return lines
    }

    static func parameter(_ name: String, in header: String) -> String? {
        for piece in header.split(separator: ";").dropFirst() {
            let pair = piece.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].trimmingWhitespace().lowercased() == name else { continue }
            var value = String(pair[1]).trimmingWhitespace()
            if value.hasPrefix("\"") && value.hasSuffix("\"") && value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            return value
        }
        return nil
    }
}
