/// HTTP token characters (RFC 9110 section 5.6.2): `!#$%&'*+-.^_`|~`, digits and letters.
/// Methods and field names are tokens; the request parser tests every byte of them, so the
/// set is two 64-bit masks rather than a search.
enum HTTPToken {
    /// Bytes 0-63 in the set.
    static let lowMask: UInt64 = 0x03FF_6CFA_0000_0000
    /// Bytes 64-127 in the set.
    static let highMask: UInt64 = 0x57FF_FFFF_C7FF_FFFE

    @inline(__always)
    static func isTokenByte(_ byte: UInt8) -> Bool {
        if byte < 64 { return (lowMask >> UInt64(byte)) & 1 == 1 }
        if byte < 128 { return (highMask >> UInt64(byte - 64)) & 1 == 1 }
        return false
    }
}
