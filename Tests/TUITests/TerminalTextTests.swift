@testable import TUI
import XCTest

/// Request text is sanitized before it reaches the terminal.
final class TerminalTextTests: XCTestCase {
    func testControlBytesAndEscapeSequencesAreShownNotObeyed() {
        var screen = ScreenBuffer(width: 30, height: 1)
        screen.write("/a\u{1B}[2J\u{7}b\r\n", row: 0, column: 0)
        XCTAssertEqual(screen.text, "/a^[[2J^Gb^M^J")
        XCTAssertEqual(screen.roleMap.prefix(4), "..xx", "shown as escapes")
    }

    func testC1ControlsAndDeleteAreEscaped() {
        var screen = ScreenBuffer(width: 30, height: 1)
        screen.write("a\u{9B}b\u{7F}", row: 0, column: 0)
        XCTAssertEqual(screen.text, "a\\x9bb^?")
    }

    func testWideCharactersTakeTwoColumnsAndEmojiSequencesBecomeReplacementCharacters() {
        XCTAssertEqual(TerminalText.width("日本"), 4)
        XCTAssertEqual(TerminalText.width("é"), 1, "a letter with a combining accent is one column")
        let family = "👨‍👩‍👧"
        XCTAssertEqual(TerminalText.pieces(family).map(\.text), ["\u{FFFD}"], "a ZWJ sequence's width differs between terminals")
        XCTAssertEqual(TerminalText.pieces("🇫🇷").map(\.text), ["\u{FFFD}"], "so does a flag")
        var screen = ScreenBuffer(width: 10, height: 1)
        let end = screen.write("日本x", row: 0, column: 0)
        XCTAssertEqual(end, 5)
        XCTAssertEqual(screen.text, "日本x")
    }

    func testTextTooLongIsClippedWithAnEllipsisWithinItsColumn() {
        var screen = ScreenBuffer(width: 20, height: 1)
        screen.write("/a/very/long/path/indeed", row: 0, column: 2, limit: 10)
        XCTAssertEqual(screen.text, "  /a/very/l…")
        var wide = ScreenBuffer(width: 20, height: 1)
        wide.write("日本語です", row: 0, column: 0, limit: 6)
        XCTAssertEqual(wide.text, "日本…", "a wide character never straddles the limit")
    }

    func testTheScreenDrawsAtAnySizeAndSaysWhenTooSmall() {
        let app = InspectorApp(environment: .init(source: Traffic.mixed().recorder))
        XCTAssertEqual(app.render(width: 15, height: 4, now: Traffic.now).text.split(separator: "\n").first, "devserve: wind…")
        for (width, height) in [(80, 24), (200, 60), (40, 10)] {
            let screen = app.render(width: width, height: height, now: Traffic.now)
            XCTAssertEqual(screen.text.split(separator: "\n", omittingEmptySubsequences: false).count, height)
            XCTAssertTrue(screen.text.split(separator: "\n").allSatisfy { TerminalText.width($0) <= width })
        }
    }

    func testMonochromeUsesAttributesOnlyAndKeepsRolesApart() {
        let palette = Palette(colour: false)
        for role in Role.allCases {
            XCTAssertEqual(palette.style(role).foreground, .terminalDefault)
            XCTAssertEqual(palette.style(role).background, .terminalDefault)
        }
        XCTAssertTrue(palette.style(.selection).attributes.contains(.reverse), "the selection shows without colour")
        XCTAssertTrue(palette.style(.status5xx).attributes.contains(.bold))
        XCTAssertNotEqual(palette.style(.status5xx), palette.style(.status2xx))
        let coloured = Palette(colour: true)
        XCTAssertNotEqual(coloured.style(.status5xx).foreground, coloured.style(.status2xx).foreground)
    }
}

final class ByteDisplayTests: XCTestCase {
    func testBytesThatAreNotUTF8AreShownAsEscapesNotReplacementCharacters() {
        XCTAssertEqual(TerminalText.display(bytes: Array("caf".utf8) + [0xE9, 0xFF]), "caf\\xE9\\xFF")
        XCTAssertEqual(TerminalText.display(bytes: Array("café ok".utf8)), "café ok", "valid UTF-8 as it is")
        XCTAssertEqual(TerminalText.display(bytes: [0x41, 0xC3, 0xA9, 0x80, 0x42]), "Aé\\x80B")
    }

    func testCRLFEndsALineLikeLF() {
        XCTAssertEqual(TerminalText.lines(of: "a\r\nb\nc").map(String.init), ["a", "b", "c"])
    }
}

@testable import DevServer

final class RequestHeaderBytesTests: XCTestCase {
    func testHeaderBytesThatAreNotUTF8ShowAsEscapesInTheRequestTab() {
        let recorder = Recorder()
        let environ = CompactEnviron([EnvironEntry(key: Array("HTTP_X_NAME".utf8), value: Array("caf".utf8) + [0xE9, 0xFF])])
        recorder.apply(.requestStarted(RequestStart(
            id: "1.1", generation: 1, client: "127.0.0.1:1", time: 0, method: "GET", target: "/", version: "HTTP/1.1",
            headers: [HeaderField("X-Name", "caf\u{FFFD}\u{FFFD}")], environ: environ)))
        guard let record = recorder.snapshot().first else { return XCTFail("no record") }
        let document = RecordDocuments.document(record, tab: .request, mode: .auto, responseBody: [], now: 0, utcOffset: 0)
        let text = (0..<document.lineCount).map { document.line($0).plain }.joined(separator: "\n")
        XCTAssertTrue(text.contains("X-Name: caf\\xE9\\xFF"), text)
        XCTAssertFalse(text.contains("\u{FFFD}"), text)
    }
}
