@testable import DevServer
@testable import TUI
import XCTest

/// Keys are bound to named commands in contexts, and the help screen comes from the bindings.
final class KeyBindingTests: XCTestCase {
    func testContextsShadowGlobalKeysAndFallBackToThem() {
        let keys = KeyBindings.standard
        XCTAssertEqual(keys.command(for: .character("q"), in: .list), .confirmQuit, "q on the list asks to quit")
        XCTAssertEqual(keys.command(for: .character("q"), in: .detail), .back, "elsewhere q goes back")
        XCTAssertEqual(keys.command(for: .character("j"), in: .detail), .moveDown, "global movement everywhere")
        XCTAssertEqual(keys.command(for: .tab, in: .detail), .nextTab)
        XCTAssertNil(keys.command(for: .tab, in: .list))
    }

    func testEveryIssueKeyIsBound() {
        let keys = KeyBindings.standard
        let expected: [(Key, KeyBindings.Context, Command)] = [
            (.character("j"), .list, .moveDown), (.down, .list, .moveDown), (.character("k"), .list, .moveUp), (.up, .list, .moveUp),
            (.character("g"), .list, .top), (.character("G"), .list, .bottom), (.pageUp, .list, .pageUp), (.pageDown, .list, .pageDown),
            (.character(" "), .list, .pageDown), (.enter, .list, .open), (.escape, .detail, .back), (.backTab, .detail, .previousTab),
            (.character("?"), .list, .help), (.character("f"), .list, .filter), (.character("F"), .list, .toggleFollow),
            (.character("o"), .list, .cycleSort), (.character("m"), .list, .mark), (.character("p"), .list, .togglePause),
            (.character("z"), .list, .clear), (.character("Q"), .detail, .quit), (.character("E"), .list, .eventLog),
            (.character("/"), .detail, .search), (.character("n"), .detail, .searchNext), (.character("N"), .detail, .searchPrevious),
        ]
        for (key, context, command) in expected {
            XCTAssertEqual(keys.command(for: key, in: context), command, "\(key.label) in \(context)")
        }
    }

    func testTheHelpScreenListsEveryBindingWithItsDescription() {
        let app = InspectorApp(environment: .init(source: Traffic().recorder))
        app.handle(.character("?"))
        var text = ""
        for _ in 0..<6 {
            text += app.render(width: 100, height: 40, now: Traffic.now).text
            app.handle(.pageDown)
        }
        for binding in KeyBindings.standard.bindings where binding.context != .help && binding.context != .events {
            XCTAssertTrue(text.contains(binding.command.description), "help lists \(binding.command.rawValue)")
            XCTAssertTrue(text.contains(binding.keys.map(\.label).joined(separator: " ")), "help shows the keys of \(binding.command.rawValue)")
        }
        app.handle(.character("q"))
        guard case .list = app.screen else { return XCTFail("q closes the help") }
    }

    func testQuitAsksOnTheListAndCapitalQQuitsAtOnce() {
        final class Calls: @unchecked Sendable { var quits = 0 }
        let calls = Calls()
        let app = InspectorApp(environment: .init(source: Traffic().recorder, quit: { calls.quits += 1 }))
        app.handle(.character("q"))
        XCTAssertTrue(app.render(width: 80, height: 24, now: Traffic.now).text.contains("Quit devserve? (y/n)"))
        app.handle(.character("n"))
        XCTAssertEqual(calls.quits, 0)
        app.handle(.character("Q"))
        XCTAssertEqual(calls.quits, 1)
        XCTAssertTrue(app.quitting)
        app.handle(.character("Q"))
        XCTAssertEqual(calls.quits, 1, "once")
    }

    func testCapitalRAsksTheServerToReload() {
        final class Calls: @unchecked Sendable { var reloads = 0 }
        let calls = Calls()
        let app = InspectorApp(environment: .init(source: Traffic().recorder, reload: { calls.reloads += 1 }))
        app.handle(.character("R"))
        XCTAssertEqual(calls.reloads, 1)
    }

    func testTheEventLogShowsWorkerLinesAndCountsUnreadProblems() {
        let log = EventLog()
        log.append(.info, "worker gen 1 pid 10 ready: plugin hello (ABI 1.0, Swift 6.3.1)", time: Traffic.baseTime)
        log.append(.error, "worker gen 1 pid 10 crashed with SIGILL (Illegal instruction)", time: Traffic.baseTime + 1_000_000)
        log.append(.output, "  gen 1 stderr | Fatal error: boom", time: Traffic.baseTime + 1_000_000)
        let app = InspectorApp(environment: .init(source: Traffic().recorder, eventLog: log))
        XCTAssertTrue(app.render(width: 100, height: 12, now: Traffic.now).text.contains("E: 1 new problem"))
        app.handle(.character("E"))
        let screen = app.render(width: 100, height: 12, now: Traffic.now).text
        XCTAssertTrue(screen.contains("10:00:01 ERROR worker gen 1 pid 10 crashed with SIGILL"), screen)
        XCTAssertTrue(screen.contains("out   gen 1 stderr | Fatal error: boom"))
        log.append(.error, "build failed: " + String(repeating: "error: x ", count: 20) + "END", time: Traffic.baseTime + 2_000_000)
        let wrapped = app.render(width: 60, height: 12, now: Traffic.now).text
        XCTAssertTrue(wrapped.contains("END"), "long lines wrap instead of being cut: \(wrapped)")
        app.handle(.character("q"))
        XCTAssertFalse(app.render(width: 100, height: 12, now: Traffic.now).text.contains("new problem"), "read once opened")
    }
}
