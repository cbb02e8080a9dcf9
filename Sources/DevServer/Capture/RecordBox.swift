/// A ``RequestRecord`` held by reference in the recorder's ring, so that an event changes it
/// where it lies (see `Recorder.entries`). Guarded by the recorder's lock.
final class RecordBox {
    var record: RequestRecord

    init(_ record: consuming RequestRecord) {
        self.record = record
    }
}
