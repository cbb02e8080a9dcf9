/// Evaluating a filter against a record.
extension FilterExpression {
    /// Whether `record` matches. `now` (microseconds since the epoch) measures requests still
    /// in flight for `~dur`.
    public func matches(_ record: RequestRecord, now: Int = WallClock.microseconds()) -> Bool {
        switch self {
        case .all: return true
        case .method(let pattern): return pattern.matches(record.method)
        case .url(let pattern): return pattern.matches(record.url)
        case .status(let range): return record.status != 0 && range.contains(record.status)
        case .header(let pattern, let side):
            return side.includesRequest && pattern.matches(Self.lines(record.requestHeaders))
                || side.includesResponse && pattern.matches(Self.lines(record.sentHeaders.isEmpty ? record.applicationHeaders : record.sentHeaders))
        case .body(let pattern, let side):
            return side.includesRequest && pattern.matches(bytes: record.requestBody)
                || side.includesResponse && pattern.matches(bytes: record.chunks.count == 1 ? record.chunks[0].bytes : record.responseBody)
        case .contentType(let pattern, let side):
            return side.includesRequest && record.requestContentType.map(pattern.matches) == true
                || side.includesResponse && record.responseContentType.map(pattern.matches) == true
        case .applicationError: return record.applicationError != nil || record.outcome == .applicationError
        case .crash: return record.outcome == .crashed
        case .refused: return record.outcome == .badRequest
        case .violation: return !record.violations.isEmpty
        case .replay: return record.replayOf != nil
        case .generation(let generation): return record.generation == generation
        case .duration(let comparison, let value):
            return comparison.holds(record.duration ?? max(0, now - record.startedAt), value)
        case .size(let comparison, let value): return comparison.holds(record.responseBodySize, value)
        case .not(let inner): return !inner.matches(record, now: now)
        case .and(let left, let right): return left.matches(record, now: now) && right.matches(record, now: now)
        case .or(let left, let right): return left.matches(record, now: now) || right.matches(record, now: now)
        }
    }

    private static func lines(_ headers: [HeaderField]) -> String {
        headers.map { "\($0.name): \($0.value)" }.joined(separator: "\n")
    }
}

extension FilterExpression.Side {
    var includesRequest: Bool { self != .response }
    var includesResponse: Bool { self != .request }
}

extension FilterExpression.Comparison {
    func holds(_ left: Int, _ right: Int) -> Bool {
        switch self {
        case .greater: return left > right
        case .greaterOrEqual: return left >= right
        case .less: return left < right
        case .lessOrEqual: return left <= right
        case .equal: return left == right
        }
    }
}

extension RequestRecord {
    /// The URL as the client addressed it: scheme, Host and target.
    public var url: String {
        if target.hasPrefix("http://") || target.hasPrefix("https://") { return target }
        let host = requestHeaders.first { $0.name.lowercased() == "host" }?.value ?? "localhost"
        return "http://\(host)\(target)"
    }
}
