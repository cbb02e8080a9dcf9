import DequeModule

/// The captured history: a ring buffer of ``RequestRecord``s fed by the workers' events, in the
/// supervisor, with no UI code.
///
/// Bounded three ways: a number of entries (`capacity`), an estimate of their bytes
/// (`maxMemory`), and the bytes kept of each request and response body (`maxBody`, with the
/// rest counted as "not kept"). The oldest entries go first and evictions are counted. Entries
/// update live while a request runs, so a subscriber sees a streamed response's chunks arrive
/// one by one. Thread-safe: any thread may read snapshots while the supervisor's loop applies
/// events.
public final class Recorder: @unchecked Sendable {
    /// The caps, with devserve's defaults.
    public struct Configuration: Sendable {
        public var capacity = 1000
        public var maxMemory = 256 << 20
        public var maxBody = 1 << 20

        public init() {}
    }

    /// Counts for the status bar and `devserve ls`.
    public struct Statistics: Sendable, Codable, Equatable {
        public var count: Int
        public var capacity: Int
        public var bytes: Int
        public var maxMemory: Int
        public var evictions: Int
        public var inFlight: Int
        public var paused: Bool
    }

    public let configuration: Configuration
    private let lock = Lock()
    /// The records, each in a box: Deque's in-place `_modify` moves an element out and copies it
    /// back in (every field retained and the moved-out one released, on each of a request's
    /// events); a box's record is changed where it lies.
    private var entries = Deque<RecordBox>()
    /// The id of `entries.first`. Ids increase; live ones are consecutive, so an id's index is
    /// `id - firstID` unless records restored from a journal (whose ids keep the gaps of what
    /// was evicted before) come first: then a binary search finds it.
    private var firstID = 1
    private var nextID = 1
    private var byWorkerID: [String: Int] = [:]
    /// The last worker id looked up for a frame and its record: a request's frames arrive
    /// together, and comparing two short strings costs less than hashing one. Forgotten
    /// wherever `byWorkerID` forgets an id.
    private var lastFrameWorker: (workerID: String, recordID: Int)?
    /// Body bytes that arrived before their request's start (pipelined requests).
    private var earlyBodies: [String: [UInt8]] = [:]
    private var bytes = 0
    private var evictions = 0
    private var paused = false
    private var subscribers: [Int: @Sendable (RecorderChange) -> Void] = [:]
    private var nextSubscriber = 0
    /// Replays on their way: the client address they connect from, and what they replay.
    private var expectedReplays: [String: Int] = [:]

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    // MARK: Reading

    /// Every record, oldest first.
    public func snapshot() -> [RequestRecord] { lock.withLock { entries.map { $0.peek(maxBody: configuration.maxBody) } } }

    /// What `transform` makes of each record, where it makes something, oldest first. The
    /// records are read one at a time under the lock: a listing of every record does not hold
    /// them all decoded at once (see ``RecordBox``).
    public func compactMap<T>(_ transform: (RequestRecord) -> T?) -> [T] {
        lock.withLock { entries.compactMap { transform($0.peek(maxBody: configuration.maxBody)) } }
    }

    /// The ids of the records for which `predicate` holds, oldest first. Reads the records
    /// under the lock one at a time, decoding those kept as frames for the read only, copying
    /// none that is decoded: filtering 100,000 entries costs the predicate and the decoding.
    public func ids(where predicate: (RequestRecord) -> Bool) -> [Int] {
        lock.withLock {
            var result: [Int] = []
            result.reserveCapacity(entries.count)
            for box in entries where predicate(box.peek(maxBody: configuration.maxBody)) { result.append(box.id) }
            return result
        }
    }

    /// The record `id`, if it is still kept.
    public func record(_ id: Int) -> RequestRecord? {
        lock.withLock { index(of: id).map { read(entries[$0]) } }
    }

    /// The record of the request in flight that the worker calls `workerID`.
    public func record(workerID: String) -> RequestRecord? {
        lock.withLock { byWorkerID[workerID].flatMap(index(of:)).map { read(entries[$0]) } }
    }

