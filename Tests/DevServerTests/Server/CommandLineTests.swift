import DevServer
import Foundation
import XCTest

/// Issue 15: the command line as gunicorn and flask users expect it.
final class CommandLineTests: XCTestCase {
    func testShowBodyWritesTheRawResponseBodyForAPipe() throws {
        let server = try PythonSupport.serve(PythonSupport.sample("bare_app.py"), python: "python3")
        let json = try PythonSupport.request(server.port, "/environ").body
        let id = try PythonSupport.record(server.port, target: "/environ").summary.id
        let (status, output) = try runDevServe(["show", String(id), "--body", "--port", String(server.port)])
        XCTAssertEqual(status, 0)
        XCTAssertEqual(Array(output.utf8), json, "the body byte for byte, nothing around it")
        XCTAssertNoThrow(try JSONSerialization.jsonObject(with: Data(output.utf8)), "it pipes into a JSON tool")
    }

    func testShowRequestBodyAndDecode() throws {
        let server = try DevServeProcess(plugin: "echo")
        // "hello" gzip-compressed.
        let gzip: [UInt8] = [0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xcb, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x86, 0xa6, 0x10, 0x36, 0x05, 0x00, 0x00, 0x00]
        let client = try RawClient(port: server.port)
        try client.send(Array("POST /gz HTTP/1.1\r\nHost: t\r\nContent-Encoding: gzip\r\nContent-Length: \(gzip.count)\r\n\r\n".utf8) + gzip)
        _ = client.readResponse()
        Thread.sleep(forTimeInterval: 0.2)
        let (_, raw) = try runDevServe(["show", "1", "--request-body", "--port", String(server.port)])
        XCTAssertEqual(raw.utf8.count, String(decoding: gzip, as: UTF8.self).utf8.count, "raw: the compressed bytes")
        let (status, decoded) = try runDevServe(["show", "1", "--request-body", "--decode", "--port", String(server.port)])
        XCTAssertEqual(status, 0, decoded)
        XCTAssertEqual(decoded, "hello")
    }

    func testLsLimitShowsTheNewestAndFollowStreamsNewEntries() throws {
        let server = try DevServeProcess(plugin: "hello")
        for index in 1...5 { _ = try PythonSupport.request(server.port, "/r\(index)") }
        Thread.sleep(forTimeInterval: 0.2)
        let (_, limited) = try runDevServe(["ls", "--limit", "2", "--port", String(server.port)])
        XCTAssertTrue(limited.contains("/r4") && limited.contains("/r5") && !limited.contains("/r3"), limited)

        let follower = Process()
        follower.executableURL = URL(fileURLWithPath: Plugins.directory + "/devserve")
        follower.arguments = ["ls", "--follow", "--limit", "1", "--port", String(server.port)]
        let output = Pipe()
        follower.standardOutput = output
        try follower.run()
        defer { follower.terminate() }
        Thread.sleep(forTimeInterval: 0.6)
        _ = try PythonSupport.request(server.port, "/later")
        var text = ""
        let deadline = Date().addingTimeInterval(5)
        while !text.contains("/later") && Date() < deadline {
            text += String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
        }
        XCTAssertTrue(text.contains("/r5") && text.contains("/later"), text)
        XCTAssertFalse(text.contains("/r4"), "--limit 1 starts from the newest")
    }

    func testHelpListsTheCommandsThatTalkToARunningDevserve() throws {
        let (_, help) = try runDevServe(["--help"])
        for command in ["ls ", "show ", "replay ", "export ", "capture ", "reload "] {
            XCTAssertTrue(help.contains("\n  \(command)"), "--help lacks \(command): \(help)")
        }
    }

    func testAnExportWrittenToAFileIsNotReportedAsAnError() throws {
        let server = try DevServeProcess(plugin: "hello")
        _ = try PythonSupport.request(server.port, "/")
        let file = NSTemporaryDirectory() + "devserve-cli-\(getpid()).har"
        defer { unlink(file) }
        let (status, output) = try runDevServe(["export", "--har", "-o", file, "--port", String(server.port)])
        XCTAssertEqual(status, 0)
        XCTAssertEqual(output, "devserve: wrote \(file)\n")
    }

    func testABadFilterPointsAtTheProblemOnItsOwnLine() throws {
        let server = try DevServeProcess(plugin: "hello")
        let (status, output) = try runDevServe(["ls", "-f", "~m GET & ~zz", "--port", String(server.port)])
        XCTAssertEqual(status, 1)
        let lines = output.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines.first?.hasPrefix("devserve: error: bad filter: unknown operator ~zz") == true, output)
        XCTAssertEqual(lines.count, 3, output)
        let caret = lines[2].firstIndex(of: "^").map { lines[2].distance(from: lines[2].startIndex, to: $0) }
        let problem = lines[1].range(of: "~zz").map { lines[1].distance(from: lines[1].startIndex, to: $0.lowerBound) }
        XCTAssertEqual(caret, problem, "the caret is under ~zz:\n\(output)")
        XCTAssertFalse(output.contains("see ?"), "no inspector key on the command line")
    }
}
