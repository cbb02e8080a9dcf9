/// Credentials in captured requests: masked wherever a request is shown or exported, unless
/// the user asks to reveal them; replay always sends the real values.
public enum Secrets {
    /// Header names whose values are credentials.
    public static let headerNames: Set<String> = ["authorization", "proxy-authorization", "cookie", "set-cookie"]
    /// The same, as environ keys (PEP 3333: HTTP_ variables).
    static let environKeys: Set<String> = ["HTTP_AUTHORIZATION", "HTTP_PROXY_AUTHORIZATION", "HTTP_COOKIE"]

    /// `value` with its secret parts replaced: the scheme of an Authorization stays ("Bearer
    /// ••••"), cookie names stay and their values go.
    public static func mask(_ name: String, _ value: String) -> String {
        switch name.lowercased() {
        case "cookie":
            return value.split(separator: ";", omittingEmptySubsequences: false).map { pair in
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                return parts.count == 2 ? "\(parts[0])=\(hidden(parts[1].count))" : String(pair)
            }.joined(separator: ";")
        case "set-cookie":
            // name=value; attributes: the attributes are not secret.
            let pieces = value.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false)
            let pair = pieces[0].split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let masked = pair.count == 2 ? "\(pair[0])=\(hidden(pair[1].count))" : hidden(pieces[0].count)
            return pieces.count > 1 ? masked + ";" + pieces[1] : masked
        default:
            let words = value.split(separator: " ", maxSplits: 1)
            if words.count == 2 { return "\(words[0]) \(hidden(words[1].count))" }
            return hidden(value.count)
        }
    }

    private static func hidden(_ count: Int) -> String { count == 0 ? "" : "•••• (\(count) chars hidden)" }

    public static func isSecret(header name: String) -> Bool { headerNames.contains(name.lowercased()) }

    /// Whether `value` of a credential header is one of our masks rather than a credential
    /// (a HAR exported without --show-secrets).
    public static func isMasked(_ value: String) -> Bool { value.contains("•••• (") && value.contains(" chars hidden)") }

    /// The record with every credential masked (headers as received, environ, headers as
    /// given and as sent).
    public static func masked(_ record: RequestRecord) -> RequestRecord {
        var copy = record
        copy.requestHeaders = record.requestHeaders.map(maskField)
        copy.applicationHeaders = record.applicationHeaders.map(maskField)
        let environ = record.environ
        if environ.contains(where: { environKeys.contains(String(decoding: $0.key, as: UTF8.self)) }) {
            copy.compactEnviron = CompactEnviron(environ.map { entry in
                let key = String(decoding: entry.key, as: UTF8.self)
                guard environKeys.contains(key) else { return entry }
                let header = key.dropFirst(5).replacing("_", with: "-")
                return EnvironEntry(key: entry.key, value: Array(mask(String(header), String(decoding: entry.value, as: UTF8.self)).utf8))
            })
        }
        if let head = record.sentHead {
            let lines = String(decoding: head, as: UTF8.self).split(separator: "\r\n", omittingEmptySubsequences: false)
            let masked = lines.enumerated().map { index, line -> String in
                guard index > 0, let colon = line.firstIndex(of: ":") else { return String(line) }
                let name = String(line[..<colon])
                guard isSecret(header: name) else { return String(line) }
                return "\(name): \(mask(name, String(line[line.index(after: colon)...]).trimmingWhitespace()))"
            }
            copy.sentHead = Array(masked.joined(separator: "\r\n").utf8)
        }
        return copy
    }

    private static func maskField(_ field: HeaderField) -> HeaderField {
        isSecret(header: field.name) ? HeaderField(field.name, mask(field.name, field.value)) : field
    }

    /// Masks the secret headers of a raw request (curl and raw exports).
    public static func masked(_ request: RawRequest) -> RawRequest {
        var copy = request
        copy.headers = request.headers.map(maskField)
        return copy
    }
}
