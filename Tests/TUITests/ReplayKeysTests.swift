@testable import DevServer
@testable import TUI
import Foundation
import XCTest

/// r, e, d, D, x and S in the inspector.
final class ReplayKeysTests: XCTestCase {
    final class Sent: @unchecked Sendable {
        var batches: [[(id: Int, edited: RawRequest?)]] = []
    }

    private func app(_ traffic: Traffic, sent: Sent, directory: String = NSTemporaryDirectory()) -> InspectorApp {
        InspectorApp(environment: .init(
            source: traffic.source, server: { ListScreenTests.server },
            replay: { requests, done in
                sent.batches.append(requests)
                done("#\(requests[0].id) replayed as #99: 200 OK in 1.000 ms", false)
            },
            exportDirectory: directory))
    }

    func testRReplaysTheSelectedRequestOrTheMarkedOnesInOrder() {
        let sent = Sent()
        let app = app(Traffic.mixed(), sent: sent)
        app.handle(.character("r"))
        XCTAssertEqual(sent.batches.last?.map(\.id), [7])
        XCTAssertTrue(app.render(width: 100, height: 12, now: Traffic.now).text.contains("#7 replayed as #99: 200 OK"), "the outcome shows")
        app.handle(.character("k"))
        app.handle(.character("m"))
        app.handle(.character("g"))
        app.handle(.character("m"))
        app.handle(.character("r"))
        XCTAssertEqual(sent.batches.last?.map(\.id), [1, 6], "marked, in order")
    }

    func testAReplayIsMarkedInTheListAndLinkedInTheDetail() {
        let traffic = Traffic.mixed()
        traffic.recorder.expectReplay(from: "127.0.0.1:50000", of: 2)
        traffic.simple("GET", "/users?page=2", at: 990)
        let app = app(traffic, sent: Sent())
        let screen = app.render(width: 100, height: 14, now: Traffic.now).text
        XCTAssertTrue(screen.split(separator: "\n").first { $0.dropFirst(2).hasPrefix("    8 ") }!.hasPrefix(" R"), screen)
        app.handle(.enter)
        XCTAssertTrue(app.render(width: 100, height: 14, now: Traffic.now).text.contains("replay of #2"))
    }

    func testEditSendsWhatTheUserSavedAndAMalformedEditSendsNothing() {
        let traffic = Traffic()
        let id = traffic.start("POST", "/items", at: 0, headers: [HeaderField("Content-Length", "5")], body: "hello")
        traffic.respond(id)
        traffic.finish(id)
        let sent = Sent()
        let app = app(traffic, sent: sent)
        var shown = ""
        app.edit = { text in
            shown = text
            return Array(text.replacing("hello", with: "hello, edited").utf8)
        }
        app.handle(.character("e"))
        XCTAssertTrue(shown.hasPrefix("POST /items HTTP/1.1\nHost: 127.0.0.1:8000\n"), shown + app.render(width: 120, height: 12, now: Traffic.now).text)
        let edited = sent.batches.last?.first?.edited
        XCTAssertEqual(edited.map { String(decoding: $0.body, as: UTF8.self) }, "hello, edited")
        XCTAssertEqual(edited?.header("Content-Length"), "13")
        XCTAssertTrue(app.render(width: 120, height: 12, now: Traffic.now).text.contains("replayed as #99"))
        app.edit = { _ in Array("not a request\n".utf8) }
        app.handle(.character("e"))
        XCTAssertEqual(sent.batches.count, 1, "nothing sent")
        XCTAssertTrue(app.render(width: 120, height: 12, now: Traffic.now).text.contains("the edited request is malformed, nothing was sent"))
        app.edit = { _ in nil }
        app.handle(.character("e"))
        XCTAssertTrue(app.render(width: 120, height: 12, now: Traffic.now).text.contains("edit cancelled: nothing sent"))
    }

