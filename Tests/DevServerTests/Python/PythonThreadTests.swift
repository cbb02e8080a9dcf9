import DevServer
import Foundation
import XCTest

/// Issue 11, threads: the GIL is released while the host waits, so requests overlap.
final class PythonThreadTests: XCTestCase {
    func testSleepingRequestsOverlapOnTheApplicationThreads() throws {
        let server = try PythonSupport.serve(PythonSupport.sample("bare_app.py"), python: "python3")
        let started = Date()
        let group = DispatchGroup()
        let served = Statuses()
        for _ in 0..<16 {
            group.enter()
            Thread.detachNewThread {
                served.append((try? PythonSupport.request(server.port, "/slow?ms=600").status) ?? 0)
                group.leave()
            }
        }
        XCTAssertEqual(group.wait(timeout: .now() + 20), .success)
        let elapsed = Date().timeIntervalSince(started)
        XCTAssertEqual(served.values, Array(repeating: 200, count: 16))
        XCTAssertLessThan(elapsed, 3.0, "16 requests sleeping 600 ms overlap (serialized they take 9.6 s)")
    }
}

private final class Statuses: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [Int] = []
    func append(_ status: Int) { lock.withLock { list.append(status) } }
    var values: [Int] { lock.withLock { list } }
}