    /// Ends the records of requests a retired worker still had when it exited: they were cut
    /// off (`detail` says why). - Returns: the ids touched.
    @discardableResult
    public func abandoned(inFlight workerIDs: [String], detail: String, now: Int = WallClock.microseconds()) -> [Int] {
        endInFlight(workerIDs, now: now) { record in
            record.outcome = .aborted
            record.outcomeDetail = detail
        }
    }

    /// Ends the records of requests in flight at `now`, each changed by `body`, under the lock,
    /// then notifies. - Returns: the ids touched.
    private func endInFlight(_ workerIDs: [String], now: Int, _ body: (inout RequestRecord) -> Void) -> [Int] {
        var touched: [Int] = []
        lock.withLock {
            for workerID in workerIDs {
                forgetFrameWorker(workerID)
                guard let recordID = byWorkerID.removeValue(forKey: workerID), let id = update(recordID, { record in
                    body(&record)
                    record.duration = max(0, now - record.startedAt)
                }) else { continue }
                touched.append(id)
            }
        }
        for id in touched { notify(.updated(id)) }
        return touched
    }

    public var statistics: Statistics {
        lock.withLock {
            Statistics(
                count: entries.count, capacity: configuration.capacity, bytes: bytes, maxMemory: configuration.maxMemory,
                evictions: evictions, inFlight: byWorkerID.count, paused: paused)
        }
    }

    /// Calls `handler` after every change, on the thread that made it. - Returns: a token for
    /// ``unsubscribe(_:)``.
    @discardableResult
    public func subscribe(_ handler: @escaping @Sendable (RecorderChange) -> Void) -> Int {
        lock.withLock {
            nextSubscriber += 1
            subscribers[nextSubscriber] = handler
            return nextSubscriber
        }
    }

    public func unsubscribe(_ token: Int) { lock.withLock { subscribers[token] = nil } }

    /// Adds records read back from a journal, oldest first, under the same caps as live ones.
    /// They keep their ids (so `#41` in yesterday's notes is still #41), and new requests
    /// continue after the newest; a record out of order gets the next id instead, and links
    /// between a replay and its original follow.
    public func restore(_ records: [RequestRecord]) {
        var added: [Int] = []
        var evicted: [Int] = []
        lock.withLock {
            var newIDs: [Int: Int] = [:]
            for var record in records {
                let old = record.id
                if old < nextID { record = record.renumbered(nextID) }
                newIDs[old] = record.id
                record.replayOf = record.replayOf.flatMap { newIDs[$0] }
                nextID = record.id + 1
                if entries.isEmpty { firstID = record.id }
                bytes += record.cost
                entries.append(RecordBox(record))
                added.append(record.id)
                evictIfNeeded(into: &evicted)
            }
        }
        for id in added where !evicted.contains(id) { notify(.added(id)) }
        if !evicted.isEmpty { notify(.evicted(evicted)) }
    }

    // MARK: Replays

    /// The request about to arrive from `client` ("127.0.0.1:port") replays record `id`: its
    /// entry will say so (no header marks a replay on the wire).
    public func expectReplay(from client: String, of id: Int) {
        lock.withLock { expectedReplays[client] = id }
    }

    /// Forgets an expected replay that never arrived (the send failed).
    public func cancelReplay(from client: String) {
        _ = lock.withLock { expectedReplays.removeValue(forKey: client) }
    }

    /// The newest entry replaying `id` from `client`, if it arrived.
    public func replay(of id: Int, from client: String) -> Int? {
        lock.withLock { entries.last { $0.replayOf == id && $0.client == client }?.id }
    }

    // MARK: Decoding while idle

    /// Records with smaller ids are decoded (``decodeKept(limit:)`` moves it forward).
    private var decodedBelow = 1

    /// Decodes up to `limit` records kept as frames (``RecordBox``), oldest first, while the
    /// decoded records fit under seven eighths of `maxMemory` (a decoded record costs more than
    /// its frames, and none is evicted to make room). The supervisor calls this when it has
    /// nothing else to do, so that after a burst a filter over the history reads records
    /// already decoded; under load it never runs. - Returns: whether some may be left.
    @discardableResult
    public func decodeKept(limit: Int) -> Bool {
        lock.withLock {
            guard let last = entries.last, last.id >= decodedBelow else { return false }
            var index = firstIndex(atLeast: decodedBelow)
            var decoded = 0
            while index < entries.count && decoded < limit {
                let box = entries[index]
                if box.isKeptAsFrames {
                    guard bytes < configuration.maxMemory - configuration.maxMemory / 8 else { return false }
                    bytes += box.decodeKept(maxBody: configuration.maxBody)
                    decoded += 1
                }
                decodedBelow = box.id + 1
                index += 1
            }
            return index < entries.count
        }
    }

