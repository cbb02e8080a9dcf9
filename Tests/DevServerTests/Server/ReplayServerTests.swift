import DevServer
import Foundation
import XCTest

/// Issue 7 through the real binary: replay, export, replay of a HAR file, the journal.
final class ReplayServerTests: XCTestCase {
    private var directory: String!

    override func setUpWithError() throws {
        directory = try makeScratchDirectory("replay")
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    private func postToEcho(_ server: DevServeProcess) throws -> RawResponse {
        let client = try RawClient(port: server.port)
        try client.send("POST /p/q?x=1 HTTP/1.1\r\nHost: t\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nX-Extra: a  b\r\nAuthorization: Bearer real-token\r\n\r\nhello")
        let response = client.readResponse()
        Thread.sleep(forTimeInterval: 0.2)
        return response
    }

    func testAReplayReachesTheApplicationWithTheSameEnvironAndBody() throws {
        let server = try DevServeProcess(plugin: "echo")
        _ = try postToEcho(server)
        let (status, output) = try runDevServe(["replay", "1", "--port", String(server.port)])
        XCTAssertEqual(status, 0, output)
        XCTAssertTrue(output.contains("#1 replayed as #2: 200 OK in"), output)
        let entries = try devserveJSON([RecordJSON.Summary].self, ["ls"], port: server.port)
        XCTAssertEqual(entries.map(\.replayOf), [nil, 1], "the new entry is linked to its original")
        let original = try devserveJSON(RecordJSON.Full.self, ["show", "1", "--show-secrets"], port: server.port)
        let replay = try devserveJSON(RecordJSON.Full.self, ["show", "2", "--show-secrets"], port: server.port)
        let varying: Set<String> = ["REMOTE_PORT", "devserve.request_id"]
        XCTAssertEqual(original.environ.filter { !varying.contains($0.name) }, replay.environ.filter { !varying.contains($0.name) })
        XCTAssertEqual(replay.requestBody.text, "hello")
        XCTAssertEqual(replay.requestHeaders, original.requestHeaders, "the same headers, with nothing added")
        XCTAssertTrue(replay.environ.contains(HeaderField("HTTP_AUTHORIZATION", "Bearer real-token")), "replay sends the real credentials")
        let masked = try devserveJSON(RecordJSON.Full.self, ["show", "2"], port: server.port)
        XCTAssertFalse(masked.requestHeaders.contains { $0.value.contains("real-token") }, "show masks them")
    }

    func testReplayingAnEvictedEntryIsAClearError() throws {
        let server = try DevServeProcess(plugin: "hello")
        let (status, output) = try runDevServe(["replay", "42", "--port", String(server.port)])
        XCTAssertEqual(status, 1)
        XCTAssertTrue(output.contains("#42 not replayed: no captured request #42"), output)
    }

    func testAnExportedHARIsReplayedToAServerByReplayHar() throws {
        let server = try DevServeProcess(plugin: "echo")
        _ = try postToEcho(server)
        let file = directory + "/capture.har"
        let (status, output) = try runDevServe(["export", "--har", "-o", file, "--show-secrets", "--port", String(server.port)])
        XCTAssertEqual(status, 0, output)
        let other = try DevServeProcess(plugin: "echo")
        let (replayed, printed) = try runDevServe(["replay", "--har", file, "--to", "http://127.0.0.1:\(other.port)"])
        XCTAssertEqual(replayed, 0, printed)
        XCTAssertTrue(printed.contains("1 POST /p/q?x=1 -> 200 OK in"), printed)
        Thread.sleep(forTimeInterval: 0.2)
        let received = try devserveJSON(RecordJSON.Full.self, ["show", "1", "--show-secrets"], port: other.port)
        XCTAssertEqual(received.requestBody.text, "hello")
        XCTAssertTrue(received.environ.contains(HeaderField("HTTP_X_EXTRA", "a  b")))
        let (missing, message) = try runDevServe(["replay", "--har", file, "--entry", "5", "--to", "http://127.0.0.1:\(other.port)"])
        XCTAssertEqual(missing, 1)
        XCTAssertTrue(message.contains("has 1 entries: no entry 5"), message)
    }

    func testTheCurlExportRunReproducesTheResponse() throws {
        let server = try DevServeProcess(plugin: "router")
        let client = try RawClient(port: server.port)
        try client.send("GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/plain\r\n\r\n")
        let original = client.readResponse()
        Thread.sleep(forTimeInterval: 0.2)
        let (status, command) = try runDevServe(["export", "--curl", "1", "--port", String(server.port)])
        XCTAssertEqual(status, 0, command)
        XCTAssertTrue(command.hasPrefix("curl -i --http1.1"), command)
        let (ran, output) = try runProcess("/bin/sh", ["-c", command.replacing("curl -i", with: "curl -s")])
        XCTAssertEqual(ran, 0, output)
        XCTAssertEqual(output, original.bodyText)
        let (rawStatus, raw) = try runDevServe(["export", "--raw", "1", "--port", String(server.port)])
        XCTAssertEqual(rawStatus, 0, raw)
        XCTAssertEqual(raw, "GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/plain\r\n\r\n", "the request as sent, byte for byte, nothing added")
    }

    func testAJournalThatCannotBeWrittenIsAClearErrorAtStart() throws {
        let path = directory + "/missing-directory/history.jsonl"
        let (status, output) = try runDevServe([Plugins.path("hello"), "--port", "0", "--no-tui", "--journal", path])
        XCTAssertEqual(status, 1, output)
        XCTAssertTrue(output.contains("--journal \(path): cannot write"), output)
        let (refused, message) = try runDevServe([Plugins.path("hello"), "--port", "0", "--no-capture", "--journal", path])
        XCTAssertNotEqual(refused, 0)
        XCTAssertTrue(message.contains("--journal keeps captured requests: it cannot go with --no-capture"), message)
    }

    func testTheJournalKeepsTheHistoryAcrossARestart() throws {
        let journal = directory + "/history.jsonl"
        let first = try DevServeProcess(plugin: "echo", arguments: ["--journal", journal])
        _ = try postToEcho(first)
        XCTAssertEqual(first.stop(), 0)
        let second = try DevServeProcess(plugin: "echo", arguments: ["--journal", journal])
        XCTAssertTrue(second.log.contains("journal \(journal): 1 request loaded"), second.log)
        let entries = try devserveJSON([RecordJSON.Summary].self, ["ls"], port: second.port)
        XCTAssertEqual(entries.map(\.target), ["/p/q?x=1"])
        let restored = try devserveJSON(RecordJSON.Full.self, ["show", "1"], port: second.port)
        XCTAssertEqual(restored.requestBody.text, "hello")
        let (status, output) = try runDevServe(["replay", "1", "--port", String(second.port)])
        XCTAssertEqual(status, 0, "a restored entry replays: \(output)")
    }
}

/// Runs a program to completion. - Returns: status and standard output.
func runProcess(_ path: String, _ arguments: [String], timeout: TimeInterval = 20) throws -> (Int32, String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    let deadline = Date().addingTimeInterval(timeout)
    while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
    if process.isRunning { process.terminate() }
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}
