@testable import DevServer
import NIOCore
import NIOEmbedded
import XCTest

/// One timer per connection, re-armed without scheduling: it still fires exactly when the
/// latest deadline passes, and never after a disarm.
final class LazyTimerTests: XCTestCase {
    func testARearmedTimerFiresOnceAtTheLatestDeadline() {
        let loop = EmbeddedEventLoop()
        let timer = LazyTimer(eventLoop: loop)
        var fired: [String] = []
        timer.arm(in: .seconds(10)) { fired.append("first") }
        loop.advanceTime(by: .seconds(4))
        timer.arm(in: .seconds(10)) { fired.append("second") }
        loop.advanceTime(by: .seconds(7))
        XCTAssertEqual(fired, [], "the first deadline was moved on")
        loop.advanceTime(by: .seconds(3))
        XCTAssertEqual(fired, ["second"])
        loop.advanceTime(by: .seconds(30))
        XCTAssertEqual(fired, ["second"], "once")
    }

    func testADisarmedTimerNeverFires() {
        let loop = EmbeddedEventLoop()
        let timer = LazyTimer(eventLoop: loop)
        var fired = false
        timer.arm(in: .seconds(1)) { fired = true }
        timer.disarm()
        loop.advanceTime(by: .seconds(5))
        XCTAssertFalse(fired)
    }

    func testAnEarlierDeadlineThanTheScheduledOneStillFiresOnTime() {
        let loop = EmbeddedEventLoop()
        let timer = LazyTimer(eventLoop: loop)
        var fired: [String] = []
        timer.arm(in: .seconds(75)) { fired.append("idle") }
        timer.arm(in: .seconds(10)) { fired.append("head") }
        loop.advanceTime(by: .seconds(10))
        XCTAssertEqual(fired, ["head"])
    }
}
