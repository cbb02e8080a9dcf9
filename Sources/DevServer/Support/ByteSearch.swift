/// Finds a pattern in bytes, optionally ignoring ASCII case, fast enough for a 100 MB body:
/// the filter language's plain-text patterns, the inspector's body search, replay's response
/// reader.
public enum ByteSearch {
    /// Offsets where `pattern` starts (overlaps skipped), from `start`, at most `limit` of them.
    public static func offsets(of pattern: [UInt8], in bytes: [UInt8], from start: Int = 0, foldCase: Bool, limit: Int = 1_000_000) -> [Int] {
        bytes.withUnsafeBufferPointer { offsets(of: pattern, in: $0, from: start, foldCase: foldCase, limit: limit) }
    }

    /// The first offset of `pattern` at or after `start`, if any.
    public static func first(_ pattern: [UInt8], in bytes: [UInt8], from start: Int = 0, foldCase: Bool = false) -> Int? {
        offsets(of: pattern, in: bytes, from: start, foldCase: foldCase, limit: 1).first
    }

    static func offsets(of pattern: [UInt8], in buffer: UnsafeBufferPointer<UInt8>, from start: Int = 0, foldCase: Bool, limit: Int) -> [Int] {
        guard !pattern.isEmpty, start >= 0, pattern.count <= buffer.count - start else { return [] }
        let wanted = foldCase ? pattern.map(fold) : pattern
        var found: [Int] = []
        do {
            let first = wanted[0]
            let last = buffer.count - wanted.count
            var offset = start
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

    @inline(__always) public static func fold(_ byte: UInt8) -> UInt8 { byte >= 65 && byte <= 90 ? byte + 32 : byte }
}
