/// Case-insensitive comparison of ASCII text without building lower-cased copies: header
/// field names and the tokens of Connection, Transfer-Encoding and Expect are
/// case-insensitive (RFC 9110 sections 5.1 and 7.6.1), and `lowercased()` allocated a String
/// per header per comparison on the request path (issue 14, "bytes, not Strings").
extension StringProtocol {
    /// Whether `self` equals `other` with ASCII letters compared without case.
    func equalsIgnoringASCIICase(_ other: some StringProtocol) -> Bool {
        let left = utf8
        let right = other.utf8
        guard left.count == right.count else { return false }
        return left.elementsEqual(right) { ASCIICase.lower($0) == ASCIICase.lower($1) }
    }
}

enum ASCIICase {
    /// `byte` with A-Z folded to a-z.
    @inline(__always) static func lower(_ byte: UInt8) -> UInt8 { byte &- 65 < 26 ? byte | 0x20 : byte }

    /// `byte` with a-z folded to A-Z.
    @inline(__always) static func upper(_ byte: UInt8) -> UInt8 { byte &- 97 < 26 ? byte & ~0x20 : byte }
}
