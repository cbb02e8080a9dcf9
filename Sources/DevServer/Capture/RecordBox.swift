/// A ``RequestRecord`` held by reference in the recorder's ring, so that an event changes it
/// where it lies (see `Recorder.entries`). Guarded by the recorder's lock.
///
/// A live request's record is kept as its frames, the bytes its events arrived in, until
/// someone reads it (``record(maxBody:)``): then they are decoded and applied once, and the
/// record is kept decoded from there on. Under load most records are never read before they
/// are evicted; decoding each frame into strings and arrays, building the record and freeing it
/// again were half of the supervisor's time per hello request (issue 14).
///
/// It keeps the record's ``RequestRecord/cost`` as of its last change: reading a computed
/// property of a struct stored in a class copies the whole record first (every field
/// retained, then released), which was 13% of the supervisor's time under load when the
/// recorder measured each record before and after every change and again to evict it.
final class RecordBox {
    let id: Int
    /// The client ("address:port").
    let client: String
    /// The record, once decoded (nil while its frames are kept: a record has dozens of fields
    /// to make and free, a box kept as frames a few).
    private var decoded: RequestRecord?
    /// The record this one replays, while it is kept as frames.
    private var encodedReplayOf: Int?
    /// The frames not yet applied, in the order they arrived; empty once decoded.
    private var frames: [UInt8] = []
    /// The request's end, when it arrived while its frames were kept.
    private var finish: RequestSummary?
    /// What the record costs in memory (see ``RequestRecord/cost``), as of the last change.
    private(set) var cost: Int

    /// A decoded record: restored from a journal, or started by an event already decoded.
    init(_ record: consuming RequestRecord) {
        id = record.id
        client = record.client
        cost = record.cost
        decoded = record
    }

    /// A record kept as frames, from its start frame.
    init(id: Int, start: RequestFrame) {
        self.id = id
        client = start.start?.client ?? "-"
        // Room for the frames a small response adds (status, head, a chunk: ~300 bytes).
        frames.reserveCapacity(start.bytes.count + 384)
        frames.append(contentsOf: start.bytes.bytes)
        cost = 0
        cost = encodedCost
    }

    // Stored properties read through the optional, not `map` or a computed property: either
    // copied the whole record first (see the note on `cost` above).
    var replayOf: Int? {
        get { decoded != nil ? decoded?.replayOf : encodedReplayOf }
        set {
            if decoded != nil { decoded?.replayOf = newValue } else { encodedReplayOf = newValue }
        }
    }
    var isInFlight: Bool { decoded != nil ? decoded?.outcome == .inFlight : finish == nil }

    /// The box, the summary kept with it and the frames, with the allocator's overheads.
    private var encodedCost: Int { 768 + frames.capacity }

    /// The record, decoded first if it was kept as frames, and kept decoded. - Returns: also
    /// how much its cost grew.
    func record(maxBody: Int) -> (record: RequestRecord, grew: Int) {
        let grew = decode(maxBody: maxBody)
        return (decoded!, grew)
    }

    /// Whether the record is still kept as frames.
    var isKeptAsFrames: Bool { decoded == nil }

    /// Decodes the kept frames now (the supervisor, when idle). Returns how much the cost grew.
    func decodeKept(maxBody: Int) -> Int { decode(maxBody: maxBody) }

    /// The record, decoded for this read only if it is kept as frames: reading every record
    /// (a filter, a listing, an export) does not make each one cost its decoded size.
    func peek(maxBody: Int) -> RequestRecord {
        decoded ?? decodedFrames(maxBody: maxBody)
    }

    /// Adds one of the request's frames: kept with the others while they are kept, applied at
    /// once to a record already decoded. Returns how much the cost grew.
    func add(_ frame: RequestFrame, maxBody: Int) -> Int {
        guard decoded == nil else {
            let (events, failure) = EventFrame.decode(frames: frame.bytes.bytes)
            return change { record in
                for event in events { record.apply(event, maxBody: maxBody) }
                if let failure { record.errors += Self.undecodable(failure) }
            }
        }
        let before = cost
        frames.append(contentsOf: frame.bytes.bytes)
        cost = encodedCost
        return cost - before
    }

    /// The request ended. Returns how much the cost grew.
    func finish(_ summary: RequestSummary, maxBody: Int) -> Int {
        guard decoded == nil else { return change { $0.apply(.requestFinished(summary), maxBody: maxBody) } }
        finish = summary
        return 0
    }

    /// Changes the record in place (decoded first); returns how much its cost grew.
    func change(maxBody: Int, _ body: (inout RequestRecord) -> Void) -> Int {
        decode(maxBody: maxBody) + change(body)
    }

    private func change(_ body: (inout RequestRecord) -> Void) -> Int {
        let before = cost
        cost = Self.changing(&decoded!, body)
        return cost - before
    }

    /// Applies the kept frames, once. Returns how much the cost grew.
    private func decode(maxBody: Int) -> Int {
        guard decoded == nil else { return 0 }
        let before = cost
        decoded = decodedFrames(maxBody: maxBody)
        frames = []
        finish = nil
        cost = decoded!.cost
        return cost - before
    }

    /// The record the kept frames (and the end, if it came) make.
    private func decodedFrames(maxBody: Int) -> RequestRecord {
        let (events, failure) = frames.withUnsafeBytes { EventFrame.decode(frames: $0) }
        // The start frame comes first: it was the box's first.
        var record: RequestRecord
        var rest = events[...]
        if case .requestStarted(let start) = events.first {
            record = RequestRecord(id: id, start: start)
            rest = rest.dropFirst()
        } else {
            record = RequestRecord(id: id, start: RequestStart(
                id: "", generation: 0, client: client, time: 0, method: "-", target: "-", version: "-", headers: [], environ: CompactEnviron()))
        }
        record.replayOf = encodedReplayOf
        for event in rest { record.apply(event, maxBody: maxBody) }
        if let failure { record.errors += Self.undecodable(failure) }
        if let finish { record.apply(.requestFinished(finish), maxBody: maxBody) }
        return record
    }

    /// What a record says of its frames that did not decode (a worker of another build, or a
    /// bug): the record shows what came before.
    private static func undecodable(_ failure: EventFrameError) -> String {
        "devserve: part of this request's capture did not decode (\(failure.detail)); what follows it is missing\n"
    }

    /// The record's cost after `body`, measured where the record lies (an inout access, no copy).
    private static func changing(_ record: inout RequestRecord, _ body: (inout RequestRecord) -> Void) -> Int {
        body(&record)
        return record.cost
    }
}
