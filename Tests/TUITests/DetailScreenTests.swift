@testable import DevServer
@testable import TUI
import XCTest

/// The detail view's tabs, rendered to text.
final class DetailScreenTests: XCTestCase {
    private func opened(_ traffic: Traffic, id: Int) -> (InspectorApp, DetailModel) {
        let app = InspectorApp(environment: .init(source: traffic.source, server: { ListScreenTests.server }))
        while app.list.selectedID != id { app.handle(.character("k")) }
        app.handle(.enter)
        guard case .detail(let detail) = app.screen else { fatalError("Enter opens the detail") }
        return (app, detail)
    }

    private func jsonRequest() -> Traffic {
        let traffic = Traffic()
        let id = traffic.start("POST", "/api/items?debug=1", at: 0, headers: [HeaderField("Content-Type", "application/json")],
                               body: #"{"name":"lamp","tags":["a","b"],"price":12.5,"stock":null,"empty":{}}"#)
        traffic.respond(id, "201 Created", headers: [HeaderField("Content-Type", "application/json"), HeaderField("X-Request-Id", "abc")])
        traffic.chunk(id, #"{"id":7}"#, atMilliseconds: 1.5)
        traffic.finish(id, status: 201, microseconds: 2100)
        return traffic
    }

    func testTheRequestTabShowsTheRequestLineHeadersAndPrettyJSONBody() {
        let (app, _) = opened(jsonRequest(), id: 1)
        assertScreen(app.render(width: 80, height: 24, now: Traffic.now), matches: "detail-request-json")
    }

    func testTheResponseTabShowsHeadersAsGivenAndAsSent() {
        let (app, _) = opened(jsonRequest(), id: 1)
        app.handle(.tab)
        assertScreen(app.render(width: 80, height: 30, now: Traffic.now), matches: "detail-response")
    }

    func testTheEnvironTabListsEveryKeyTheApplicationReceived() {
        let (app, _) = opened(jsonRequest(), id: 1)
        app.handle(.tab)
        app.handle(.tab)
        let screen = app.render(width: 80, height: 24, now: Traffic.now).text
        let lines = screen.split(separator: "\n")
        func value(_ key: String) -> String? {
            lines.first { $0.hasPrefix(" \(key) ") }.map { $0.dropFirst(key.count + 1).trimmingWhitespace() }
        }
        XCTAssertEqual(value("REQUEST_METHOD"), "POST", screen)
        XCTAssertEqual(value("QUERY_STRING"), "debug=1")
        XCTAssertEqual(value("HTTP_HOST"), "127.0.0.1:8000")
        XCTAssertEqual(value("HTTP_CONTENT_TYPE"), "application/json")
    }

    func testTheChunksTabGrowsWhileTheResponseStreams() {
        let traffic = Traffic.mixed()
        let (app, detail) = opened(traffic, id: 7)
        detail.select(tab: .chunks)
        assertScreen(app.render(width: 80, height: 14, now: Traffic.now), matches: "detail-chunks-streaming")
        traffic.chunk("1.7", "chunk 3 ....\n", atMilliseconds: 101.2)
        app.apply([.updated(7)])
        var screen = app.render(width: 80, height: 14, now: Traffic.now).text
        XCTAssertTrue(screen.contains("3 chunks, 39 bytes, streaming"), screen)
        XCTAssertTrue(screen.contains("chunk 3 ....⏎"))
        traffic.finish("1.7", microseconds: 101_500)
        app.apply([.updated(7)])
        screen = app.render(width: 80, height: 14, now: Traffic.now).text
        XCTAssertTrue(screen.contains("3 chunks, 39 bytes, last at 101.2 ms"), screen)
    }

    func testTheErrorsTabShowsTheExceptionWsgiErrorsAndTheCrash() {
        let traffic = Traffic.mixed()
        let (app, detail) = opened(traffic, id: 5)
        detail.select(tab: .errors)
        assertScreen(app.render(width: 80, height: 16, now: Traffic.now), matches: "detail-errors-app-error")
        app.handle(.character("q"))
        app.handle(.character("j"))
        app.handle(.enter)
        guard case .detail(let crashed) = app.screen else { return XCTFail() }
        XCTAssertEqual(crashed.recordID, 6)
        crashed.select(tab: .errors)
        let screen = app.render(width: 80, height: 16, now: Traffic.now).text
        XCTAssertTrue(screen.contains("Worker crashed SIGILL (Illegal instruction)"), screen)
        XCTAssertTrue(screen.contains("Fatal error: Index out of range"))
    }

    func testTabAndShiftTabWalkTheTabsBothWays() {
        let (app, detail) = opened(jsonRequest(), id: 1)
        XCTAssertEqual(detail.tab, .request)
        app.handle(.backTab)
        XCTAssertEqual(detail.tab, .errors)
        app.handle(.tab)
        app.handle(.tab)
        XCTAssertEqual(detail.tab, .response)
        app.handle(.click(row: 2, column: 24))
        XCTAssertEqual(detail.tab, .environ, "a click on a tab selects it")
    }

    func testQGoesBackToTheListAndTheSelectionIsUnchanged() {
        let (app, _) = opened(Traffic.mixed(), id: 4)
        app.handle(.character("q"))
        guard case .list = app.screen else { return XCTFail("q goes back") }
        XCTAssertEqual(app.list.selectedID, 4)
    }

    func testAnEvictedRequestSaysSoInsteadOfVanishing() {
        let traffic = Traffic.mixed()
        let (app, _) = opened(traffic, id: 1)
        traffic.recorder.clear()
        app.apply([.cleared])
        XCTAssertTrue(app.render(width: 80, height: 12, now: Traffic.now).text.contains("Request #1 is no longer kept"))
    }

    func testSearchFindsMatchesBelowWhatIsDrawnAndNCyclesThem() {
        let traffic = Traffic()
        let id = traffic.start("GET", "/log", at: 0)
        traffic.respond(id)
        var body = ""
        for n in 1...400 { body += n % 100 == 0 ? "line \(n) NEEDLE here\n" : "line \(n)\n" }
        traffic.chunk(id, body, atMilliseconds: 1)
        traffic.finish(id)
        let (app, detail) = opened(traffic, id: 1)
        app.handle(.tab)
        app.handle(.character("/"))
        for character in "needle" { app.handle(.character(character)) }
        app.handle(.enter)
        var screen = app.render(width: 80, height: 20, now: Traffic.now)
        XCTAssertTrue(screen.text.contains("match 1 of 4 lines with needle"), screen.text)
        XCTAssertTrue(screen.text.contains("line 100 NEEDLE here"))
        let matchRow = row(of: "line 100 NEEDLE", in: screen)!
        XCTAssertTrue(screen.roleMap.split(separator: "\n")[matchRow].contains("MMMMMM"), "the match the search is on is highlighted as the current one")
        app.handle(.character("n"))
        screen = app.render(width: 80, height: 20, now: Traffic.now)
        XCTAssertTrue(screen.text.contains("line 200 NEEDLE here"))
        app.handle(.character("n"))
        app.handle(.character("n"))
        app.handle(.character("n"))
        XCTAssertTrue(app.render(width: 80, height: 20, now: Traffic.now).text.contains("line 100 NEEDLE here"), "n wraps around")
        app.handle(.character("N"))
        XCTAssertTrue(app.render(width: 80, height: 20, now: Traffic.now).text.contains("line 400 NEEDLE here"), "N goes back")
        XCTAssertEqual(detail.search?.lines.count, 4)
    }

    func testTheBodyModeCyclesAndHexShowsTheBytes() {
        let (app, detail) = opened(jsonRequest(), id: 1)
        app.handle(.character("b"))
        XCTAssertEqual(detail.mode, .text)
        XCTAssertTrue(app.render(width: 100, height: 24, now: Traffic.now).text.contains(#"{"name":"lamp","tags":["a","b"]"#))
        app.handle(.character("b"))
        XCTAssertEqual(detail.mode, .hex)
        let screen = app.render(width: 100, height: 24, now: Traffic.now).text
        XCTAssertTrue(screen.contains("00000000  7b 22 6e 61 6d 65 22 3a  22 6c 61 6d 70 22 2c 22  {\"name\":\"lamp\",\""), screen)
    }
}

/// Issue 15: body views that start at the top and belong to their tab.
final class BodyViewStateTests: XCTestCase {
    func testABodyViewChangeAndATabChangeStartAtTheTop() {
        let traffic = Traffic()
        let body = (1...200).map { "line \($0)" }.joined(separator: "\n")
        let id = traffic.start("POST", "/long", at: 0, headers: [HeaderField("Content-Type", "text/plain")], body: body)
        traffic.respond(id, "200 OK", headers: [HeaderField("Content-Type", "text/plain")])
        traffic.chunk(id, body, atMilliseconds: 1)
        traffic.finish(id, status: 200, microseconds: 2000)
        let app = InspectorApp(environment: .init(source: traffic.source, server: { ListScreenTests.server }))
        app.handle(.enter)
        guard case .detail(let detail) = app.screen else { return XCTFail("Enter opens the detail") }
        app.handle(.character("G"))
        XCTAssertGreaterThan(detail.scroll, 100)
        app.handle(.character("b"))
        XCTAssertEqual(detail.scroll, 0, "another view of the body starts at the top")
        app.handle(.character("G"))
        app.handle(.tab)
        XCTAssertEqual(detail.scroll, 0, "a tab change starts at the top")
    }

    func testEachTabKeepsItsOwnBodyMode() {
        let traffic = Traffic()
        let id = traffic.start("POST", "/form", at: 0, headers: [HeaderField("Content-Type", "application/x-www-form-urlencoded")], body: "a=1&b=2")
        traffic.respond(id, "200 OK", headers: [HeaderField("Content-Type", "application/json")])
        traffic.chunk(id, #"{"ok":true}"#, atMilliseconds: 1)
        traffic.finish(id, status: 200, microseconds: 2000)
        let app = InspectorApp(environment: .init(source: traffic.source, server: { ListScreenTests.server }))
        app.handle(.enter)
        guard case .detail(let detail) = app.screen else { return XCTFail("Enter opens the detail") }
        app.handle(.character("b"))
        let requestMode = detail.mode
        XCTAssertNotEqual(requestMode, .auto)
        app.handle(.tab)
        XCTAssertEqual(detail.mode, .auto, "the response's mode is its own")
        let screen = app.render(width: 80, height: 30, now: Traffic.now).text
        XCTAssertFalse(screen.contains("not valid JSON"), screen)
        app.handle(.backTab)
        XCTAssertEqual(detail.mode, requestMode, "the request tab kept its choice")
    }
}

/// Issue 15: marks that show, unmark-all, sorts that go both ways, a legend for the flags.
final class ListStateTests: XCTestCase {
    func testMarksAreCountedInTheStatusBarAndUClearsThem() {
        let app = InspectorApp(environment: .init(source: Traffic.mixed().source, server: { ListScreenTests.server }))
        app.handle(.character("m"))
        app.handle(.character("k"))
        app.handle(.character("m"))
        XCTAssertTrue(app.render(width: 120, height: 14, now: Traffic.now).text.contains("2 marked"))
        app.handle(.character("U"))
        let screen = app.render(width: 120, height: 14, now: Traffic.now).text
        XCTAssertFalse(screen.contains("2 marked"), screen)
        XCTAssertTrue(screen.contains("2 marks cleared"), screen)
    }

    func testADurationSortPutsTheSlowestFirstAndOReversesIt() {
        let app = InspectorApp(environment: .init(source: Traffic.mixed().source, server: { ListScreenTests.server }))
        app.handle(.character("o"))
        XCTAssertEqual(app.list.sort, .duration)
        XCTAssertTrue(app.list.descending)
        XCTAssertTrue(app.render(width: 120, height: 14, now: Traffic.now).text.contains("sort:duration↓"))
        app.handle(.character("O"))
        XCTAssertFalse(app.list.descending)
        XCTAssertTrue(app.render(width: 120, height: 14, now: Traffic.now).text.contains("sort:duration↑"))
    }

    func testTheHelpExplainsTheRowFlags() {
        let app = InspectorApp(environment: .init(source: Traffic.mixed().source, server: { ListScreenTests.server }))
        app.handle(.character("?"))
        var text = ""
        for _ in 0..<10 {
            text += app.render(width: 100, height: 60, now: Traffic.now).text
            app.handle(.pageDown)
        }
        for meaning in ["crashed: the worker died", "interrupted: the worker crashed", "a gateway contract violation", "marked (m)"] {
            XCTAssertTrue(text.contains(meaning), "the help lacks \(meaning)")
        }
    }
}

/// Issue 15: search that says where it is, a header with the time, refusals with their reason,
/// a curl command on the clipboard.
final class InspectorDetailsTests: XCTestCase {
    func testSearchSaysWhichMatchItIsOnAndPaintsItApart() {
        let traffic = Traffic()
        let body = (1...60).map { $0 % 20 == 0 ? "needle \($0)" : "line \($0)" }.joined(separator: "\n")
        let id = traffic.start("POST", "/search", at: 0, headers: [HeaderField("Content-Type", "text/plain")], body: body)
        traffic.respond(id)
        traffic.finish(id)
        let app = InspectorApp(environment: .init(source: traffic.source, server: { ListScreenTests.server }))
        app.handle(.enter)
        app.handle(.character("/"))
        for character in "needle" { app.handle(.character(character)) }
        app.handle(.enter)
        var screen = app.render(width: 100, height: 30, now: Traffic.now)
        XCTAssertTrue(screen.text.contains("match 1 of 3 lines with needle"), screen.text)
        app.handle(.character("n"))
        screen = app.render(width: 100, height: 30, now: Traffic.now)
        XCTAssertTrue(screen.text.contains("match 2 of 3"), screen.text)
        XCTAssertTrue(screen.roleMap.contains("M"), "the current match has its own role")
        XCTAssertTrue(screen.roleMap.contains("m"), "the others keep theirs")
    }

    func testTheDetailHeaderShowsWhenTheRequestStartedAndHowLongItTook() {
        let (app, _) = (InspectorApp(environment: .init(source: Traffic.mixed().source, server: { ListScreenTests.server })), 0)
        app.handle(.enter)
        let header = app.render(width: 120, height: 20, now: Traffic.now).text.split(separator: "\n").dropFirst().first.map(String.init) ?? ""
        XCTAssertNotNil(header.range(of: #"at \d\d:\d\d:\d\d\.\d\d\d +[0-9.]+ ?(µs|ms|s)"#, options: .regularExpression), header)
    }

    func testARefusedRequestShowsItsReasonInTheList() {
        let traffic = Traffic()
        let id = traffic.start("GET", "/", at: 0)
        traffic.finish(id, status: 400, outcome: "bad-request: an HTTP/1.1 request must have a Host header")
        let app = InspectorApp(environment: .init(source: traffic.source, server: { ListScreenTests.server }))
        let screen = app.render(width: 120, height: 10, now: Traffic.now).text
        XCTAssertTrue(screen.contains("an HTTP/1.1 req"), screen)
        XCTAssertTrue(screen.contains(" B "), "flagged B: \(screen)")
    }

    func testYCopiesTheRequestAsCurlThroughTheTerminal() {
        let traffic = Traffic()
        let id = traffic.start("GET", "/copy", at: 0)
        traffic.respond(id)
        traffic.finish(id)
        final class Clipboard: @unchecked Sendable { var text = "" }
        let clipboard = Clipboard()
        var environment = InspectorApp.Environment(source: traffic.source, server: { ListScreenTests.server })
        environment.copyToClipboard = { clipboard.text = $0 }
        let app = InspectorApp(environment: environment)
        app.handle(.character("x"))
        app.handle(.character("y"))
        XCTAssertTrue(clipboard.text.hasPrefix("curl -i --http1.1"), clipboard.text)
        XCTAssertTrue(clipboard.text.contains("/copy"))
        XCTAssertTrue(app.render(width: 160, height: 10, now: Traffic.now).text.contains("copied #1 as a curl command"))
    }
}
