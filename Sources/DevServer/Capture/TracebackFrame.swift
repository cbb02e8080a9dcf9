/// One frame of the exception an application raised (a Python traceback's entry): where, and
/// in what function, innermost last.
public struct TracebackFrame: Sendable, Codable, Equatable {
    public var file: String
    public var line: Int
    public var function: String

    public init(file: String, line: Int, function: String) {
        self.file = file
        self.line = line
        self.function = function
    }

    /// The text a bridge sends (devserve.h `application_traceback`): "FILE\tLINE\tFUNCTION\n"
    /// lines, escaped as ``ApplicationEnviron`` escapes.
    public static func frames(_ lines: String) -> [TracebackFrame] {
        lines.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: "\t", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3, let number = Int(parts[1]) else { return nil }
            return TracebackFrame(file: ApplicationEnviron.unescape(parts[0]), line: number, function: ApplicationEnviron.unescape(parts[2]))
        }
    }

    /// Frames as that text (the journal stores frames).
    public static func lines(_ frames: [TracebackFrame]) -> String {
        frames.map { ApplicationEnviron.escape($0.file) + "\t\($0.line)\t" + ApplicationEnviron.escape($0.function) + "\n" }.joined()
    }
}
