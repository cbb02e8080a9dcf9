import DevServer

/// The request list without a screen: which records show (the filter), in which order, which
/// one is selected, whether the newest is followed, which are marked. Kept up to date by the
/// recorder's changes, incrementally: a flood of new requests costs O(1) each, and only the
/// rows on screen are ever read in full.
public final class ListModel {
    public let source: RecordSource
    /// The ids shown, in display order.
    public private(set) var ids: [Int] = []
    private var shown = Set<Int>()
    public private(set) var filter: FilterExpression?
    public private(set) var filterText = ""
    public private(set) var sort = SortOrder.time
    /// Keeps the last row selected as requests arrive.
    public var follow = true
    public private(set) var marks = Set<Int>()
    /// The selected record's id.
    public private(set) var selectedID: Int?
    /// The first row on screen.
    public private(set) var top = 0
    private var needsSort = false

    public init(source: RecordSource) {
        self.source = source
        rebuild()
    }

    public var selectedIndex: Int? {
        guard let selectedID else { return nil }
        if sort == .time { return binarySearch(selectedID) }
        return ids.firstIndex(of: selectedID)
    }

    // MARK: Changes

    /// Applies the recorder's changes since the last frame.
    public func apply(_ changes: [RecorderChange], now: Int = WallClock.microseconds()) {
        var evicted = Set<Int>()
        for change in changes {
            switch change {
            case .added(let id) where filter == nil && sort == .time:
                // Every record shows, in id order: nothing of it needs reading (a record the
                // recorder keeps as frames stays so until it is drawn).
                if !shown.contains(id) { insert(id) }
            case .updated(let id) where filter == nil && sort == .time:
                if !shown.contains(id), source.record(id) != nil { insert(id) }
            case .added(let id), .updated(let id):
                guard let record = source.record(id) else { continue }
                let matches = filter?.matches(record, now: now) ?? true
                if matches && !shown.contains(id) {
                    insert(record, now: now)
                } else if !matches && shown.contains(id) {
                    remove(id)
                } else if matches && sort != .time {
                    needsSort = true
                }
            case .evicted(let gone):
                evicted.formUnion(gone)
            case .cleared:
                ids.removeAll()
                shown.removeAll()
                marks.removeAll()
                selectedID = nil
                evicted.removeAll()
            }
        }
        if !evicted.isEmpty {
            let before = ids.count
            ids.removeAll { evicted.contains($0) }
            shown.subtract(evicted)
            marks.subtract(evicted)
            if let selectedID, evicted.contains(selectedID) { self.selectedID = ids.first }
            top = max(0, top - (before - ids.count))
        }
        if needsSort { resort(now: now) }
        if follow { selectedID = ids.last }
        if selectedID == nil { selectedID = ids.last }
    }

    /// Re-reads everything (start, new filter, new order).
    public func rebuild(now: Int = WallClock.microseconds()) {
        if sort == .time {
            ids = filter.map { filter in source.ids { filter.matches($0, now: now) } } ?? source.ids { _ in true }
        } else {
            var records = source.snapshot()
            if let filter { records = records.filter { filter.matches($0, now: now) } }
            records.sort { sort.precedes($0, $1, now: now, descending: descending) }
            ids = records.map(\.id)
        }
        shown = Set(ids)
        needsSort = false
        if follow || selectedID.map({ !shown.contains($0) }) ?? true { selectedID = ids.last }
    }

    private func insert(_ record: RequestRecord, now: Int) {
        if sort == .time {
            insert(record.id)
        } else {
            shown.insert(record.id)
            ids.append(record.id)
            needsSort = true
        }
    }

    /// Shows `id` in time order.
    private func insert(_ id: Int) {
        shown.insert(id)
        if let last = ids.last, last > id {
            ids.insert(id, at: ids.partitioningIndex { $0 > id })
        } else {
            ids.append(id)
        }
    }

    private func remove(_ id: Int) {
        shown.remove(id)
        if let index = sort == .time ? binarySearch(id) : ids.firstIndex(of: id) {
            ids.remove(at: index)
            if selectedID == id { selectedID = ids.indices.contains(index) ? ids[index] : ids.last }
        }
    }

    private func resort(now: Int) {
        needsSort = false
        var records = ids.compactMap(source.record)
        records.sort { sort.precedes($0, $1, now: now, descending: descending) }
        ids = records.map(\.id)
        shown = Set(ids)
    }

    private func binarySearch(_ id: Int) -> Int? {
        let index = ids.partitioningIndex { $0 >= id }
        return index < ids.count && ids[index] == id ? index : nil
    }

    // MARK: Commands

    /// Sets the filter from the user's text ("" for none). - Throws: `FilterError`, leaving
    /// the old filter in place.
    public func setFilter(_ text: String) throws {
        let trimmed = text.trimmingWhitespace()
        let expression = trimmed.isEmpty ? nil : try FilterParser.parse(trimmed)
        filter = expression
        filterText = trimmed
        rebuild()
    }

    /// For duration, size and status: the largest first (the slowest request on top), until
    /// reversed. Time is arrival order.
    public private(set) var descending = false

    public func cycleSort() {
        sort = sort.next
        descending = sort != .time
        rebuild()
    }

    /// Reverses the order of duration, size or status. - Returns: false for time order.
    @discardableResult
    public func reverseSort() -> Bool {
        guard sort != .time else { return false }
        descending.toggle()
        rebuild()
        return true
    }

    public func unmarkAll() { marks.removeAll() }

    public func toggleMark() {
        guard let selectedID else { return }
        if marks.remove(selectedID) == nil { marks.insert(selectedID) }
    }

    /// Moves the selection by `delta` rows; moving up stops following.
    public func move(by delta: Int) {
        guard !ids.isEmpty else { return }
        let current = selectedIndex ?? ids.count - 1
        let next = min(max(0, current + delta), ids.count - 1)
        selectedID = ids[next]
        if delta < 0 { follow = false }
    }

    /// Selects `id` without moving the view (marking from the detail view).
    func selectForMark(_ id: Int?) { selectedID = id }

    public func moveToTop() {
        follow = false
        selectedID = ids.first
    }

    public func moveToBottom() {
        follow = true
        selectedID = ids.last
    }

    /// Selects the row shown at `row` of a list `height` rows tall.
    public func select(row: Int) {
        let index = top + row
        guard ids.indices.contains(index) else { return }
        selectedID = ids[index]
        follow = index == ids.count - 1 && follow
    }

    /// Scrolls so the selection is visible in `height` rows. - Returns: the first row's index.
    @discardableResult
    public func scroll(height: Int) -> Int {
        guard height > 0 else { return top }
        let selected = selectedIndex ?? max(0, ids.count - 1)
        if selected < top { top = selected }
        if selected >= top + height { top = selected - height + 1 }
        top = max(0, min(top, max(0, ids.count - height)))
        return top
    }
}

extension Array {
    /// The index of the first element for which `belongsInSecondPartition` holds, the array
    /// being partitioned by it (all false, then all true).
    func partitioningIndex(where belongsInSecondPartition: (Element) -> Bool) -> Int {
        var low = 0
        var high = count
        while low < high {
            let middle = (low + high) / 2
            if belongsInSecondPartition(self[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
