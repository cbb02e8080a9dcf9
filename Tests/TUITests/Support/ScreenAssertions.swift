import Foundation
import TUI
import XCTest

/// Compares a rendered screen with `Screens/NAME.txt`. With DEVSERVE_RECORD_SCREENS=1 (or
/// when the file does not exist yet) the file is written and the test fails, asking for review.
func assertScreen(_ buffer: ScreenBuffer, matches name: String, file: StaticString = #filePath, line: UInt = #line) {
    let directory = URL(fileURLWithPath: "\(#filePath)").deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Screens")
    let url = directory.appendingPathComponent("\(name).txt")
    let actual = buffer.text + "\n"
    let record = ProcessInfo.processInfo.environment["DEVSERVE_RECORD_SCREENS"] == "1"
    guard !record, let expected = try? String(contentsOf: url, encoding: .utf8) else {
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try? actual.write(to: url, atomically: true, encoding: .utf8)
        XCTFail("recorded \(url.path): review it and run again", file: file, line: line)
        return
    }
    if expected != actual {
        XCTFail("screen differs from \(name).txt\n--- expected\n\(expected)--- actual\n\(actual)", file: file, line: line)
    }
}

/// The row of `buffer` containing `text`, if any.
func row(of text: String, in buffer: ScreenBuffer) -> Int? {
    buffer.text.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains(text) }
}
