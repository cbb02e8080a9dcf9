import DevServer
import Foundation
import XCTest

/// Issue 12, sections 5 and 6: what an application writes cannot silence or swamp the
/// supervisor, and idle control clients cost no thread each.
final class BoundedTests: XCTestCase {
    private var application: ScratchApplication!

    override func setUpWithError() throws {
        application = try ScratchApplication("noisy", source: """
            import os, sys
            def application(environ, start_response):
                path = environ["PATH_INFO"]
                if path == "/long":
                    sys.__stdout__.write("x" * 2000000)
                    sys.__stdout__.write("\\n")
                    sys.__stdout__.flush()
                if path == "/corrupt":
                    # What a plugin poking at the event stream's new place would do.
                    os.write(500, b"\\x05\\x00\\x00\\x00\\xff")
                start_response("200 OK", [("Content-Type", "text/plain")])
                return [b"ok"]

            """)
    }

    override func tearDown() { application.remove() }

    func testALineWithoutEndIsCutAndCountedNotHeld() throws {
        let server = try PythonSupport.serve(application.path, python: "python3")
        XCTAssertEqual(try PythonSupport.request(server.port, "/long").bodyText, "ok")
        XCTAssertTrue(server.waitForLog("more bytes of that line not shown]"), String(server.log.suffix(500)))
        XCTAssertTrue(server.log.contains("[… 1983616 more bytes of that line not shown]"), String(server.log.suffix(300)))
        XCTAssertLessThan(server.log.utf8.count, 100_000, "the log holds 16 KiB of the line, not 2 MB")
    }

    func testACorruptEventStreamIsAnErrorAndTheWorkerIsReplaced() throws {
        let server = try PythonSupport.serve(application.path, python: "python3")
        _ = try PythonSupport.request(server.port, "/corrupt")
        XCTAssertTrue(server.waitForLog("its event stream is corrupt"), server.log)
        XCTAssertTrue(server.waitForLog("reloaded: generation 2 serves"), server.log)
        _ = try PythonSupport.request(server.port, "/after")
        XCTAssertEqual(try PythonSupport.record(server.port, target: "/after").summary.status, 200, "capture works again")
    }

    func testAWorkerKilledBySomeoneElsesSIGKILLIsReportedAsProbablyOutOfMemory() throws {
        let server = try DevServeProcess(plugin: "hello")
        Thread.sleep(forTimeInterval: 1.3)  // a memory sample is taken once a second
        kill(try XCTUnwrap(server.workerPIDs.first), SIGKILL)
        XCTAssertTrue(server.waitForLog("was killed by SIGKILL, not by devserve: probably out of memory (the kernel's OOM killer); its memory was"), server.log)
        XCTAssertTrue(server.waitForLog("ready: plugin hello", timeout: 10))
    }

    func testIdleControlClientsDoNotHoldUpDevserveLs() throws {
        let server = try DevServeProcess(plugin: "hello")
        // Clients that connect to the control socket and say nothing.
        var idle: [Int32] = []
        defer { idle.forEach { close($0) } }
        let path = ControlSocket.path(port: server.port)
        for _ in 0..<50 {
            let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8) + [0]) }
            _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
            idle.append(descriptor)
        }
        let threads = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(server.process.processIdentifier)/task").count
        XCTAssertLessThan(threads, 30, "a bounded pool, not a thread per client: \(threads) threads")
        let started = Date()
        let (status, output) = try runDevServe(["ls", "--port", String(server.port)], timeout: 30)
        XCTAssertEqual(status, 0, output)
        XCTAssertLessThan(Date().timeIntervalSince(started), 5, "idle clients wait in the poll loop; ls is answered at once")
    }
}
