import DevServer
import Foundation
import XCTest

/// Issue 4 through the real binary: what `devserve ls` and `devserve show` report.
final class CaptureTests: XCTestCase {
    func testAStreamedResponsesChunksAreVisibleWhileItIsStillRunning() throws {
        let server = try DevServeProcess(plugin: "stream")
        let client = try RawClient(port: server.port)
        try client.send("GET /?n=4&size=10&delay_ms=400 HTTP/1.1\r\nHost: t\r\n\r\n")
        _ = client.read(until: { $0.text.contains("chunk 2") }, timeout: 5)
        let entries = try devserveJSON([RecordJSON.Summary].self, ["ls"], port: server.port)
        let id = try XCTUnwrap(entries.last?.id)
        var record = try devserveJSON(RecordJSON.Full.self, ["show", String(id)], port: server.port)
        XCTAssertEqual(record.summary.outcome, "in-flight", "the response is still running")
        XCTAssertGreaterThanOrEqual(record.chunks.count, 2)
        XCTAssertLessThan(record.chunks.count, 4)
        _ = client.read(until: { $0.text.contains("0\r\n\r\n") }, timeout: 5)
        Thread.sleep(forTimeInterval: 0.2)
        record = try devserveJSON(RecordJSON.Full.self, ["show", String(id)], port: server.port)
        XCTAssertEqual(record.summary.outcome, "complete")
        let offsets = record.chunks.map(\.offsetMs)
        XCTAssertEqual(offsets.count, 4)
        XCTAssertEqual(offsets, offsets.sorted(), "time offsets increase")
        XCTAssertGreaterThan(offsets[3] - offsets[0], 1000, "three 400 ms gaps")
    }

    func testTheRecordedEnvironEqualsWhatEchoReceived() throws {
        let server = try DevServeProcess(plugin: "echo")
        let client = try RawClient(port: server.port)
        try client.send("POST /p/q?x=1 HTTP/1.1\r\nHost: t\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nX-Extra: 1\r\n\r\nhello")
        let response = client.readResponse()
        let echoed = try JSONSerialization.jsonObject(with: Data(response.body)) as! [String: Any]
        let environ = echoed["environ"] as! [String: String]
        Thread.sleep(forTimeInterval: 0.2)
        let id = try XCTUnwrap(try devserveJSON([RecordJSON.Summary].self, ["ls"], port: server.port).last?.id)
        let record = try devserveJSON(RecordJSON.Full.self, ["show", String(id)], port: server.port)
        let recorded = Dictionary(record.environ.map { ($0.name, $0.value) }, uniquingKeysWith: { $1 })
        XCTAssertEqual(recorded, environ)
        XCTAssertEqual(record.requestBody.text, "hello")
        XCTAssertEqual(record.responseBody.bytes, response.body)
    }

