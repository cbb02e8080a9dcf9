import DevServer

/// Two entries compared (a replay and its original, or any two marked): request line and
/// headers, status, response headers added / removed / changed (Date ignored: it always
/// differs), the body (a line diff for text and JSON, the first differing offset and a hex
/// window for binary), and timing.
struct RecordDiff {
    let left: RequestRecord
    let right: RequestRecord

    func lines() -> [StyledLine] {
        var lines = [StyledLine([.init("#\(left.id)", .section), .init(" → ", .dim), .init("#\(right.id)", .section),
                                 .init(right.replayOf == left.id ? "  (a replay of it)" : "", .dim)])]
        lines.append(StyledLine())
        lines.append(StyledLine("Request", .section))
        let leftLine = "\(left.method) \(left.target) \(left.version)"
        let rightLine = "\(right.method) \(right.target) \(right.version)"
        if leftLine == rightLine {
            lines.append(StyledLine("  " + leftLine, .dim))
        } else {
            lines.append(StyledLine("- " + leftLine, .error))
            lines.append(StyledLine("+ " + rightLine, .status2xx))
        }
        lines += headerChanges(left.requestHeaders, right.requestHeaders, ignoring: [])
        lines += bodyLines(Array(left.requestBody), Array(right.requestBody), leftType: left.requestContentType, rightType: right.requestContentType)
        lines.append(StyledLine())
        lines.append(StyledLine("Response", .section))
        let leftStatus = left.applicationStatus ?? "(none)"
        let rightStatus = right.applicationStatus ?? "(none)"
        if leftStatus == rightStatus {
            lines.append(StyledLine([.init("  status ", .dim), .init(leftStatus, .status(left.status)), .init(" (same)", .dim)]))
        } else {
            lines.append(StyledLine([.init("  status ", .dim), .init(leftStatus, .status(left.status)), .init(" → ", .dim), .init(rightStatus, .status(right.status))]))
        }
        let leftHeaders = left.sentHeaders.isEmpty ? left.applicationHeaders : left.sentHeaders
        let rightHeaders = right.sentHeaders.isEmpty ? right.applicationHeaders : right.sentHeaders
        lines += headerChanges(leftHeaders, rightHeaders, ignoring: ["date"])
        lines += bodyLines(left.responseBody, right.responseBody, leftType: left.responseContentType, rightType: right.responseContentType)
        lines.append(StyledLine())
        lines.append(StyledLine("Timing", .section))
        lines.append(StyledLine("  duration \(ListView.duration(left.duration ?? 0)) → \(ListView.duration(right.duration ?? 0)); " +
            "chunks \(left.chunks.count) → \(right.chunks.count); generation \(left.generation) → \(right.generation); " +
            "outcome \(left.outcome.rawValue) → \(right.outcome.rawValue)"))
        return lines
    }

    private func headerChanges(_ a: [HeaderField], _ b: [HeaderField], ignoring: Set<String>) -> [StyledLine] {
        var lines: [StyledLine] = []
        let names = (a.map { $0.name.lowercased() } + b.map { $0.name.lowercased() }).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        for name in names where !ignoring.contains(name) {
            let old = a.filter { $0.name.lowercased() == name }
            let new = b.filter { $0.name.lowercased() == name }
            let display = (old.first ?? new.first)!.name
            if old.map(\.value) == new.map(\.value) { continue }
            if old.isEmpty {
                for field in new { lines.append(StyledLine("  + \(display): \(field.value)", .status2xx)) }
            } else if new.isEmpty {
                for field in old { lines.append(StyledLine("  - \(display): \(field.value)", .error)) }
            } else {
                lines.append(StyledLine("  ~ \(display): \(old.map(\.value).joined(separator: ", ")) → \(new.map(\.value).joined(separator: ", "))", .warning))
            }
        }
        if lines.isEmpty { lines.append(StyledLine("  headers: same" + (ignoring.isEmpty ? "" : " (Date ignored)"), .dim)) }
        return lines
    }

