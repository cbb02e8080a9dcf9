/// The environ of one request: PEP 3333, "environ Variables", as the native ABI carries it:
/// an ordered map from byte strings to byte strings.
///
/// Values live in separately allocated buffers, so a pointer handed to the plugin by
/// `environ_get` stays valid until that key is next set or removed (devserve.h's promise),
/// whatever happens to other keys.
final class EnvironStore {
    /// One value's bytes, at a stable address.
    final class Value {
        let buffer: UnsafeMutableBufferPointer<UInt8>

        init<C: Collection>(_ bytes: C) where C.Element == UInt8 {
            buffer = .allocate(capacity: Swift.max(bytes.count, 1))
            _ = buffer.initialize(from: bytes)
            count = bytes.count
        }

        let count: Int

        deinit { buffer.deallocate() }

        var bytes: [UInt8] { Array(buffer.prefix(count)) }
    }

    private(set) var keys: [Value] = []
    private(set) var values: [Value] = []

    init() {}

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
        if let index = index(of: key) {
            values[index] = Value(value)
        } else {
            keys.append(Value(key))
            values.append(Value(value))
        }
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
        for index in keys.indices { result.append(key: keys[index].buffer.prefix(keys[index].count), value: values[index].buffer.prefix(values[index].count)) }
        return result
    }

    /// Every entry in order, copied out (for tests).
    var entries: [(key: [UInt8], value: [UInt8])] {
        zip(keys, values).map { ($0.bytes, $1.bytes) }
    }

    private func index<K: Collection>(of key: K) -> Int? where K.Element == UInt8 {
        let count = key.count
        return keys.firstIndex { $0.count == count && $0.buffer.prefix(count).elementsEqual(key) }
    }
}
