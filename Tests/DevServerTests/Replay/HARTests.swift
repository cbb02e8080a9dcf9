@testable import DevServer
import Foundation
import XCTest

/// HAR 1.2 export and import.
final class HARTests: XCTestCase {
    private func recorder() -> Recorder {
        let recorder = Recorder()
        recorder.apply(.requestStarted(RequestStart(
            id: "1.1", generation: 2, client: "127.0.0.1:5", time: 1_795_255_200_123_000, method: "POST", target: "/api?page=2&q=a",
            version: "HTTP/1.1",
            headers: [HeaderField("Host", "127.0.0.1:8000"), HeaderField("Content-Type", "application/json"), HeaderField("Cookie", "sid=abc"), HeaderField("Content-Length", "9")],
            environ: CompactEnviron([EnvironEntry(key: Array("REQUEST_METHOD".utf8), value: Array("POST".utf8))]))))
        recorder.apply(.requestBody(id: "1.1", bytes: Array(#"{"a": 1}"#.utf8) + [10]))
        recorder.apply(.responseStarted(id: "1.1", status: "201 Created", headers: [HeaderField("Content-Type", "image/png")], replaced: false))
        recorder.apply(.headSent(id: "1.1", head: Array("HTTP/1.1 201 Created\r\nContent-Type: image/png\r\nContent-Length: 4\r\n\r\n".utf8)))
        recorder.apply(.chunk(id: "1.1", offset: 1500, size: 4, bytes: [0x89, 0x50, 0xFF, 0x00]))
        recorder.apply(.violation(id: "1.1", kind: "header-case", message: "something"))
        recorder.apply(.requestFinished(RequestSummary(
            id: "1.1", generation: 2, client: "127.0.0.1:5", method: "POST", target: "/", version: "HTTP/1.1",
            status: 201, bytes: 4, durationMicroseconds: 2500, outcome: "complete")))
        return recorder
    }

    func testTheExportHasEveryFieldHAR12RequiresAndDevservesExtras() throws {
        let json = try JSONSerialization.jsonObject(with: Data(HAR.export(recorder().snapshot()))) as! [String: Any]
        let log = json["log"] as! [String: Any]
        XCTAssertEqual(log["version"] as? String, "1.2")
        XCTAssertEqual((log["creator"] as? [String: Any])?["name"] as? String, "devserve")
        let entry = (log["entries"] as! [[String: Any]])[0]
        for key in ["startedDateTime", "time", "request", "response", "cache", "timings"] { XCTAssertNotNil(entry[key], key) }
        XCTAssertEqual(entry["startedDateTime"] as? String, "2026-11-21T10:00:00.123Z")
        let request = entry["request"] as! [String: Any]
        for key in ["method", "url", "httpVersion", "cookies", "headers", "queryString", "headersSize", "bodySize"] { XCTAssertNotNil(request[key], "request.\(key)") }
        XCTAssertEqual(request["url"] as? String, "http://127.0.0.1:8000/api?page=2&q=a")
        XCTAssertEqual((request["queryString"] as? [[String: String]])?.first, ["name": "page", "value": "2"])
        XCTAssertEqual((request["postData"] as? [String: Any])?["text"] as? String, "{\"a\": 1}\n")
        XCTAssertEqual((request["cookies"] as? [[String: String]])?.first?["name"], "sid")
        let response = entry["response"] as! [String: Any]
        for key in ["status", "statusText", "httpVersion", "cookies", "headers", "content", "redirectURL", "headersSize", "bodySize"] { XCTAssertNotNil(response[key], "response.\(key)") }
        XCTAssertEqual(response["status"] as? Int, 201)
        XCTAssertEqual(response["statusText"] as? String, "Created")
        let content = response["content"] as! [String: Any]
        XCTAssertEqual(content["encoding"] as? String, "base64", "a binary body is base64")
        XCTAssertEqual(content["text"] as? String, Data([0x89, 0x50, 0xFF, 0x00]).base64EncodedString())
        let timings = entry["timings"] as! [String: Any]
        for key in ["send", "wait", "receive"] { XCTAssertNotNil(timings[key], "timings.\(key)") }
        XCTAssertEqual(entry["_generation"] as? Int, 2)
        XCTAssertEqual(entry["_outcome"] as? String, "complete")
        XCTAssertEqual((entry["_chunks"] as? [[String: Any]])?.first?["offset"] as? Double, 1.5)
        XCTAssertEqual((entry["_environ"] as? [[String: String]])?.first, ["name": "REQUEST_METHOD", "value": "POST"])
        XCTAssertEqual((entry["_violations"] as? [[String: String]])?.first?["name"], "header-case")
    }

    func testSecretsAreMaskedInTheExportUnlessRevealed() {
        let masked = String(decoding: HAR.export(recorder().snapshot()), as: UTF8.self)
        XCTAssertFalse(masked.contains("sid=abc"))
        XCTAssertTrue(String(decoding: HAR.export(recorder().snapshot(), revealSecrets: true), as: UTF8.self).contains("sid=abc"))
    }

    func testOurExportImportsBackToTheSameRequest() throws {
        let records = recorder().snapshot()
        let imported = try HAR.requests(from: HAR.export(records, revealSecrets: true))
        XCTAssertEqual(imported.count, 1)
        XCTAssertEqual(imported[0].url, "http://127.0.0.1:8000/api?page=2&q=a")
        XCTAssertEqual(imported[0].request.method, "POST")
        XCTAssertEqual(imported[0].request.target, "/api?page=2&q=a")
        XCTAssertEqual(imported[0].request.body, Array(#"{"a": 1}"#.utf8) + [10])
        XCTAssertEqual(imported[0].request.header("Cookie"), "sid=abc")
        XCTAssertEqual(imported[0].request.header("Content-Length"), "9")
    }

    func testABrowsersHARImportsWithoutItsHTTP2PseudoHeaders() throws {
        let browser = #"""
        {"log": {"version": "1.2", "creator": {"name": "Firefox", "version": "140"}, "entries": [
          {"startedDateTime": "2026-11-21T10:00:00Z", "time": 5, "timings": {"send": 0, "wait": 5, "receive": 0},
           "request": {"method": "POST", "url": "http://localhost:8000/form", "httpVersion": "HTTP/2",
             "headers": [{"name": ":authority", "value": "localhost:8000"}, {"name": "content-length", "value": "999"}],
             "postData": {"mimeType": "application/x-www-form-urlencoded", "params": [{"name": "a", "value": "1"}, {"name": "b", "value": "2"}]}},
           "response": {"status": 200, "statusText": "OK", "httpVersion": "HTTP/2", "headers": [], "content": {"size": 0, "mimeType": ""}}}
        ]}}
        """#
        let imported = try HAR.requests(from: Array(browser.utf8))
        let request = imported[0].request
        XCTAssertEqual(request.version, "HTTP/1.1")
        XCTAssertEqual(request.headers, [HeaderField("Host", "localhost:8000"), HeaderField("Content-Type", "application/x-www-form-urlencoded"), HeaderField("Content-Length", "7")])
        XCTAssertEqual(String(decoding: request.body, as: UTF8.self), "a=1&b=2")
    }

    func testAFileThatIsNotHARIsAClearError() {
        XCTAssertThrowsError(try HAR.requests(from: Array("{\"entries\": []}".utf8))) { XCTAssertTrue("\($0)".hasPrefix("not a HAR file")) }
    }
}
