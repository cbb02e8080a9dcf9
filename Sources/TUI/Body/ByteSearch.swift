/// Finds a pattern in bytes, ASCII case folded, fast enough for a 100 MB body.
enum ByteSearch {
    /// Offsets where `pattern` starts (overlaps skipped), or after `limit` hits, the first ones.
    static func offsets(of pattern: [UInt8], in bytes: [UInt8], foldCase: Bool, limit: Int = 1_000_000) -> [Int] {
        guard !pattern.isEmpty, pattern.count <= bytes.count else { return [] }
        let wanted = foldCase ? pattern.map(fold) : pattern
        var found: [Int] = []
        bytes.withUnsafeBufferPointer { buffer in
            let first = wanted[0]
            let last = buffer.count - wanted.count
            var offset = 0
            while offset <= last && found.count < limit {
                let byte = foldCase ? fold(buffer[offset]) : buffer[offset]
                if byte == first {
                    var matched = 1
                    while matched < wanted.count && (foldCase ? fold(buffer[offset + matched]) : buffer[offset + matched]) == wanted[matched] { matched += 1 }
                    if matched == wanted.count {
                        found.append(offset)
                        offset += wanted.count
                        continue
                    }
                }
                offset += 1
            }
        }
        return found
    }

    @inline(__always) static func fold(_ byte: UInt8) -> UInt8 { byte >= 65 && byte <= 90 ? byte + 32 : byte }
}
