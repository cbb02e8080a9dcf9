/// Lines to show in a scrolling pane, produced on demand: a 100 MB body opens at once because
/// only the lines on screen are ever formatted.
public protocol Document: AnyObject {
    var lineCount: Int { get }
    func line(_ index: Int) -> StyledLine
    /// Every line containing `needle` (case-insensitive), in order: search covers the whole
    /// document, not only what is drawn.
    func lines(containing needle: String) -> [Int]
}

extension Document {
    public func lines(containing needle: String) -> [Int] {
        let folded = needle.lowercased()
        guard !folded.isEmpty else { return [] }
        return (0..<lineCount).filter { line($0).plain.lowercased().contains(folded) }
    }
}

/// A document of lines made up front (headers, environ, small texts).
public final class LinesDocument: Document {
    public let lines: [StyledLine]

    public init(_ lines: [StyledLine]) { self.lines = lines }

    public var lineCount: Int { lines.count }

    public func line(_ index: Int) -> StyledLine { lines[index] }
}

/// Documents one after another (a tab's headers, then its body).
public final class ConcatenatedDocument: Document {
    public let parts: [Document]
    private let starts: [Int]
    public let lineCount: Int

    public init(_ parts: [Document]) {
        self.parts = parts
        var starts: [Int] = []
        var total = 0
        for part in parts {
            starts.append(total)
            total += part.lineCount
        }
        self.starts = starts
        self.lineCount = total
    }

    public func line(_ index: Int) -> StyledLine {
        let part = starts.partitioningIndex { $0 > index } - 1
        return parts[part].line(index - starts[part])
    }

    public func lines(containing needle: String) -> [Int] {
        zip(parts, starts).flatMap { part, start in part.lines(containing: needle).map { $0 + start } }
    }
}
