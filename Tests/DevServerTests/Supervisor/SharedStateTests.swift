@testable import DevServer
import XCTest

/// The supervisor's published state wakes its observers (the inspector) only when it matters.
final class SharedStateTests: XCTestCase {
    final class Count: @unchecked Sendable { var value = 0 }

    func testObserversAreToldOfAChangeAfterItIsReadable() {
        let shared = Shared(ServerState())
        let seen = Count()
        shared.observe { [shared] in seen.value = shared.value.generation }
        var next = ServerState()
        next.generation = 2
        shared.value = next
        XCTAssertEqual(seen.value, 2)
    }

    func testAQuietSetStoresWithoutWakingAnyone() {
        let shared = Shared(ServerState())
        let calls = Count()
        shared.observe { calls.value += 1 }
        var next = ServerState()
        next.served = 10
        shared.set(next, notify: false)
        XCTAssertEqual(shared.value.served, 10)
        XCTAssertEqual(calls.value, 0)
    }
}