    func testDShowsAReplayAgainstItsOriginalWithTheChangedBody() {
        let traffic = Traffic()
        traffic.simple("GET", "/greeting", body: "hello\nworld\n", at: 0, type: "text/plain")
        traffic.recorder.expectReplay(from: "127.0.0.1:50000", of: 1)
        let replay = traffic.start("GET", "/greeting", at: 500, generation: 2)
        traffic.respond(replay, "200 OK", headers: [HeaderField("Content-Type", "text/plain"), HeaderField("X-New", "1")])
        traffic.chunk(replay, "hello\nthere\n", atMilliseconds: 0.4)
        traffic.finish(replay, microseconds: 700)
        let app = app(traffic, sent: Sent())
        app.handle(.character("d"))
        let screen = app.render(width: 100, height: 30, now: Traffic.now)
        assertScreen(screen, matches: "diff-replay")
        app.handle(.character("q"))
        app.handle(.character("g"))
        app.handle(.character("d"))
        XCTAssertTrue(app.render(width: 100, height: 30, now: Traffic.now).text.contains("#1 → #2"), "on the original, d compares it with its replay")
    }

    func testCapitalDComparesTwoMarkedRequestsAndBinaryBodiesShowTheFirstDifference() {
        let traffic = Traffic()
        let a = traffic.start("GET", "/a.bin", at: 0)
        traffic.respond(a, "200 OK", headers: [HeaderField("Content-Type", "application/octet-stream")])
        traffic.chunk(a, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19], atMilliseconds: 1)
        traffic.finish(a)
        let b = traffic.start("GET", "/b.bin", at: 10)
        traffic.respond(b, "404 Not Found", headers: [HeaderField("Content-Type", "application/octet-stream")])
        traffic.chunk(b, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 0xFF, 18, 19], atMilliseconds: 1)
        traffic.finish(b, status: 404)
        let app = app(traffic, sent: Sent())
        app.handle(.character("D"))
        XCTAssertTrue(app.render(width: 100, height: 12, now: Traffic.now).text.contains("D compares two marked requests"))
        app.handle(.character("m"))
        app.handle(.character("k"))
        app.handle(.character("m"))
        app.handle(.character("D"))
        let text = app.render(width: 100, height: 40, now: Traffic.now).text
        XCTAssertTrue(text.contains("- GET /a.bin HTTP/1.1") && text.contains("+ GET /b.bin HTTP/1.1"), text)
        XCTAssertTrue(text.contains("status 200 OK → 404 Not Found"))
        XCTAssertTrue(text.contains("binary: first difference at byte 17 (0x11)"), text)
        XCTAssertTrue(text.contains("+ 00000010  10 ff 12 13"), text)
    }

    func testXExportsHARAndACurlCommandWithSecretsMasked() throws {
        let directory = NSTemporaryDirectory() + "devserve-export-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let traffic = Traffic()
        let id = traffic.start("GET", "/private", at: 0, headers: [HeaderField("Authorization", "Bearer s3cr3t-token")])
        traffic.respond(id)
        traffic.finish(id)
        let app = app(traffic, sent: Sent(), directory: directory)
        app.handle(.character("x"))
        XCTAssertTrue(app.render(width: 160, height: 12, now: Traffic.now).text.contains("Export: h HAR of the 1 listed; f HAR, c curl, w raw HTTP of the selected"))
        app.handle(.character("h"))
        XCTAssertTrue(app.render(width: 160, height: 12, now: Traffic.now).text.contains("save to (Tab completes, Esc cancels): \(directory)/devserve-"), "the path is asked for, prefilled")
        app.handle(.enter)
        let files = try FileManager.default.contentsOfDirectory(atPath: directory)
        let har = try XCTUnwrap(files.first { $0.hasSuffix(".har") })
        let text = try String(contentsOfFile: directory + "/" + har, encoding: .utf8)
        XCTAssertTrue(text.contains("\"version\" : \"1.2\"") && text.contains("/private"), text)
        XCTAssertFalse(text.contains("s3cr3t-token"), "masked by default")
        app.handle(.character("x"))
        app.handle(.character("f"))
        app.handle(.enter)
        let selected = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: directory).first { $0.hasPrefix("devserve-1-") && $0.hasSuffix(".har") })
        XCTAssertTrue(try String(contentsOfFile: directory + "/" + selected, encoding: .utf8).contains("/private"), "f exports the selected request")
        app.handle(.character("x"))
        app.handle(.character("c"))
        app.handle(.enter)
        let screen = app.render(width: 140, height: 12, now: Traffic.now).text
        XCTAssertTrue(screen.contains("curl -i --http1.1 -H 'Host: 127.0.0.1:8000' -H 'Authorization: Bearer •••• (12 chars hidden)'"), screen)
        app.handle(.character("q"))
        app.handle(.character("S"))
        app.handle(.character("x"))
        app.handle(.character("c"))
        app.handle(.enter)
        XCTAssertTrue(app.render(width: 140, height: 12, now: Traffic.now).text.contains("Bearer s3cr3t-token"), "S reveals")
    }

    func testAnExportGoesWhereTheUserTypesWithTabCompletionAndRawHTTPShowsAsLines() throws {
        let directory = NSTemporaryDirectory() + "devserve-typed-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory + "/exports-here", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let traffic = Traffic()
        let id = traffic.start("POST", "/items", at: 0, headers: [HeaderField("Content-Type", "application/json")], body: #"{"a":1}"#)
        traffic.respond(id, "200 OK", headers: [HeaderField("Content-Type", "application/json")])
        traffic.chunk(id, #"{"ok":true}"#, atMilliseconds: 1)
        traffic.finish(id)
        let app = app(traffic, sent: Sent(), directory: directory)
        app.handle(.character("x"))
        app.handle(.character("w"))
        app.handle(.control("u"))
        for character in "\(directory)/exp" { app.handle(.character(character)) }
        app.handle(.tab)
        XCTAssertTrue(app.render(width: 160, height: 12, now: Traffic.now).text.contains("\(directory)/exports-here/"), "Tab completes the directory")
        for character in "request.http" { app.handle(.character(character)) }
        app.handle(.enter)
        let written = try String(contentsOfFile: directory + "/exports-here/request.http", encoding: .utf8)
        XCTAssertTrue(written.hasPrefix("POST /items HTTP/1.1\r\n"), written)
        let screen = app.render(width: 120, height: 12, now: Traffic.now).text
        XCTAssertTrue(screen.contains("POST /items HTTP/1.1\n") || screen.contains("POST /items HTTP/1.1 "), screen)
        XCTAssertFalse(screen.contains("^M"), "CR LF ends lines, it is not drawn")
        // b saves the body in view.
        app.handle(.character("q"))
        app.handle(.enter)
        app.handle(.tab)
        app.handle(.character("x"))
        app.handle(.character("b"))
        XCTAssertTrue(app.render(width: 160, height: 12, now: Traffic.now).text.contains("-body-"), "prefilled with the body's name")
        app.handle(.enter)
        let bodies = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.contains("-body-") }
        XCTAssertEqual(bodies.count, 1, "\(bodies)")
        XCTAssertTrue(bodies.first?.hasSuffix(".json") == true)
        XCTAssertEqual(try String(contentsOfFile: directory + "/" + bodies[0], encoding: .utf8), #"{"ok":true}"#)
    }

    func testSecretsAreMaskedInTheDetailUntilSReveals() {
        let traffic = Traffic()
        let id = traffic.start("GET", "/", at: 0, headers: [HeaderField("Cookie", "session=abc123")])
        traffic.respond(id)
        traffic.finish(id)
        let app = app(traffic, sent: Sent())
        app.handle(.enter)
        var text = app.render(width: 100, height: 20, now: Traffic.now).text
        XCTAssertTrue(text.contains("Cookie: session=•••• (6 chars hidden)"), text)
        XCTAssertFalse(text.contains("abc123"))
        app.handle(.tab)
        app.handle(.tab)
        XCTAssertFalse(app.render(width: 100, height: 20, now: Traffic.now).text.contains("abc123"), "the environ too")
        app.handle(.character("S"))
        text = app.render(width: 100, height: 20, now: Traffic.now).text
        XCTAssertTrue(text.contains("session=abc123"), text)
    }
}
