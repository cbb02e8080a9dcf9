/// An environ as one byte blob and a list of lengths: how it crosses from worker to
/// supervisor and how the recorder keeps it. Tens of thousands of records with ~25 keys each
/// would otherwise be ~50 small allocations per request on both sides of the pipe.
public struct CompactEnviron: Sendable, Equatable {
    /// Key and value bytes, one after the other, in order.
    public private(set) var blob: [UInt8]
    /// For each entry, the key's length then the value's.
    public private(set) var lengths: [UInt32]

    public init(blob: [UInt8] = [], lengths: [UInt32] = []) {
        self.blob = blob
        self.lengths = lengths
    }

    public init(_ entries: [EnvironEntry]) {
        self.init()
        blob.reserveCapacity(entries.reduce(0) { $0 + $1.key.count + $1.value.count })
        lengths.reserveCapacity(entries.count * 2)
        for entry in entries { append(key: entry.key, value: entry.value) }
    }

    /// Room for `entries` entries of `bytes` key and value bytes in all, so appending them
    /// grows nothing.
    public mutating func reserve(entries: Int, bytes: Int) {
        blob.reserveCapacity(blob.count + bytes)
        lengths.reserveCapacity(lengths.count + 2 * entries)
    }

    public mutating func append<K: Collection, V: Collection>(key: K, value: V) where K.Element == UInt8, V.Element == UInt8 {
        blob += key
        blob += value
        lengths.append(UInt32(key.count))
        lengths.append(UInt32(value.count))
    }

    public var count: Int { lengths.count / 2 }

    /// The entries, copied out.
    public var entries: [EnvironEntry] {
        var result: [EnvironEntry] = []
        result.reserveCapacity(count)
        var offset = 0
        for index in stride(from: 0, to: lengths.count, by: 2) {
            let keyEnd = offset + Int(lengths[index])
            let valueEnd = keyEnd + Int(lengths[index + 1])
            result.append(EnvironEntry(key: Array(blob[offset..<keyEnd]), value: Array(blob[keyEnd..<valueEnd])))
            offset = valueEnd
        }
        return result
    }

    /// Whether the lengths add up to the blob (a decoded frame is checked with this).
    var isConsistent: Bool { lengths.reduce(0) { $0 + Int($1) } == blob.count && lengths.count % 2 == 0 }
}
