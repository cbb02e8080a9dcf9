import DevServer

/// Turns a body's bytes into a ``Document`` for a ``BodyMode``: decodes gzip/deflate first
/// (except in hex, which shows the bytes as they crossed the wire), then formats; a mode that
/// does not fit the bytes says so and falls back to text.
enum BodyPresenter {
    struct Input {
        var bytes: [UInt8]
        /// Bytes produced in all, kept or not.
        var total: Int
        var contentType: String?
        var contentEncoding: String?
    }

    /// Bodies larger than this are shown as text in auto mode.
    static let largeBody = 8 << 20

    static func document(_ input: Input, mode: BodyMode) -> Document {
        var notes: [StyledLine] = []
        let dropped = input.total - input.bytes.count
        var summary = "\(input.total) byte\(input.total == 1 ? "" : "s")"
        if dropped > 0 { summary += " (\(dropped) not kept: --max-body)" }
        if input.total == 0 { return LinesDocument([StyledLine("(no body)", .dim)]) }
        var bytes = input.bytes
        if mode != .hex, let coding = input.contentEncoding, !coding.isEmpty, coding.lowercased() != "identity" {
            if let decoded = Inflate.decode(bytes, coding: coding) {
                summary += ", \(coding)-decoded to \(decoded.count) bytes"
                bytes = decoded
            } else {
                notes.append(StyledLine("cannot decode Content-Encoding: \(coding); showing the bytes as sent", .warning))
            }
        }
        let type = (input.contentType ?? "").lowercased()
        var chosen = mode == .auto ? automatic(type: type, bytes: bytes) : mode
        if mode == .auto && chosen != .text && chosen != .hex && bytes.count > Self.largeBody {
            // Formatting reads every byte up front; text pages lazily, so a huge body opens at once.
            notes.append(StyledLine("large body: shown as text (b picks \(chosen.rawValue))", .dim))
            chosen = .text
        }
        var body: Document
        switch chosen {
        case .hex:
            body = HexDocument(bytes)
        case .json:
            if let lines = JSONPretty.lines(bytes) {
                body = LinesDocument(lines)
            } else {
                notes.append(StyledLine("not valid JSON: shown as text", .warning))
                body = TextDocument(bytes)
            }
        case .form:
            body = LinesDocument(FormFields.lines(bytes))
        case .multipart:
            if let lines = MultipartSummary.lines(bytes, contentType: input.contentType) {
                body = LinesDocument(lines)
            } else {
                notes.append(StyledLine("not a multipart body with a boundary: shown as text", .warning))
                body = TextDocument(bytes)
            }
        case .text, .auto:
            body = TextDocument(bytes)
        }
        let header = StyledLine([.init("Body ", .section), .init("\(summary) · \(chosen.rawValue)\(mode == .auto ? " (auto)" : "")", .dim)])
        return ConcatenatedDocument([LinesDocument([header] + notes), body])
    }

    /// What auto picks: by content type, else text when the bytes read as text, else hex.
    static func automatic(type: String, bytes: [UInt8]) -> BodyMode {
        if type.contains("json") { return .json }
        if type.hasPrefix("application/x-www-form-urlencoded") { return .form }
        if type.hasPrefix("multipart/") { return .multipart }
        if type.hasPrefix("text/") || type.contains("xml") || type.contains("javascript") { return .text }
        let sample = bytes.prefix(4096)
        let binary = sample.contains { $0 < 0x09 || ($0 > 0x0D && $0 < 0x20) } || String(validating: sample, as: UTF8.self) == nil && sample.count < 4000
        return binary ? .hex : .text
    }
}
