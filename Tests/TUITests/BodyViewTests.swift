@testable import TUI
import XCTest

/// Body views: JSON, form, multipart, gzip, hex, lazy paging and search over large bodies.
final class BodyViewTests: XCTestCase {
    private func text(_ document: Document) -> [String] { (0..<document.lineCount).map { document.line($0).plain } }

    func testJSONIsReindentedKeepingKeyOrderAndNumbersAsWritten() {
        let lines = JSONPretty.lines(Array(#"{"b":1.50,"a":[true,null,{}],"c":"x,y"}"#.utf8))!.map(\.plain)
        XCTAssertEqual(lines, ["{", #"  "b": 1.50,"#, #"  "a": ["#, "    true,", "    null,", "    {}", "  ],", #"  "c": "x,y""#, "}"])
    }

    func testInvalidJSONFallsBackToTextAndSaysSo() {
        let document = BodyPresenter.document(.init(bytes: Array(#"{"a": tru"#.utf8), total: 9, contentType: "application/json"), mode: .auto)
        XCTAssertTrue(text(document).contains("not valid JSON: shown as text"))
        XCTAssertTrue(text(document).contains(#"{"a": tru"#))
    }

    func testFormBodiesAreDecodedIntoFields() {
        let lines = text(LinesDocument(FormFields.lines(Array("name=Ada+Lovelace&note=50%25+off&empty=".utf8))))
        XCTAssertEqual(lines, ["name  = Ada Lovelace", "note  = 50% off", "empty = "])
    }

    func testMultipartBodiesAreSummarisedPartByPart() {
        let body = "--XyZ\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nHello\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n\u{89}PNG\r\n--XyZ--\r\n"
        let lines = text(LinesDocument(MultipartSummary.lines(Array(body.utf8), contentType: "multipart/form-data; boundary=XyZ")!))
        XCTAssertEqual(lines[0], "2 parts, boundary XyZ")
        XCTAssertEqual(lines[1], "part 1  name=title  5 bytes")
        XCTAssertEqual(lines[2], "    Hello")
        XCTAssertEqual(lines[3], "part 2  name=file  filename=a.png  image/png  5 bytes")
        XCTAssertEqual(lines[4], "    (binary)")
    }

    func testGzipBodiesAreShownDecoded() {
        let gzip: [UInt8] = [31, 139, 8, 0, 0, 0, 0, 0, 2, 3, 171, 86, 74, 206, 207, 45, 40, 74, 45, 46, 78, 77, 81, 178, 82, 40, 41, 42, 77, 213, 81, 80, 202, 44, 73, 205, 45, 6, 114, 163, 13, 117, 20, 140, 116, 20, 140, 99, 107, 1, 233, 151, 244, 132, 40, 0, 0, 0]
        let document = BodyPresenter.document(.init(bytes: gzip, total: gzip.count, contentType: "application/json", contentEncoding: "gzip"), mode: .auto)
        let lines = text(document)
        XCTAssertTrue(lines[0].contains("gzip-decoded to 40 bytes"), lines[0])
        XCTAssertTrue(lines.contains(#"  "compressed": true,"#), "\(lines)")
        let hex = text(BodyPresenter.document(.init(bytes: gzip, total: gzip.count, contentType: "application/json", contentEncoding: "gzip"), mode: .hex))
        XCTAssertTrue(hex[1].hasPrefix("00000000  1f 8b 08"), "hex shows the bytes as sent")
    }

    func testAutoPicksHexForBinaryAndTextForText() {
        XCTAssertEqual(BodyPresenter.automatic(type: "", bytes: [0, 1, 2, 255]), .hex)
        XCTAssertEqual(BodyPresenter.automatic(type: "", bytes: Array("plain words\n".utf8)), .text)
        XCTAssertEqual(BodyPresenter.automatic(type: "application/problem+json", bytes: []), .json)
        XCTAssertEqual(BodyPresenter.automatic(type: "multipart/form-data; boundary=x", bytes: []), .multipart)
    }

    func testAKeptPrefixSaysHowMuchWasNotKept() {
        let document = BodyPresenter.document(.init(bytes: Array("abc".utf8), total: 10, contentType: "text/plain"), mode: .auto)
        XCTAssertEqual(document.line(0).plain, "Body 10 bytes (7 not kept: --max-body) · text (auto)")
    }

    func testA100MegabyteBodyPagesLazilyAndSearchCoversAllOfIt() {
        var bytes = [UInt8](repeating: UInt8(ascii: "x"), count: 100 << 20)
        for index in stride(from: 99, to: bytes.count, by: 100) { bytes[index] = 10 }
        let marker = Array("FOUND-ME".utf8)
        let position = 90 << 20
        bytes.replaceSubrange(position..<position + marker.count, with: marker)
        let document = TextDocument(bytes)
        XCTAssertEqual(document.lineCount, bytes.count / 100 + (bytes.count % 100 == 0 ? 0 : 1))
        XCTAssertEqual(document.line(position / 100).plain.contains("FOUND-ME"), true)
        XCTAssertEqual(document.lines(containing: "found-me"), [position / 100], "case-insensitive, past what any screen shows")
        let hex = HexDocument(bytes)
        XCTAssertEqual(hex.lineCount, bytes.count / 16)
        XCTAssertTrue(hex.line(hex.lineCount - 1).plain.hasPrefix("063ffff0  "))
    }

    func testHexSearchFindsByteSequences() {
        let document = HexDocument(Array(0...255))
        XCTAssertEqual(document.lines(containing: "ff"), [15])
        XCTAssertEqual(document.lines(containing: "10 11"), [1])
    }
}

final class TextLineEndTests: XCTestCase {
    func testATrailingNewlineEndsTheLastLineAndIsNotDrawn() {
        let document = TextDocument(Array("first\r\nlast\n".utf8))
        XCTAssertEqual(document.lineCount, 2)
        XCTAssertEqual(document.line(0).plain, "first")
        XCTAssertEqual(document.line(1).plain, "last", "no ^J")
    }
}
