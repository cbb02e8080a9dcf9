import DevServer

/// The list's orders (`o` cycles them). Time is arrival order, newest at the bottom; the others
/// put the largest at the bottom, next to where new requests appear.
public enum SortOrder: String, CaseIterable, Sendable {
    case time, duration, size, status

    var next: SortOrder {
        let all = Self.allCases
        return all[(all.firstIndex(of: self)! + 1) % all.count]
    }

    /// Whether `a` sorts before `b` (`descending`: the largest first); ties go by arrival.
    func precedes(_ a: RequestRecord, _ b: RequestRecord, now: Int, descending: Bool = false) -> Bool {
        let (left, right): (Int, Int)
        switch self {
        case .time: return a.id < b.id
        case .duration: (left, right) = (a.duration ?? max(0, now - a.startedAt), b.duration ?? max(0, now - b.startedAt))
        case .size: (left, right) = (a.responseBodySize, b.responseBodySize)
        case .status: (left, right) = (a.status, b.status)
        }
        if left == right { return a.id < b.id }
        return descending ? left > right : left < right
    }
}
