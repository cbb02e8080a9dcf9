@testable import DevServer
import XCTest

/// Issue 13: wsgi.input readline and readlines over bodies larger than every internal buffer,
/// however the body arrives.
final class InputLineTests: XCTestCase {
    /// Delivers a body in pieces of one size, as a network would.
    private final class PiecewiseSource: RequestBodySource {
        private let bytes: [UInt8]
        private let piece: Int
        private var offset = 0
        init(_ bytes: [UInt8], piece: Int) {
            self.bytes = bytes
            self.piece = piece
        }
        func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
            let count = min(bytes.count - offset, piece, buffer.count)
            bytes.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[offset..<(offset + count)])) }
            offset += count
            return count
        }
    }

    /// 100 KB and more of lines of many lengths (one longer than 64 KiB), the last without "\n".
    private static let lines: [[UInt8]] = {
        var lines: [[UInt8]] = []
        for index in 0..<400 { lines.append(Array(repeating: UInt8(97 + index % 26), count: (index * 37) % 500) + [10]) }
        lines.append(Array(repeating: UInt8(ascii: "L"), count: 70_000) + [10])
        lines.append(Array("a last line with no newline".utf8))
        return lines
    }()

    func testReadlineReturnsEveryLineWhateverThePiecesTheBodyArrivesIn() throws {
        let body = Self.lines.flatMap { $0 }
        for piece in [1, 2, 3, 7, 1000, 16 * 1024 - 1, 64 * 1024, 64 * 1024 + 1, body.count] {
            for contentLength in [body.count, nil] as [Int?] {
                let stream = RequestInputStream(source: PiecewiseSource(body, piece: piece), contentLength: contentLength)
                var read: [[UInt8]] = []
                while true {
                    let line = try stream.readLine(limit: Int.max)
                    if line.isEmpty { break }
                    read.append(line)
                }
                XCTAssertEqual(read.count, Self.lines.count, "pieces of \(piece), length \(String(describing: contentLength))")
                XCTAssertTrue(read == Self.lines, "pieces of \(piece): the lines come back exactly")
            }
        }
    }

    func testReadlinesAndALimitedReadlineSplitAtEveryBoundary() throws {
        let body = Self.lines.flatMap { $0 }
        for piece in [1, 5, 4096, 70_001] {
            let stream = RequestInputStream(source: PiecewiseSource(body, piece: piece), contentLength: body.count)
            var collected: [UInt8] = []
            // A limit smaller than most lines: pieces of lines, never more than the limit.
            for _ in 0..<50 {
                let part = try stream.readLine(limit: 33)
                XCTAssertLessThanOrEqual(part.count, 33)
                collected += part
            }
            var rest: [[UInt8]] = []
            try stream.readLines(hint: 0) { rest.append($0) }
            collected += rest.flatMap { $0 }
            XCTAssertEqual(collected.count, body.count, "pieces of \(piece)")
            XCTAssertTrue(collected == body)
        }
    }

    func testReadIntoTheApplicationsBufferGivesWhatReadlineLeftThenTheRestAndNothingPastContentLength() throws {
        let body = Self.lines.flatMap { $0 }
        for piece in [1, 4096, 70_001] {
            // The source holds more than CONTENT_LENGTH: the stream must stop at it.
            let stream = RequestInputStream(source: PiecewiseSource(body + Array("EXTRA".utf8), piece: piece), contentLength: body.count)
            var collected = try stream.readLine(limit: 10)
            var buffer = [UInt8](repeating: 0, count: 5000)
            while true {
                let count = try buffer.withUnsafeMutableBytes { try stream.read(into: $0) }
                if count == 0 { break }
                XCTAssertLessThanOrEqual(count, buffer.count)
                collected += buffer[0..<count]
            }
            XCTAssertEqual(collected.count, body.count, "pieces of \(piece)")
            XCTAssertTrue(collected == body, "pieces of \(piece): the bytes come back exactly, in order")
            XCTAssertEqual(try buffer.withUnsafeMutableBytes { try stream.read(into: $0) }, 0, "end of stream stays the end")
        }
    }
}