    /// How many records are kept as frames (tests).
    var keptAsFrames: Int { lock.withLock { entries.reduce(0) { $0 + ($1.isKeptAsFrames ? 1 : 0) } } }

    /// With the lock held: the index of the first entry whose id is `id` or more, searching
    /// the entries before `end` (all of them by default; the index `end` if none is).
    private func firstIndex(atLeast id: Int, below end: Int? = nil) -> Int {
        var low = 0
        var high = end ?? entries.count
        while low < high {
            let middle = (low + high) / 2
            if entries[middle].id < id { low = middle + 1 } else { high = middle }
        }
        return low
    }

    // MARK: Control

    /// Stops recording new requests (serving goes on); requests already recorded keep
    /// updating.
    public func pause() { lock.withLock { paused = true } }

    public func resume() { lock.withLock { paused = false } }

    /// Forgets every record.
    public func clear() {
        lock.withLock {
            entries.removeAll()
            firstID = nextID
            decodedBelow = nextID
            byWorkerID.removeAll()
            lastFrameWorker = nil
            earlyBodies.removeAll()
            bytes = 0
        }
        notify(.cleared)
    }

    // MARK: Writing

    /// Applies one worker event. - Returns: the id of the record it touched, if any.
    @discardableResult
    public func apply(_ event: WorkerEvent) -> Int? {
        apply(CollectionOfOne(event))[0]
    }

    /// Applies the events read in one go from a worker, under one lock, and then tells the
    /// subscribers once per record touched (issue 14: a hello request is five events; applied
    /// one by one they cost five lock round trips, five notifications and five eviction
    /// checks). Subscribers re-read what changed, so one `.updated` per record covers all its
    /// events of the batch. - Returns: for each event, the id of the record it touched.
    @discardableResult
    public func apply<Events: Collection<WorkerEvent>>(_ events: Events) -> [Int?] {
        var touched: [Int?] = []
        touched.reserveCapacity(events.count)
        var changes = RecorderChangeBatch()
        let notifying: Bool = lock.withLock {
            changes.collecting = !subscribers.isEmpty
            for event in events {
                let id = applyLocked(event, changes: &changes)
                touched.append(id)
            }
            changes.evict(pendingEvictions)
            pendingEvictions.removeAll(keepingCapacity: true)
            return changes.collecting
        }
        if notifying { notify(changes.changes) }
        return touched
    }

    /// With the lock held: one event's change to its record.
    private func applyLocked(_ event: WorkerEvent, changes: inout RecorderChangeBatch) -> Int? {
        let touched: Int?
        switch event {
        case .hello, .ready, .loadFailed, .serving, .stoppedAccepting, .watchFile, .crashed, .heartbeat:
            return nil
        case .requestStarted(let start):
            guard let added = addLocked(start) else { return nil }
            changes.add(added)
            return added
        case .requestFrame(let frame):
            if frame.start != nil {
                guard let added = addLocked(frame) else { return nil }
                changes.add(added)
                return added
            }
            guard let recordID = recordID(forFrameOf: frame.id), let index = index(of: recordID) else {
                // Not started yet (a pipelined request's body): decoded, to wait like any.
                return EventFrame.decode(frames: frame.bytes.bytes).events.compactMap { applyLocked($0, changes: &changes) }.last
            }
            bytes += entries[index].add(frame, maxBody: configuration.maxBody)
            evictIfNeeded(into: &pendingEvictions)
            touched = recordID
        case .requestBody(let id, let body):
            touched = body.withUnsafeBytes { appendRequestBody($0, owned: body, to: id) }
        case .requestBodyLent(let id, let lent):
            touched = appendRequestBody(lent.bytes, owned: nil, to: id)
        case .responseStarted(let id, _, _, _), .headSent(let id, _), .chunk(let id, _, _, _), .errors(let id, _), .violation(let id, _, _),
             .applicationError(let id, _, _), .applicationEnviron(let id, _), .applicationTraceback(let id, _):
            touched = change(id) { [maxBody = configuration.maxBody] in $0.apply(event, maxBody: maxBody) }
        case .requestFinished(let summary):
            forgetFrameWorker(summary.id)
            guard let recordID = byWorkerID.removeValue(forKey: summary.id), let index = index(of: recordID) else { return nil }
            bytes += entries[index].finish(summary, maxBody: configuration.maxBody)
            evictIfNeeded(into: &pendingEvictions)
            touched = recordID
        }
        if let touched { changes.update(touched) }
        return touched
    }

