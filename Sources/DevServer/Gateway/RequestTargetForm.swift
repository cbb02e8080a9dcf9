/// The forms a request-target may take (RFC 9112 section 3.2), checked once the whole head is
/// read: origin-form ("/path?query"), absolute-form ("http://host/path"), and asterisk-form
/// ("*"), which is for OPTIONS only (section 3.2.4). Authority-form belongs to CONNECT, which
/// devserve refuses on its own. Anything else ("foo", "?x=1") is not a target an application
/// could be given a PATH_INFO for.
enum RequestTargetForm {
    /// Why `target` is not a request-target for `method`, or nil when it is one.
    static func problem(target: String, method: String) -> String? {
        guard let first = target.utf8.first else { return "the request-target is empty" }
        if first == UInt8(ascii: "/") { return nil }
        if target == "*" {
            return method == "OPTIONS" ? nil : "the asterisk-form target \"*\" is only for OPTIONS (RFC 9112 section 3.2.4), not \(method)"
        }
        if isAbsoluteForm(target) { return nil }
        return "the request-target \(String(reflecting: String(target.prefix(80)))) is neither a path starting with \"/\" nor an absolute URI with an authority (RFC 9112 section 3.2)"
    }

    /// scheme "://" authority... (RFC 3986 section 3; the absolute-form of an http or https
    /// URI always has an authority): a letter, then letters, digits, "+", "-" or ".", then
    /// "://". The environ builder takes the path from after the authority of such a target.
    static func isAbsoluteForm(_ target: some StringProtocol) -> Bool {
        let bytes = target.utf8
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")), colon != bytes.startIndex,
              bytes[colon...].starts(with: "://".utf8) else { return false }
        let scheme = bytes[..<colon]
        guard let letter = scheme.first, isLetter(letter) else { return false }
        return scheme.allSatisfy { isLetter($0) || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") }
    }

    private static func isLetter(_ byte: UInt8) -> Bool { ASCIICase.lower(byte) &- UInt8(ascii: "a") < 26 }
}
