/// The environ of one request: PEP 3333, "environ Variables", as the native ABI carries it:
/// an ordered map from byte strings to byte strings.
///
/// Every key and value lives in an arena of blocks owned by the store and freed with it: one
/// or two allocations per request instead of several per key (building the environ was 10% of
/// a worker's CPU when each entry was its own object). Bytes are never moved or freed before
/// the request ends, so a pointer handed to the plugin by `environ_get` stays valid at least
/// until that key is next set or removed, as devserve.h promises (in fact until the request
/// ends).
final class EnvironStore {
    /// Bytes in the arena: a stable address and a length.
    struct Value {
        let start: UnsafePointer<UInt8>
        let count: Int

        var bytes: [UInt8] { Array(UnsafeBufferPointer(start: start, count: count)) }
        var buffer: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: start, count: count) }
    }

    private static let blockSize = 4096
    /// The first block of the arena (most requests need no other); later ones in `blocks`.
    private let firstBlock: UnsafeMutableRawBufferPointer
    private var blocks: [UnsafeMutableRawBufferPointer] = []
    /// The block being filled and how much of it is used.
    private var current: UnsafeMutableRawBufferPointer
    private var used = 0
    /// The entries in order, key and value side by side (one array: two were an allocation more).
    private var entries: [(key: Value, value: Value)] = []

    init() {
        firstBlock = .allocate(byteCount: Self.blockSize, alignment: 1)
        current = firstBlock
        entries.reserveCapacity(40)
    }

    deinit {
        firstBlock.deallocate()
        for block in blocks { block.deallocate() }
    }

    var count: Int { entries.count }

    /// The key of entry `index`.
    func key(at index: Int) -> Value { entries[index].key }

    /// The value of entry `index`.
    func value(at index: Int) -> Value { entries[index].value }

    func value<K: Collection>(forKey key: K) -> Value? where K.Element == UInt8 {
        index(of: key).map { entries[$0].value }
    }

    /// The value of a text key, as bytes.
    subscript(key: String) -> [UInt8]? {
        get { value(forKey: key.utf8)?.bytes }
        set {
            if let newValue { set(key.utf8, newValue) } else { remove(key.utf8) }
        }
    }

    /// Adds `key` or replaces its value.
    func set<K: Collection, V: Collection>(_ key: K, _ value: V) where K.Element == UInt8, V.Element == UInt8 {
        let stored = store(value)
        if let index = index(of: key) {
            entries[index].value = stored
        } else {
            entries.append((store(key), stored))
        }
    }

    /// Adds a key the store does not have yet (the builder's fast path: no lookup).
    func append<K: Collection, V: Collection>(_ key: K, _ value: V) where K.Element == UInt8, V.Element == UInt8 {
        entries.append((store(key), store(value)))
    }

    /// Appends request header `name`'s CGI key (PEP 3333 after CGI, RFC 3875 section 4.1.18:
    /// "HTTP_" and the name upper-cased with "-" as "_"; Content-Type and Content-Length
    /// without the prefix) with `value`, the key written straight into the arena. A header
    /// repeated since entry `headersStart` has its values joined with a comma, as RFC 9110
    /// section 5.3 allows a recipient to combine them.
    func appendHeader<N: Collection, V: Collection>(name: N, value: V, headersStart: Int) where N.Element == UInt8, V.Element == UInt8 {
        let key: Value
        if Self.equalsIgnoringCase(name, "content-type") {
            key = store("CONTENT_TYPE".utf8)
        } else if Self.equalsIgnoringCase(name, "content-length") {
            key = store("CONTENT_LENGTH".utf8)
        } else {
            let destination = reserve(5 + name.count)
            var offset = 0
            for byte in "HTTP_".utf8 {
                destination[offset] = byte
                offset += 1
            }
            for byte in name {
                destination[offset] = byte == UInt8(ascii: "-") ? UInt8(ascii: "_") : ASCIICase.upper(byte)
                offset += 1
            }
            key = Value(start: UnsafePointer(destination.baseAddress!), count: offset)
        }
        for index in headersStart..<entries.count where entries[index].key.count == key.count && entries[index].key.buffer.elementsEqual(key.buffer) {
            let earlier = entries[index].value
            let destination = reserve(earlier.count + 1 + value.count)
            _ = UnsafeMutableBufferPointer(rebasing: destination[..<earlier.count]).initialize(from: earlier.buffer)
            destination[earlier.count] = UInt8(ascii: ",")
            _ = UnsafeMutableBufferPointer(rebasing: destination[(earlier.count + 1)...]).initialize(from: value)
            entries[index].value = Value(start: UnsafePointer(destination.baseAddress!), count: destination.count)
            return
        }
        entries.append((key, store(value)))
    }

    private static func equalsIgnoringCase<N: Collection>(_ name: N, _ lowercase: StaticString) -> Bool where N.Element == UInt8 {
        guard name.count == lowercase.utf8CodeUnitCount else { return false }
        return lowercase.withUTF8Buffer { zip(name, $0).allSatisfy { ASCIICase.lower($0) == $1 } }
    }

    /// Removes `key`. - Returns: whether it was present.
    @discardableResult
    func remove<K: Collection>(_ key: K) -> Bool where K.Element == UInt8 {
        guard let index = index(of: key) else { return false }
        entries.remove(at: index)
        return true
    }

    /// Every entry in one blob, for capture.
    var compact: CompactEnviron {
        var result = CompactEnviron()
        var bytes = 0
        for entry in entries { bytes += entry.key.count + entry.value.count }
        result.reserve(entries: entries.count, bytes: bytes)
        for entry in entries { result.append(key: entry.key.buffer, value: entry.value.buffer) }
        return result
    }

    private func index<K: Collection>(of key: K) -> Int? where K.Element == UInt8 {
        let count = key.count
        return entries.firstIndex { $0.key.count == count && $0.key.buffer.elementsEqual(key) }
    }

    /// Copies `bytes` into the arena.
    private func store<C: Collection>(_ bytes: C) -> Value where C.Element == UInt8 {
        let destination = reserve(bytes.count)
        _ = destination.initialize(from: bytes)
        return Value(start: UnsafePointer(destination.baseAddress!), count: destination.count)
    }

    /// `count` bytes of the arena, uninitialized, never moved or freed before the store is.
    private func reserve(_ count: Int) -> UnsafeMutableBufferPointer<UInt8> {
        if used + count > current.count {
            current = .allocate(byteCount: max(Self.blockSize, count), alignment: 1)
            blocks.append(current)
            used = 0
        }
        let start = current.baseAddress!.advanced(by: used).assumingMemoryBound(to: UInt8.self)
        used += count
        return UnsafeMutableBufferPointer(start: start, count: count)
    }
}