    /// A worker died: every request it had in flight is finished as crashed, with the signal
    /// and the worker's stderr attached. Nothing recorded before is lost.
    @discardableResult
    public func workerCrashed(inFlight workerIDs: [String], signal: String, backtrace: String, now: Int = WallClock.microseconds()) -> [Int] {
        endInFlight(workerIDs, now: now) { record in
            record.outcome = .crashed
            record.crash = RequestRecord.Crash(signal: signal, backtrace: backtrace)
        }
    }

    /// Marks requests that were in flight in a worker that crashed while serving another one
    /// (`culprit`, a worker id) as interrupted, naming it. - Returns: the ids touched.
    @discardableResult
    public func workerInterrupted(inFlight workerIDs: [String], culprit: String, signal: String, now: Int = WallClock.microseconds()) -> [Int] {
        let culpritText = lock.withLock { byWorkerID[culprit].map { "#\($0)" } } ?? "[\(culprit)]"
        return endInFlight(workerIDs, now: now) { record in
            record.outcome = .interrupted
            record.outcomeDetail = "interrupted: the worker crashed (\(signal)) while serving \(culpritText)"
        }
    }

    /// Marks requests in flight for longer than `limit` microseconds as timed out, saying
    /// how long they ran and what they did last. - Returns: the ids newly marked.
    @discardableResult
    public func markTimedOut(after limit: Int, now: Int = WallClock.microseconds()) -> [Int] {
        var marked: [Int] = []
        lock.withLock {
            for recordID in byWorkerID.values {
                guard let box = index(of: recordID).map({ entries[$0] }) else { continue }
                let record = read(box)
                guard record.timeout == nil else { continue }
                let running = now - record.startedAt
                guard running > limit else { continue }
                let last = record.chunks.last.map { "its last chunk (\($0.size) bytes) at \($0.offset / 1000) ms" } ?? "no chunk yet"
                let started = record.applicationStatus.map { "status \($0) given" } ?? "start_response not called"
                bytes += box.change(maxBody: configuration.maxBody) { $0.timeout = "running for \(running / 1000) ms, over --request-timeout: \(started), \(last)" }
                marked.append(recordID)
            }
        }
        for id in marked { notify(.updated(id)) }
        return marked
    }

    // MARK: Internals

    /// With the lock held: records a new request, decoded (the ids evicted to make room join
    /// `pendingEvictions`). - Returns: its id, or nil while paused.
    private func addLocked(_ start: RequestStart) -> Int? {
        addLocked(workerID: start.id, client: start.client) { RecordBox(RequestRecord(id: $0, start: start)) }
    }

    /// With the lock held: records a new request kept as its frames (see ``RecordBox``).
    /// - Returns: its id, or nil while paused.
    private func addLocked(_ start: RequestFrame) -> Int? {
        guard let client = start.start?.client else { return nil }
        return addLocked(workerID: start.id, client: client) { RecordBox(id: $0, start: start) }
    }

    /// With the lock held: a new record in the box `make` gives for its id, with its replay
    /// link and any body that came before its start.
    private func addLocked(workerID: String, client: String, _ make: (Int) -> RecordBox) -> Int? {
        guard !paused else { return nil }
        let id = nextID
        nextID += 1
        if entries.isEmpty { firstID = id }
        let box = make(id)
        if !expectedReplays.isEmpty { box.replayOf = expectedReplays.removeValue(forKey: client) }
        bytes += box.cost
        entries.append(box)
        byWorkerID[workerID] = id
        if let early = earlyBodies.removeValue(forKey: workerID) {
            bytes += box.change(maxBody: configuration.maxBody) { record in
                record.requestBody = early
                record.requestBodySize = early.count
            }
        }
        evictIfNeeded(into: &pendingEvictions)
        return id
    }

