/// How a body is shown (`b` cycles): chosen by content type in auto, or forced.
public enum BodyMode: String, CaseIterable, Sendable {
    case auto, text, hex, json, form, multipart

    var next: BodyMode {
        let all = Self.allCases
        return all[(all.firstIndex(of: self)! + 1) % all.count]
    }
}
