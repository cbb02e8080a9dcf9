@testable import DevServer
@testable import TUI
import XCTest

/// The request list, rendered to text at fixed sizes without a terminal.
final class ListScreenTests: XCTestCase {
    private func app(_ traffic: Traffic, server: ServerState = ListScreenTests.server) -> InspectorApp {
        InspectorApp(environment: .init(source: traffic.source, server: { server }))
    }

    static let server: ServerState = {
        var state = ServerState()
        state.url = "http://127.0.0.1:8000/"
        state.pluginPath = "/home/ada/app/.build/debug/libapp.so"
        state.generation = 3
        state.workerPID = 4242
        state.worker = .serving
        return state
    }()

    func testTheListShowsEveryColumnWhenTheTerminalIsWide() {
        let screen = app(Traffic.mixed()).render(width: 120, height: 14, now: Traffic.now)
        assertScreen(screen, matches: "list-120x14")
    }

    func testTheListFitsAn80x24Terminal() {
        let screen = app(Traffic.mixed()).render(width: 80, height: 24, now: Traffic.now)
        assertScreen(screen, matches: "list-80x24")
    }

    func testStatusCodesAreColouredByClassAndTheNewestRowIsSelected() {
        let screen = app(Traffic.mixed()).render(width: 120, height: 14, now: Traffic.now)
        let roles = screen.roleMap.split(separator: "\n").map(Array.init)
        let statusColumn = screen.text.split(separator: "\n")[1].range(of: "STA")!.lowerBound.utf16Offset(in: screen.text.split(separator: "\n")[1])
        XCTAssertEqual(roles[row(of: "/missing", in: screen)!][statusColumn], "4")
        XCTAssertEqual(roles[row(of: "/boom", in: screen)!][statusColumn], "5")
        XCTAssertEqual(roles[row(of: "/users", in: screen)!][statusColumn], "2")
        XCTAssertEqual(roles[row(of: "/login", in: screen)!][statusColumn], "3")
        let streamRow = row(of: "/stream", in: screen)!
        XCTAssertTrue(roles[streamRow].allSatisfy { $0 == "s" }, "following: the newest request is selected")
        XCTAssertFalse(roles[row(of: "/boom", in: screen)!].contains("s"))
    }

    func testMarkersShowInFlightCrashedAndApplicationErrors() {
        let traffic = Traffic.mixed()
        let app = app(traffic)
        let screen = app.render(width: 120, height: 14, now: Traffic.now).text
        let lines = screen.split(separator: "\n")
        XCTAssertTrue(lines.first { $0.contains("/boom") }!.hasPrefix(" E"), "application error")
        XCTAssertTrue(lines.first { $0.contains("/trap") }!.hasPrefix(" C"), "crashed")
        let spinner = lines.first { $0.contains("/stream") }!.dropFirst().first!
        XCTAssertTrue("|/-\\".contains(spinner), "in flight spins")
        let later = app.render(width: 120, height: 14, now: Traffic.now + 125_000).text
        let turned = later.split(separator: "\n").first { $0.contains("/stream") }!.dropFirst().first!
        XCTAssertNotEqual(spinner, turned, "the spinner turns with time")
        XCTAssertTrue(later.contains("225ms"), "an in-flight request shows its elapsed time, live")
    }

    func testFollowKeepsTheNewestSelectedAndMovingUpStopsIt() {
        let traffic = Traffic.mixed()
        let app = app(traffic)
        XCTAssertTrue(app.list.follow)
        XCTAssertEqual(app.list.selectedID, 7)
        app.handle(.character("k"))
        XCTAssertFalse(app.list.follow, "moving up stops following")
        XCTAssertEqual(app.list.selectedID, 6)
        traffic.simple("GET", "/new", at: 950)
        app.apply([.added(8)])
        XCTAssertEqual(app.list.selectedID, 6, "not following: the selection stays")
        app.handle(.character("F"))
        XCTAssertTrue(app.list.follow)
        XCTAssertEqual(app.list.selectedID, 8, "F follows again, from the newest")
        traffic.simple("GET", "/newer", at: 960)
        app.apply([.added(9)])
        XCTAssertEqual(app.list.selectedID, 9)
    }

    func testTheListScrollsToKeepTheSelectionVisible() {
        let traffic = Traffic()
        for n in 0..<50 { traffic.simple("GET", "/page/\(n)", at: n) }
        let app = app(traffic)
        var screen = app.render(width: 80, height: 12, now: Traffic.now).text
        XCTAssertTrue(screen.contains("/page/49"))
        XCTAssertFalse(screen.contains("/page/40 "))
        app.handle(.character("g"))
        screen = app.render(width: 80, height: 12, now: Traffic.now).text
        XCTAssertTrue(screen.contains("/page/0 "))
        app.handle(.pageDown)
        screen = app.render(width: 80, height: 12, now: Traffic.now).text
        XCTAssertTrue(screen.contains("/page/7 "), screen)
        app.handle(.character("G"))
        XCTAssertEqual(app.list.selectedID, 50)
    }