    func testLargeBodiesAreRecordedExactlyWhileTheSharedBodyRingWrapsAroundThenItsMemoryIsGivenBack() throws {
        // 48 uploads of 700 KB echoed as 930 KB of base64: 75 MiB of captured bodies through
        // the 64 MiB ring, each body different, all of them recorded byte for byte.
        let server = try DevServeProcess(plugin: "echo")
        let client = try RawClient(port: server.port)
        for index in 0..<48 {
            let body = (0..<700_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ index &* 7) }
            try client.send(Array("POST /upload/\(index) HTTP/1.1\r\nHost: t\r\nContent-Length: \(body.count)\r\n\r\n".utf8) + body)
            let response = client.readResponse()
            XCTAssertEqual(response.status, 200)
            guard index % 6 == 5 else { continue }
            let record = try PythonSupport.record(server.port, target: "/upload/\(index)")
            XCTAssertTrue(record.requestBody.bytes == body, "request \(index): the upload as sent")
            XCTAssertTrue(record.responseBody.bytes == response.body, "request \(index): the response as received")
        }
        // A second after the last body, the ring's pages leave the worker's resident memory.
        let worker = try XCTUnwrap(server.workerPIDs.first)
        func sharedKilobytes() -> Int? {
            guard let status = try? String(contentsOfFile: "/proc/\(worker)/status", encoding: .utf8) else { return nil }
            return status.split(separator: "\n").first { $0.hasPrefix("RssShmem:") }.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") }
        }
        let deadline = Date().addingTimeInterval(5)
        while (sharedKilobytes() ?? 0) > 1024 && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        XCTAssertLessThanOrEqual(try XCTUnwrap(sharedKilobytes()), 1024, "the ring's pages were given back")
    }

    func testATrapLeavesItsRequestRecordedAsCrashedWithTheBacktrace() throws {
        let server = try DevServeProcess(plugin: "errors")
        let before = try RawClient(port: server.port)
        try before.send("GET /log HTTP/1.1\r\nHost: t\r\n\r\n")
        _ = before.readResponse()
        let trapping = try RawClient(port: server.port)
        try trapping.send("GET /trap HTTP/1.1\r\nHost: t\r\n\r\n")
        _ = trapping.readUntilClose(timeout: 10)
        XCTAssertTrue(server.waitForLog("was in flight when the worker died"), server.log)
        let entries = try devserveJSON([RecordJSON.Summary].self, ["ls"], port: server.port)
        XCTAssertEqual(entries.map(\.target), ["/log", "/trap"], "nothing recorded before the crash is lost")
        XCTAssertEqual(entries.map(\.outcome), ["complete", "crashed"])
        guard entries.count == 2 else { return }
        let crashed = try devserveJSON(RecordJSON.Full.self, ["show", String(entries[1].id)], port: server.port)
        let crash = try XCTUnwrap(crashed.crash)
        XCTAssertTrue(crash.signal.hasPrefix("SIGILL"), crash.signal)
        XCTAssertTrue(crash.backtrace.contains("Fatal error: Unexpectedly found nil"), crash.backtrace)
        XCTAssertTrue(crash.backtrace.contains("Errors.swift"), "the backtrace names the plugin's source")
    }

    func testFiltersPauseAndClearWorkFromTheCommandLine() throws {
        let server = try DevServeProcess(plugin: "errors")
        for path in ["/log", "/throw-before", "/hop", "/nope"] {
            let client = try RawClient(port: server.port)
            try client.send("GET \(path) HTTP/1.1\r\nHost: t\r\n\r\n")
            _ = client.readResponse()
        }
        Thread.sleep(forTimeInterval: 0.2)
        XCTAssertEqual(try devserveJSON([RecordJSON.Summary].self, ["ls", "--filter", "~c 5xx"], port: server.port).map(\.target), ["/throw-before"])
        XCTAssertEqual(try devserveJSON([RecordJSON.Summary].self, ["ls", "--filter", "~v | ~c 404"], port: server.port).map(\.target), ["/hop", "/nope"])
        XCTAssertEqual(try devserveJSON([RecordJSON.Summary].self, ["ls", "-f", "~e"], port: server.port).map(\.target), ["/throw-before"])
        let (status, output) = try runDevServe(["ls", "--filter", "~c 5xx &", "--port", String(server.port)])
        XCTAssertEqual(status, 1)
        XCTAssertTrue(output.contains("bad filter: expected a filter after this\n  ~c 5xx &\n          ^"), output)

        XCTAssertEqual(try runDevServe(["capture", "pause", "--port", String(server.port)]).status, 0)
        let paused = try RawClient(port: server.port)
        try paused.send("GET /log HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(paused.readResponse().status, 200, "serving goes on while capture is paused")
        Thread.sleep(forTimeInterval: 0.2)
        XCTAssertEqual(try devserveJSON([RecordJSON.Summary].self, ["ls"], port: server.port).count, 4)
        XCTAssertEqual(try runDevServe(["capture", "clear", "--port", String(server.port)]).status, 0)
        XCTAssertEqual(try devserveJSON([RecordJSON.Summary].self, ["ls"], port: server.port).count, 0)
    }

    func testTheCapacityCapEvictsTheOldestRequests() throws {
        let server = try DevServeProcess(plugin: "hello", arguments: ["--capacity", "3"])
        let client = try RawClient(port: server.port)
        for n in 1...5 {
            try client.send("GET /\(n) HTTP/1.1\r\nHost: t\r\n\r\n")
            _ = client.readResponse()
        }
        Thread.sleep(forTimeInterval: 0.2)
        XCTAssertEqual(try devserveJSON([RecordJSON.Summary].self, ["ls"], port: server.port).map(\.target), ["/3", "/4", "/5"])
        let (_, text) = try runDevServe(["ls", "--port", String(server.port)])
        XCTAssertTrue(text.contains("3 shown, 3 kept of 3, 2 evicted"), text)
    }

    func testTheControlSocketIsPrivateAndRemovedOnExit() throws {
        let server = try DevServeProcess(plugin: "hello")
        let path = ControlSocket.path(port: server.port)
        var info = stat()
        XCTAssertEqual(stat(path, &info), 0, "the socket exists at \(path)")
        XCTAssertEqual(info.st_mode & 0o777, 0o600)
        XCTAssertEqual(server.stop(), 0)
        XCTAssertNotEqual(stat(path, &info), 0, "the socket was removed")
    }

    func testNoCaptureServesWithTheAccessLogOnly() throws {
        let server = try DevServeProcess(plugin: "hello", arguments: ["--no-capture"])
        let client = try RawClient(port: server.port)
        try client.send("GET /x HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(client.readResponse().status, 200)
        XCTAssertTrue(server.waitForLog("\"GET /x HTTP/1.1\" 200"), server.log)
        let (status, output) = try runDevServe(["ls", "--port", String(server.port)])
        XCTAssertEqual(status, 1)
        XCTAssertTrue(output.contains("cannot reach the devserve"), output)
    }

    func testARequestRunningTooLongIsMarkedTimedOut() throws {
        let server = try DevServeProcess(plugin: "errors", arguments: ["--request-timeout", "0.3"])
        let client = try RawClient(port: server.port)
        try client.send("GET /slow?ms=1200 HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertTrue(server.waitForLog("timed out: running for"), server.log)
        _ = client.readResponse()
        let entries = try devserveJSON([RecordJSON.Summary].self, ["ls", "-f", "~u slow"], port: server.port)
        XCTAssertEqual(entries.first?.timedOut, true)
    }
}
