import DevServer
import XCTest

final class ApplicationEnvironTests: XCTestCase {
    func testEntriesSurviveTheLineFormatWhateverTheirCharacters() {
        let entries = [HeaderField("wsgi.input", "<devserve_bridge.Input object>"), HeaderField("odd\tkey", "line\nbreak and a \\ backslash"), HeaderField("REQUEST_URI", "(removed)")]
        let lines = ApplicationEnviron.lines(entries)
        XCTAssertEqual(lines.split(separator: "\n").count, 3, "one line per entry: \(lines)")
        XCTAssertEqual(ApplicationEnviron.entries(lines), entries)
    }
}