    /// Body differences: nothing when equal, a line diff for text, a hex window for binary.
    private func bodyLines(_ a: [UInt8], _ b: [UInt8], leftType: String?, rightType: String?) -> [StyledLine] {
        if a == b { return [StyledLine("  body: same (\(a.count) bytes)", .dim)] }
        let textA = String(validating: a, as: UTF8.self)
        let textB = String(validating: b, as: UTF8.self)
        var lines = [StyledLine("  body: \(a.count) → \(b.count) bytes", .dim)]
        if let textA, let textB, !textA.contains("\0"), !textB.contains("\0") {
            let isJSON = (leftType ?? "").contains("json") || (rightType ?? "").contains("json")
            let left = isJSON ? JSONPretty.lines(a)?.map(\.plain) ?? Self.split(textA) : Self.split(textA)
            let right = isJSON ? JSONPretty.lines(b)?.map(\.plain) ?? Self.split(textB) : Self.split(textB)
            lines += Self.unified(left, right)
            return lines
        }
        let offset = (0..<min(a.count, b.count)).first { a[$0] != b[$0] } ?? min(a.count, b.count)
        lines.append(StyledLine("  binary: first difference at byte \(offset) (0x\(HexDocument.hex(offset, digits: 1)))", .warning))
        let start = max(0, offset / 16 * 16 - 16)
        for (label, bytes, role) in [("-", a, Role.error), ("+", b, Role.status2xx)] {
            let window = Array(bytes.dropFirst(start).prefix(48))
            let document = HexDocument(window)
            for row in 0..<document.lineCount {
                var line = document.line(row).plain
                line = HexDocument.hex(start + row * 16, digits: 8) + String(line.dropFirst(8))
                lines.append(StyledLine("  \(label) " + line, role))
            }
        }
        return lines
    }

    /// Lines of `text`; a final newline ends the last line rather than starting an empty one.
    static func split(_ text: String) -> [String] {
        var lines = TerminalText.lines(of: text).map(String.init)
        if text.hasSuffix("\n") { lines.removeLast() }
        return lines
    }

    /// A unified diff with two lines of context around each change; large inputs are cut.
    static func unified(_ a: [String], _ b: [String], context: Int = 2, limit: Int = 20_000) -> [StyledLine] {
        let left = Array(a.prefix(limit))
        let right = Array(b.prefix(limit))
        let difference = right.difference(from: left)
        var removed = Set<Int>()
        var inserted = Set<Int>()
        for change in difference {
            switch change {
            case .remove(let offset, _, _): removed.insert(offset)
            case .insert(let offset, _, _): inserted.insert(offset)
            }
        }
        // Walk both sides in step, emitting kept, removed and added lines.
        enum Mark { case same(String), removed(String), added(String) }
        var marks: [Mark] = []
        var i = 0
        var j = 0
        while i < left.count || j < right.count {
            if i < left.count && removed.contains(i) {
                marks.append(.removed(left[i])); i += 1
            } else if j < right.count && inserted.contains(j) {
                marks.append(.added(right[j])); j += 1
            } else if i < left.count && j < right.count {
                marks.append(.same(left[i])); i += 1; j += 1
            } else {
                break
            }
        }
        let changed = marks.indices.filter { if case .same = marks[$0] { return false } else { return true } }
        let shown = Set(changed.flatMap { max(0, $0 - context)...min(marks.count - 1, $0 + context) })
        var lines: [StyledLine] = []
        var previous = -1
        for index in shown.sorted() {
            if previous >= 0 && index > previous + 1 { lines.append(StyledLine("  …", .dim)) }
            previous = index
            switch marks[index] {
            case .same(let text): lines.append(StyledLine("    " + text, .dim))
            case .removed(let text): lines.append(StyledLine("  - " + text, .error))
            case .added(let text): lines.append(StyledLine("  + " + text, .status2xx))
            }
        }
        if a.count > limit || b.count > limit { lines.append(StyledLine("  (compared the first \(limit) lines)", .dim)) }
        return lines
    }
}
