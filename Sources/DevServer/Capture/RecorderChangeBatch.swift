/// The changes of one batch of worker events (``Recorder/apply(_:)-collection``), in order, each
/// record's at most once: subscribers re-read what changed. Collected only when someone listens.
struct RecorderChangeBatch {
    var collecting = false
    var order: [Int] = []
    var added: Set<Int> = []
    var updated: Set<Int> = []
    var evicted: [Int] = []

    mutating func add(_ id: Int) {
        guard collecting else { return }
        added.insert(id)
        order.append(id)
    }

    mutating func update(_ id: Int) {
        guard collecting, !added.contains(id), updated.insert(id).inserted else { return }
        order.append(id)
    }

    mutating func evict(_ ids: [Int]) {
        if collecting { evicted += ids }
    }

    var changes: [RecorderChange] {
        var result = order.map { added.contains($0) ? RecorderChange.added($0) : .updated($0) }
        if !evicted.isEmpty { result.append(.evicted(evicted)) }
        return result
    }
}