    /// With the lock held: applies `body` to the record of worker request `workerID`.
    private func change(_ workerID: String, _ body: (inout RequestRecord) -> Void) -> Int? {
        guard let recordID = byWorkerID[workerID] else { return nil }
        return update(recordID, body)
    }

    /// With the lock held: mutates a record in place and keeps the byte count right.
    private func update(_ id: Int, _ body: (inout RequestRecord) -> Void) -> Int? {
        guard let index = index(of: id) else { return nil }
        bytes += entries[index].change(maxBody: configuration.maxBody, body)
        evictIfNeeded(into: &pendingEvictions)
        return id
    }

    /// Ids evicted since the subscribers were last told (kept with its capacity: at capacity
    /// every request evicts one, and a fresh array each time was an allocation per request).
    private var pendingEvictions: [Int] = []

    /// With the lock held: request body bytes for worker request `workerID`, up to
    /// `maxBody`, copied straight into its record (`owned`, when the caller has the bytes as
    /// an array, is kept as it is when it is the whole first part). Bytes before the request's
    /// start wait for it (at most 256 requests' worth). - Returns: the record's id.
    private func appendRequestBody(_ body: UnsafeRawBufferPointer, owned: [UInt8]?, to workerID: String) -> Int? {
        guard let recordID = byWorkerID[workerID] else {
            if earlyBodies.count < 256 {
                let room = max(0, configuration.maxBody - (earlyBodies[workerID]?.count ?? 0))
                earlyBodies[workerID, default: []].append(contentsOf: body.prefix(room))
            }
            return nil
        }
        return update(recordID) { [maxBody = configuration.maxBody] in $0.appendRequestBody(body, owned: owned, maxBody: maxBody) }
    }

    /// With the lock held: drops the oldest records while over a cap (never the newest),
    /// adding their ids to `evicted`.
    private func evictIfNeeded(into evicted: inout [Int]) {
        let before = evicted.count
        while entries.count > configuration.capacity || (bytes > configuration.maxMemory && entries.count > 1) {
            let oldest = entries.removeFirst()  // read through the box: no copy of the record
            bytes -= oldest.cost
            firstID = entries.first?.id ?? nextID
            evicted.append(oldest.id)
            if oldest.isInFlight {
                byWorkerID = byWorkerID.filter { $0.value != oldest.id }
                if lastFrameWorker?.recordID == oldest.id { lastFrameWorker = nil }
            }
        }
        evictions += evicted.count - before
    }

    /// With the lock held: the record of worker request `workerID`, for one of its frames.
    private func recordID(forFrameOf workerID: String) -> Int? {
        if let last = lastFrameWorker, last.workerID == workerID { return last.recordID }
        guard let recordID = byWorkerID[workerID] else { return nil }
        lastFrameWorker = (workerID, recordID)
        return recordID
    }

    private func forgetFrameWorker(_ workerID: String) {
        if lastFrameWorker?.workerID == workerID { lastFrameWorker = nil }
    }

    /// With the lock held: `box`'s record, decoded if it was kept as frames.
    private func read(_ box: RecordBox) -> RequestRecord {
        let (record, grew) = box.record(maxBody: configuration.maxBody)
        bytes += grew
        return record
    }

    private func index(of id: Int) -> Int? {
        let guess = id - firstID
        if guess >= 0 && guess < entries.count && entries[guess].id == id { return guess }
        guard id >= firstID, let last = entries.last, id <= last.id else { return nil }
        // Restored records with gaps come first: ids still increase, so search.
        let low = firstIndex(atLeast: id, below: min(entries.count, guess))
        return low < entries.count && entries[low].id == id ? low : nil
    }

    private func notify(_ change: RecorderChange) { notify(CollectionOfOne(change)) }

    private func notify(_ changes: some Collection<RecorderChange>) {
        let handlers = lock.withLock { subscribers.isEmpty ? [] : Array(subscribers.values) }
        for change in changes {
            for handler in handlers { handler(change) }
        }
    }
}
