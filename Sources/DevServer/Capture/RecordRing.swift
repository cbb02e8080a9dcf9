/// The recorder's records, oldest first, in one contiguous ring.
///
/// In place where it counts (issue 14): an event changes a record through `modify` without
/// copying it (Deque's `_modify` moves the element out and copies it back in, every field
/// retained and released per event), and a filter reads each record where it lies, next to
/// the others (records in boxes made a filter of 100,000 a pointer chase: 40% slower).
struct RecordRing {
    private var slots: [RequestRecord?] = []
    /// The slot of the oldest record.
    private var head = 0
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }

    private func slot(_ index: Int) -> Int {
        let position = head + index
        return position < slots.count ? position : position - slots.count
    }

    /// A copy of the record at `index` (0 is the oldest).
    subscript(index: Int) -> RequestRecord { slots[slot(index)]! }

    /// The id of the record at `index`, read without copying the record.
    func id(at index: Int) -> Int { slots[slot(index)]!.id }

    var firstID: Int? { isEmpty ? nil : id(at: 0) }
    var lastID: Int? { isEmpty ? nil : id(at: count - 1) }

    /// Changes the record at `index` where it lies.
    mutating func modify<T>(_ index: Int, _ body: (inout RequestRecord) -> T) -> T {
        body(&slots[slot(index)]!)
    }

    /// Calls `body` with each record, oldest first, where it lies.
    func forEach(_ body: (RequestRecord) -> Void) {
        for index in 0..<count { body(slots[slot(index)]!) }
    }

    /// The newest record for which `predicate` holds: its id.
    func lastID(where predicate: (RequestRecord) -> Bool) -> Int? {
        for index in stride(from: count - 1, through: 0, by: -1) where predicate(slots[slot(index)]!) { return id(at: index) }
        return nil
    }

    mutating func append(_ record: consuming RequestRecord) {
        if count == slots.count { grow() }
        slots[slot(count)] = record
        count += 1
    }

    /// Takes the oldest record out (moved, not copied).
    mutating func removeFirst() -> RequestRecord {
        precondition(count > 0, "removeFirst on an empty ring")
        var taken: RequestRecord?
        swap(&taken, &slots[head])
        head = head + 1 == slots.count ? 0 : head + 1
        count -= 1
        if count == 0 { head = 0 }
        return taken!
    }

    mutating func removeAll() {
        slots = []
        head = 0
        count = 0
    }

    /// Doubles the slots, moving the records to the front in order.
    private mutating func grow() {
        var larger = [RequestRecord?](repeating: nil, count: max(16, slots.count * 2))
        for index in 0..<count { swap(&larger[index], &slots[slot(index)]) }
        slots = larger
        head = 0
    }
}
