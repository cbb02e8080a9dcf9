@testable import DevServer
import XCTest

/// When the supervisor gives evicted records' memory back: at once when quiet, rarely and only
/// for a lot under load, never twice for the same evictions.
final class MemoryTrimTests: XCTestCase {
    private let mib = 1 << 20

    func testAQuietServerTrimsWhatEvictionsFreedOnceAndThenSleeps() {
        var trim = MemoryTrim(maxMemory: 256 * mib)
        XCTAssertTrue(trim.shouldTrim(now: 0, evictions: 10, quiet: { true }, freeBytes: { 20 * self.mib }))
        XCTAssertFalse(trim.isPending(evictions: 10), "nothing more comes free until the next eviction")
        XCTAssertFalse(trim.shouldTrim(now: 1, evictions: 10, quiet: { true }, freeBytes: { 20 * self.mib }))
        XCTAssertTrue(trim.shouldTrim(now: 2, evictions: 11, quiet: { true }, freeBytes: { 20 * self.mib }))
    }

    func testAQuietLookThatFindsLittleFreeSettlesUntilTheNextEviction() {
        var trim = MemoryTrim(maxMemory: 256 * mib)
        XCTAssertFalse(trim.shouldTrim(now: 0, evictions: 5, quiet: { true }, freeBytes: { 4 * self.mib }))
        XCTAssertFalse(trim.isPending(evictions: 5), "an idle loop would otherwise wake ten times a second for nothing")
        XCTAssertTrue(trim.isPending(evictions: 6))
    }

    func testUnderLoadATrimWaitsForAQuarterOfMaxMemoryFree() {
        var trim = MemoryTrim(maxMemory: 256 * mib)
        // 48 MiB free after the 1 MiB echo: a 3 ms trim that would delay the requests being served.
        XCTAssertFalse(trim.shouldTrim(now: 0, evictions: 100, quiet: { false }, freeBytes: { 48 * self.mib }))
        XCTAssertTrue(trim.isPending(evictions: 100), "still owed when the server goes quiet")
        XCTAssertTrue(trim.shouldTrim(now: 3_000_000, evictions: 100, quiet: { false }, freeBytes: { 65 * self.mib }))
    }

    func testUnderLoadTheFreeHeapIsLookedAtAtMostEveryTwoSeconds() {
        var trim = MemoryTrim(maxMemory: 64 * mib)
        var looks = 0
        let free = { () -> Int in looks += 1; return 4 * self.mib }
        for now in stride(from: 0, to: 4_000_000, by: 1_000) {
            _ = trim.shouldTrim(now: now, evictions: now, quiet: { false }, freeBytes: free)
        }
        XCTAssertEqual(looks, 2)
    }

    func testASmallMaxMemoryStillTrimsUnderLoadAboveTheSixteenMiBFloor() {
        var trim = MemoryTrim(maxMemory: 64 * mib)
        XCTAssertFalse(trim.shouldTrim(now: 0, evictions: 1, quiet: { false }, freeBytes: { 16 * self.mib }))
        XCTAssertTrue(trim.shouldTrim(now: 2_000_000, evictions: 2, quiet: { false }, freeBytes: { 17 * self.mib }))
    }
}
