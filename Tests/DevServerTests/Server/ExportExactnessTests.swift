import DevServer
import Foundation
import XCTest

/// Issue 13, "What the record says": exports that say what they left out, and JSON as jq
/// writes it.
final class ExportExactnessTests: XCTestCase {
    private var directory: String!

    override func setUpWithError() throws {
        directory = try makeScratchDirectory("export")
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    private func post(_ server: DevServeProcess, body: String) throws {
        let client = try RawClient(port: server.port)
        try client.send("POST /p/q?x=1 HTTP/1.1\r\nHost: t\r\nContent-Type: text/plain\r\nContent-Length: \(body.utf8.count)\r\nAuthorization: Bearer real-token\r\n\r\n\(body)")
        _ = client.readResponse()
        Thread.sleep(forTimeInterval: 0.2)
    }

    func testEveryByteValueSurvivesTheRawExportTheCurlExportAndAReplay() throws {
        let server = try DevServeProcess(plugin: "echo")
        let body = (0...255).map { UInt8($0) } + (0...255).reversed().map { UInt8($0) }
        let client = try RawClient(port: server.port)
        try client.send(Array("POST /bytes HTTP/1.1\r\nHost: t\r\nContent-Type: application/octet-stream\r\nContent-Length: \(body.count)\r\n\r\n".utf8) + body)
        _ = client.readResponse()
        Thread.sleep(forTimeInterval: 0.2)
        // Raw: the bytes.
        let raw = directory + "/request.http"
        XCTAssertEqual(try runDevServe(["export", "--raw", "1", "-o", raw, "--port", String(server.port)]).status, 0)
        let exported = Array(try Data(contentsOf: URL(fileURLWithPath: raw)))
        XCTAssertTrue(exported.count >= body.count && Array(exported.suffix(body.count)) == body, "the raw export ends with the body, byte for byte")
        // curl: run by sh, it sends the same bytes.
        let curl = directory + "/request.sh"
        XCTAssertEqual(try runDevServe(["export", "--curl", "1", "-o", curl, "--port", String(server.port)]).status, 0)
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/sh")
        shell.arguments = [curl]
        shell.standardOutput = FileHandle.nullDevice
        try shell.run()
        shell.waitUntilExit()
        XCTAssertEqual(shell.terminationStatus, 0)
        // A replay too.
        XCTAssertEqual(try runDevServe(["replay", "1", "--port", String(server.port)]).status, 0)
        Thread.sleep(forTimeInterval: 0.3)
        let entries = try devserveJSON([RecordJSON.Summary].self, ["ls"], port: server.port)
        XCTAssertEqual(entries.count, 3, "the original, the curl run and the replay")
        for entry in entries.dropFirst() {
            let record = try devserveJSON(RecordJSON.Full.self, ["show", String(entry.id)], port: server.port)
            XCTAssertTrue(record.requestBody.bytes == body, "#\(entry.id) received every byte value")
        }
    }

    func testShowJSONDoesNotEscapeSlashes() throws {
        let server = try DevServeProcess(plugin: "echo")
        try post(server, body: "hello")
        let (status, output) = try runDevServe(["show", "1", "--json", "--port", String(server.port)])
        XCTAssertEqual(status, 0, output)
        XCTAssertTrue(output.contains("\"/p/q?x=1\""), output)
        XCTAssertFalse(output.contains("\\/"), "written as jq and Python write JSON")
    }

    func testABodyCutByMaxBodyIsMarkedInTheHAR() throws {
        let server = try DevServeProcess(plugin: "echo", arguments: ["--max-body", "8"])
        try post(server, body: "0123456789abcdef")
        let file = directory + "/cut.har"
        let (status, output) = try runDevServe(["export", "--har", "-o", file, "--port", String(server.port)])
        XCTAssertEqual(status, 0, output)
        let har = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: file))) as? [String: Any])
        let entry = try XCTUnwrap(((har["log"] as? [String: Any])?["entries"] as? [[String: Any]])?.first)
        let postData = try XCTUnwrap((entry["request"] as? [String: Any])?["postData"] as? [String: Any])
        XCTAssertEqual(postData["_truncated"] as? Int, 8)
        XCTAssertEqual(postData["comment"] as? String, "truncated by devserve --max-body: 8 of 16 bytes kept")
        let content = try XCTUnwrap((entry["response"] as? [String: Any])?["content"] as? [String: Any])
        XCTAssertNotNil(content["_truncated"], "the echoed response was cut too")
    }

    func testReplayingAHARWithMaskedCredentialsIsRefusedUnlessAllowed() throws {
        let server = try DevServeProcess(plugin: "echo")
        try post(server, body: "hello")
        let file = directory + "/masked.har"
        _ = try runDevServe(["export", "--har", "-o", file, "--port", String(server.port)])
        let (refused, message) = try runDevServe(["replay", "--har", file, "--to", "http://127.0.0.1:\(server.port)"])
        XCTAssertEqual(refused, 1)
        XCTAssertTrue(message.contains("carry masked credentials"), message)
        XCTAssertEqual(try devserveJSON([RecordJSON.Summary].self, ["ls"], port: server.port).count, 1, "nothing was sent")
        let (allowed, warning) = try runDevServe(["replay", "--har", file, "--to", "http://127.0.0.1:\(server.port)", "--allow-masked"])
        XCTAssertEqual(allowed, 0, warning)
        XCTAssertTrue(warning.contains("warning:") && warning.contains("--allow-masked"), warning)
    }
}
