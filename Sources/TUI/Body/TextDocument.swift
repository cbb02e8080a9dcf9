import DevServer
#if canImport(Glibc)
import Glibc
#endif

/// Bytes shown as UTF-8 text, one line per newline. Line starts are indexed once (a memchr-speed
/// scan); lines are decoded only when drawn; search scans the bytes.
public final class TextDocument: Document {
    /// Bytes of one line decoded for display; horizontal scrolling reaches this far.
    static let maxLineBytes = 4096
    public let bytes: [UInt8]
    private var starts: [Int] = [0]

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
        bytes.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            var offset = 0
            while offset < buffer.count, let found = memchr(base + offset, 10, buffer.count - offset) {
                let index = UnsafeRawPointer(found) - UnsafeRawPointer(base)
                if index + 1 < buffer.count { starts.append(index + 1) }
                offset = index + 1
            }
        }
    }

    public var lineCount: Int { bytes.isEmpty ? 0 : starts.count }

    public func line(_ index: Int) -> StyledLine {
        let start = starts[index]
        var end = index + 1 < starts.count ? starts[index + 1] - 1 : bytes.count
        // The last line's own newline (a body ending in "\n") ends it; it is not drawn as ^J.
        if index + 1 == starts.count && end > start && bytes[end - 1] == 10 { end -= 1 }
        if end > start && bytes[end - 1] == 13 { end -= 1 }
        let clipped = min(end, start + Self.maxLineBytes)
        return StyledLine(String(decoding: bytes[start..<clipped], as: UTF8.self))
    }

    /// The line holding byte `offset`.
    func lineIndex(ofOffset offset: Int) -> Int { starts.partitioningIndex { $0 > offset } - 1 }

    public func lines(containing needle: String) -> [Int] {
        var found: [Int] = []
        for offset in ByteSearch.offsets(of: Array(needle.lowercased().utf8), in: bytes, foldCase: true) {
            let line = lineIndex(ofOffset: offset)
            if found.last != line { found.append(line) }
        }
        return found
    }
}