    func testAFilterNarrowsTheListAndABadOneKeepsTheOldFilter() {
        let app = app(Traffic.mixed())
        app.handle(.character("f"))
        for character in "~c 4xx | ~c 5xx" { app.handle(.character(character)) }
        app.handle(.enter)
        var screen = app.render(width: 100, height: 12, now: Traffic.now).text
        XCTAssertTrue(screen.contains("/missing") && screen.contains("/boom"))
        XCTAssertFalse(screen.contains("/users"))
        XCTAssertTrue(screen.contains("filter: ~c 4xx | ~c 5xx"))
        XCTAssertTrue(screen.contains("2 requests match"))
        app.handle(.character("f"))
        app.handle(.control("u"))
        for character in "~c nope" { app.handle(.character(character)) }
        app.handle(.enter)
        screen = app.render(width: 100, height: 12, now: Traffic.now).text
        XCTAssertTrue(screen.contains("~c needs a status"), screen)
        XCTAssertTrue(screen.contains("the filter in use is unchanged"))
        app.handle(.escape)
        screen = app.render(width: 100, height: 12, now: Traffic.now).text
        XCTAssertTrue(screen.contains("/missing") && !screen.contains("/users"), "the old filter stays")
    }

    func testNewRequestsThatMatchTheFilterAppearAndOthersDoNot() {
        let traffic = Traffic.mixed()
        let app = app(traffic)
        try? app.list.setFilter("~m POST")
        XCTAssertEqual(app.list.ids, [3])
        traffic.simple("POST", "/another", at: 990)
        traffic.simple("GET", "/ignored", at: 991)
        app.apply([.added(8), .updated(8), .added(9), .updated(9)])
        XCTAssertEqual(app.list.ids, [3, 8])
    }

    func testWithoutAFilterNewRequestsJoinTheListWithoutTheirRecordsBeingReadAndAFilterReadsThem() {
        let traffic = Traffic.mixed()
        let counting = CountingSource(traffic.recorder)
        let list = ListModel(source: counting)
        for index in 0..<50 { traffic.simple("GET", "/more/\(index)", at: 990 + index) }
        let before = counting.reads
        list.apply((8...57).flatMap { [RecorderChange.added($0), .updated($0)] })
        XCTAssertEqual(list.ids.suffix(3), [55, 56, 57])
        XCTAssertEqual(list.ids.count, 57)
        XCTAssertEqual(counting.reads, before, "the recorder may keep them as frames until they are drawn")
        try? list.setFilter("~m POST")
        traffic.simple("POST", "/posted", at: 1100)
        let filtered = counting.reads
        list.apply([.added(58), .updated(58)])
        XCTAssertEqual(list.ids.last, 58)
        XCTAssertEqual(counting.reads - filtered, 2, "a filter has to read what it matches")
    }

    func testTheSortOrderCyclesThroughTimeDurationSizeAndStatus() {
        let app = app(Traffic.mixed())
        XCTAssertEqual(app.list.sort, .time)
        app.handle(.character("o"))
        XCTAssertEqual(app.list.sort, .duration)
        XCTAssertEqual(app.list.ids.first, 7, "the running stream (100 ms so far) is the longest: on top")
        app.handle(.character("o"))
        XCTAssertEqual(app.list.sort, .size)
        XCTAssertEqual(app.list.ids.first, 2, "the JSON body is the largest: on top")
        app.handle(.character("o"))
        XCTAssertEqual(app.list.sort, .status)
        XCTAssertEqual(app.list.ids.first, 5, "500 sorts first")
        app.handle(.character("o"))
        XCTAssertEqual(app.list.ids, [1, 2, 3, 4, 5, 6, 7])
    }

    func testEvictedRequestsLeaveTheList() {
        let traffic = Traffic(capacity: 3)
        for n in 0..<3 { traffic.simple("GET", "/\(n)", at: n) }
        let app = app(traffic)
        traffic.simple("GET", "/3", at: 3)
        app.apply([.added(4), .evicted([1])])
        XCTAssertEqual(app.list.ids, [2, 3, 4])
    }

