/// A ``RequestRecord`` held by reference in the recorder's ring, so that an event changes it
/// where it lies (see `Recorder.entries`). Guarded by the recorder's lock.
///
/// It keeps the record's ``RequestRecord/cost`` as of its last change: reading a computed
/// property of a struct stored in a class copies the whole record first (every field
/// retained, then released), which was 13% of the supervisor's time under load when the
/// recorder measured each record before and after every change and again to evict it.
final class RecordBox {
    var record: RequestRecord
    /// `record.cost` as of the last ``change(_:)``.
    private(set) var cost: Int

    init(_ record: consuming RequestRecord) {
        cost = record.cost
        self.record = record
    }

    /// Changes the record in place; returns how much its cost grew.
    func change(_ body: (inout RequestRecord) -> Void) -> Int {
        let before = cost
        cost = Self.changing(&record, body)
        return cost - before
    }

    /// The record's cost after `body`, measured where the record lies (an inout access, no copy).
    private static func changing(_ record: inout RequestRecord, _ body: (inout RequestRecord) -> Void) -> Int {
        body(&record)
        return record.cost
    }
}
