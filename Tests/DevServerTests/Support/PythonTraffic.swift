import DevServer
import Foundation
import XCTest

/// GET / on new connections from another thread until stopped, counting failures.
final class PythonTraffic: @unchecked Sendable {
    private let lock = NSLock()
    private var bodies: [String] = []
    private(set) var failures: [String] = []
    private var stopped = false
    private let done = DispatchSemaphore(value: 0)

    init(port: Int) {
        Thread.detachNewThread { [self] in
            while !lock.withLock({ stopped }) {
                do {
                    let response = try PythonSupport.request(port, "/")
                    lock.withLock {
                        if response.status == 200 { bodies.append(response.bodyText) } else { failures.append("status \(response.status)") }
                    }
                } catch {
                    lock.withLock { failures.append("\(error)") }
                }
            }
            done.signal()
        }
    }

    func waitFor(count: Int) {
        let deadline = Date().addingTimeInterval(10)
        while lock.withLock({ bodies.count }) < count && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
    }

    func waitFor(body: String) {
        let deadline = Date().addingTimeInterval(10)
        while !lock.withLock({ bodies.suffix(5).contains(body) }) && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
    }

    func stop() -> [String] {
        lock.withLock { stopped = true }
        done.wait()
        return lock.withLock { bodies }
    }
}