    func testMarkingShowsAStarAndClearingAsksFirst() {
        let traffic = Traffic.mixed()
        let app = app(traffic)
        app.handle(.character("m"))
        XCTAssertTrue(app.render(width: 100, height: 14, now: Traffic.now).text.split(separator: "\n").first { $0.contains("/stream") }!.hasPrefix("*"))
        app.handle(.character("z"))
        XCTAssertTrue(app.render(width: 100, height: 14, now: Traffic.now).text.contains("Clear all 7 captured requests? (y/n)"))
        app.handle(.character("n"))
        XCTAssertEqual(traffic.recorder.statistics.count, 7, "anything but y keeps them")
        app.handle(.character("z"))
        app.handle(.character("y"))
        XCTAssertEqual(traffic.recorder.statistics.count, 0)
        XCTAssertTrue(app.list.ids.isEmpty)
        XCTAssertTrue(app.render(width: 100, height: 14, now: Traffic.now).text.contains("Waiting for requests"))
    }

    func testPauseStopsRecordingAndShowsInTheStatusBar() {
        let traffic = Traffic.mixed()
        let app = app(traffic)
        app.handle(.character("p"))
        XCTAssertTrue(traffic.recorder.statistics.paused)
        XCTAssertTrue(app.render(width: 120, height: 14, now: Traffic.now).text.contains("PAUSED"))
        traffic.simple("GET", "/unrecorded", at: 999)
        XCTAssertEqual(traffic.recorder.statistics.count, 7)
        app.handle(.character("p"))
        XCTAssertFalse(traffic.recorder.statistics.paused)
    }

    func testTheStatusBarsSayWhatServesAndWhatIsKept() {
        var server = Self.server
        server.worker = .reloading
        server.stale = "build failed"
        let screen = app(Traffic.mixed(), server: server).render(width: 160, height: 14, now: Traffic.now).text
        XCTAssertTrue(screen.contains("http://127.0.0.1:8000/"))
        XCTAssertTrue(screen.contains("libapp.so gen 3"))
        XCTAssertTrue(screen.contains("pid 4242"))
        XCTAssertTrue(screen.contains("RELOADING"))
        XCTAssertTrue(screen.contains("STALE: build failed"))
        XCTAssertTrue(screen.contains("1 in flight"))
        XCTAssertTrue(screen.contains("7/1000 kept"))
    }

    func testAChangeOfServerStateAsksForAFrameButTheRequestCountAloneDoesNot() {
        final class Box: @unchecked Sendable { var state = ListScreenTests.server }
        let box = Box()
        let app = InspectorApp(environment: .init(source: Traffic().source, server: { box.state }))
        XCTAssertTrue(app.serverChanged, "nothing drawn yet")
        _ = app.render(width: 80, height: 24, now: Traffic.now)
        XCTAssertFalse(app.serverChanged)
        box.state.served += 1
        XCTAssertFalse(app.serverChanged, "the rate is redrawn by its own tick")
        box.state.worker = .reloading
        XCTAssertTrue(app.serverChanged)
        XCTAssertTrue(app.render(width: 80, height: 24, now: Traffic.now).text.contains("RELOADING"))
        XCTAssertFalse(app.serverChanged)
        app.environment.source.pause()
        XCTAssertTrue(app.serverChanged, "capture paused by `devserve capture pause`")
    }

    func testAClickSelectsARowAndASecondClickOpensIt() {
        let app = app(Traffic.mixed())
        let screen = app.render(width: 100, height: 14, now: Traffic.now)
        let target = row(of: "/missing", in: screen)!
        app.handle(.click(row: target, column: 10))
        XCTAssertEqual(app.list.selectedID, 4)
        XCTAssertFalse(app.list.follow)
        app.handle(.click(row: target, column: 10))
        guard case .detail(let detail) = app.screen else { return XCTFail("a second click opens the request") }
        XCTAssertEqual(detail.recordID, 4)
    }

    func testTheWheelMovesTheSelection() {
        let app = app(Traffic.mixed())
        app.handle(.wheelUp)
        XCTAssertEqual(app.list.selectedID, 4)
        app.handle(.wheelDown)
        XCTAssertEqual(app.list.selectedID, 7)
    }
}

/// A record source that counts the records read from it.
private final class CountingSource: RecordSource, @unchecked Sendable {
    private let recorder: Recorder
    private(set) var reads = 0

    init(_ recorder: Recorder) { self.recorder = recorder }

    func snapshot() -> [RequestRecord] { recorder.snapshot() }
    func record(_ id: Int) -> RequestRecord? {
        reads += 1
        return recorder.record(id)
    }
    func ids(where predicate: (RequestRecord) -> Bool) -> [Int] { recorder.ids(where: predicate) }
    var statistics: Recorder.Statistics { recorder.statistics }
    func pause() { recorder.pause() }
    func resume() { recorder.resume() }
    func clear() { recorder.clear() }
}
