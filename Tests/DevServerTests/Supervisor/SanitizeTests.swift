@testable import DevServer
import XCTest

/// Untrusted text on the terminal: escapes made visible, clean text passed through untouched.
final class SanitizeTests: XCTestCase {
    func testControlCharactersDelAndC1AreShownAsEscapesAndTabsAsSpaces() {
        XCTAssertEqual(Sanitize.line("/a\u{1B}[2Jb\u{7F}c\u{9B}d\te"), "/a\\x1b[2Jb\\x7fc\\x9bd e")
    }

    func testCleanTextIncludingNonASCIIComesBackUnchanged() {
        for text in ["/path?q=1", "/café/ünïcode", "/€ and 😀", "", "/\u{A0}nbsp"] {
            XCTAssertEqual(Sanitize.line(text), text)
            XCTAssertTrue(Sanitize.isClean(text), text)
        }
        XCTAssertFalse(Sanitize.isClean("/x\u{85}"), "NEL (U+0085, a C1 control) is not clean")
    }
}
