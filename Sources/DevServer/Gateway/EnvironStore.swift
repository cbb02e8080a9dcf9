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
    private var blocks: [UnsafeMutableRawBufferPointer] = []
    private var used = 0
    private(set) var keys: [Value] = []
    private(set) var values: [Value] = []

    init() {
        keys.reserveCapacity(40)
        values.reserveCapacity(40)
    }

    deinit { for block in blocks { block.deallocate() } }

    /// The number of keys.
    var count: Int { keys.count }

    /// The value of `key`, as stored (stable address).
    func value<K: Collection>(forKey key: K) -> Value? where K.Element == UInt8 {
        index(of: key).map { values[$0] }
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
            values[index] = stored
        } else {
            keys.append(store(key))
            values.append(stored)
        }
    }

    /// Adds a key the store does not have yet (the builder's fast path: no lookup).
    func append<K: Collection, V: Collection>(_ key: K, _ value: V) where K.Element == UInt8, V.Element == UInt8 {
        keys.append(store(key))
        values.append(store(value))
    }

    /// Removes `key`. - Returns: whether it was present.
    @discardableResult
    func remove<K: Collection>(_ key: K) -> Bool where K.Element == UInt8 {
        guard let index = index(of: key) else { return false }
        keys.remove(at: index)
        values.remove(at: index)
        return true
    }

    /// Every entry in one blob, for capture.
    var compact: CompactEnviron {
        var result = CompactEnviron()
        var bytes = 0
        for index in keys.indices { bytes += keys[index].count + values[index].count }
        result.reserve(entries: keys.count, bytes: bytes)
        for index in keys.indices { result.append(key: keys[index].buffer, value: values[index].buffer) }
        return result
    }

    /// Every entry in order, copied out (for tests).
    var entries: [(key: [UInt8], value: [UInt8])] {
        zip(keys, values).map { ($0.bytes, $1.bytes) }
    }

    private func index<K: Collection>(of key: K) -> Int? where K.Element == UInt8 {
        let count = key.count
        return keys.firstIndex { $0.count == count && $0.buffer.elementsEqual(key) }
    }

    /// Copies `bytes` into the arena.
    private func store<C: Collection>(_ bytes: C) -> Value where C.Element == UInt8 {
        let count = bytes.count
        if blocks.isEmpty || used + count > blocks[blocks.count - 1].count {
            blocks.append(.allocate(byteCount: max(Self.blockSize, count), alignment: 1))
            used = 0
        }
        let destination = blocks[blocks.count - 1].baseAddress!.advanced(by: used).assumingMemoryBound(to: UInt8.self)
        _ = UnsafeMutableBufferPointer(start: destination, count: count).initialize(from: bytes)
        used += count
        return Value(start: UnsafePointer(destination), count: count)
    }
}
