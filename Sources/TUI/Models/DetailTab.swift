/// The detail view's tabs, in Tab order.
public enum DetailTab: String, CaseIterable, Sendable {
    case request = "Request"
    case response = "Response"
    case environ = "Environ"
    case chunks = "Chunks"
    case errors = "Errors"

    func moved(by delta: Int) -> DetailTab {
        let all = Self.allCases
        let index = (all.firstIndex(of: self)! + delta + all.count) % all.count
        return all[index]
    }
}
