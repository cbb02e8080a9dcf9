@testable import DevServer
import XCTest

/// The recorder's ring on its own: order kept through wrap-around and growth, changes in place.
final class RecordRingTests: XCTestCase {
    private func record(_ id: Int) -> RequestRecord {
        guard case .requestStarted(let start) = RecorderTests.start("1.\(id)") else { fatalError() }
        return RequestRecord(id: id, start: start)
    }

    func testRecordsStayInArrivalOrderThroughWrapAroundAndGrowth() {
        var ring = RecordRing()
        var expected: [Int] = []
        var next = 1
        for round in 0..<50 {
            for _ in 0..<(round % 7 + 3) {
                ring.append(record(next))
                expected.append(next)
                next += 1
            }
            for _ in 0..<(round % 5) where !expected.isEmpty {
                XCTAssertEqual(ring.removeFirst().id, expected.removeFirst())
            }
            var seen: [Int] = []
            ring.forEach { seen.append($0.id) }
            XCTAssertEqual(seen, expected)
            XCTAssertEqual(ring.count, expected.count)
            XCTAssertEqual(ring.firstID, expected.first)
            XCTAssertEqual(ring.lastID, expected.last)
        }
    }

    func testAChangeLandsOnTheRecordWhereItLies() {
        var ring = RecordRing()
        for id in 1...20 { ring.append(record(id)) }
        for _ in 0..<15 { _ = ring.removeFirst() }
        for id in 21...30 { ring.append(record(id)) }
        ring.modify(7) { $0.status = 418 }
        XCTAssertEqual(ring[7].status, 418)
        XCTAssertEqual(ring.id(at: 7), 23)
        XCTAssertEqual(ring.lastID { $0.status == 418 }, 23)
        XCTAssertNil(ring.lastID { $0.status == 500 })
    }
}
