import CDevServeShim
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// The worker's pending event bytes (kept in C for the crash handler): after a burst, the
/// buffers give their memory back a step per write, never all at once on the event loop's CPU.
final class EventBufferTests: XCTestCase {
    private let mib = 1 << 20

    func testAfterABurstTheBuffersShrinkAMiBPerWriteDownToTheirMinimum() throws {
        let sink = open("/dev/null", O_WRONLY | O_CLOEXEC)
        defer { close(sink) }
        XCTAssertGreaterThanOrEqual(sink, 0)
        XCTAssertEqual(devserve_shim_events_write(sink), 0, "start from nothing pending")
        let burst = [UInt8](repeating: 0x42, count: 20 * mib)
        // Two writes of the burst: both buffers (pending and spare) grow to hold it.
        for _ in 0..<2 {
            burst.withUnsafeBytes { devserve_shim_events_append2(nil, 0, $0.baseAddress, $0.count) }
            XCTAssertEqual(devserve_shim_events_write(sink), 0)
        }
        let grown = devserve_shim_events_capacity()
        XCTAssertGreaterThanOrEqual(grown, 40 * mib)

        let event = [UInt8](repeating: 0x43, count: 100)
        event.withUnsafeBytes { devserve_shim_events_append2(nil, 0, $0.baseAddress, $0.count) }
        XCTAssertEqual(devserve_shim_events_write(sink), 0)
        XCTAssertEqual(devserve_shim_events_capacity(), grown - mib, "one step, not the whole buffer")

        for _ in 0..<100 {
            event.withUnsafeBytes { devserve_shim_events_append2(nil, 0, $0.baseAddress, $0.count) }
            XCTAssertEqual(devserve_shim_events_write(sink), 0)
        }
        XCTAssertEqual(devserve_shim_events_capacity(), 2 * 65536, "both buffers back at their 64 KiB minimum")
    }

    func testASteadyLoadKeepsItsBuffersInsteadOfShrinkingAndRegrowingThem() throws {
        let sink = open("/dev/null", O_WRONLY | O_CLOEXEC)
        defer { close(sink) }
        let batch = [UInt8](repeating: 0x44, count: 3 * mib)
        for _ in 0..<4 {
            batch.withUnsafeBytes { devserve_shim_events_append2(nil, 0, $0.baseAddress, $0.count) }
            XCTAssertEqual(devserve_shim_events_write(sink), 0)
        }
        let steady = devserve_shim_events_capacity()
        for _ in 0..<20 {
            batch.withUnsafeBytes { devserve_shim_events_append2(nil, 0, $0.baseAddress, $0.count) }
            XCTAssertEqual(devserve_shim_events_write(sink), 0)
        }
        XCTAssertEqual(devserve_shim_events_capacity(), steady)
    }
}
