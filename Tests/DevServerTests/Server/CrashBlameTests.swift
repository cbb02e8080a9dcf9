import DevServer
import Foundation
import XCTest

/// Issue 12, section 4: a crash costs only its own request, and is blamed on it alone; crash
/// detection comes from the worker's own signal handler, never from text.
final class CrashBlameTests: XCTestCase {
    func testACrashIsBlamedOnItsOwnRequestAndTheOthersInFlightAreInterrupted() throws {
        let server = try DevServeProcess(plugin: "errors")
        let slow = try RawClient(port: server.port)
        try slow.send("GET /slow?ms=3000 HTTP/1.1\r\nHost: t\r\n\r\n")
        Thread.sleep(forTimeInterval: 0.3)
        let trapping = try RawClient(port: server.port)
        try trapping.send("GET /trap HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertTrue(server.waitForLog("was in flight when the worker died"), server.log)
        XCTAssertTrue(server.log.contains("caught SIGILL (Illegal instruction) while serving ["), server.log)
        let entries = try devserveJSON([RecordJSON.Summary].self, ["ls"], port: server.port)
        XCTAssertEqual(entries.map(\.target), ["/slow?ms=3000", "/trap"])
        XCTAssertEqual(entries.map(\.outcome), ["interrupted", "crashed"], "only the trapping request crashed")
        guard entries.count == 2 else { return }
        let innocent = try devserveJSON(RecordJSON.Full.self, ["show", String(entries[0].id)], port: server.port)
        XCTAssertNil(innocent.crash, "the trap's backtrace is not pinned on an innocent request")
        XCTAssertEqual(innocent.outcomeDetail, "interrupted: the worker crashed (SIGILL (Illegal instruction)) while serving #\(entries[1].id)")
        let culprit = try devserveJSON(RecordJSON.Full.self, ["show", String(entries[1].id)], port: server.port)
        XCTAssertTrue(culprit.crash?.backtrace.contains("Fatal error: Unexpectedly found nil") == true, "\(String(describing: culprit.crash))")
    }

    func testTextThatLooksLikeACrashReportDoesNotRestartTheWorker() throws {
        let directory = NSTemporaryDirectory() + "devserve-crashtext-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Written to the worker's real stderr, as a plugin's own logging would be.
        try """
            import sys
            def application(environ, start_response):
                sys.__stderr__.write("*** Program crashed: Bad pointer dereference at 0x0000000000000000 ***\\n")
                sys.__stderr__.flush()
                start_response("200 OK", [("Content-Type", "text/plain")])
                return [b"fine"]

            """.write(toFile: directory + "/liar.py", atomically: false, encoding: .utf8)
        let server = try PythonSupport.serve(directory + "/liar.py", python: "python3")
        for _ in 0..<20 {
            XCTAssertEqual(try PythonSupport.request(server.port, "/").bodyText, "fine")
        }
        Thread.sleep(forTimeInterval: 0.3)
        XCTAssertEqual(server.workerPIDs.count, 1, "one worker, never replaced: \(server.log)")
        XCTAssertFalse(server.log.contains("restarting"), server.log)
    }

    func testTheCrashFrameTheHandlerWritesDecodesAsACrashEvent() throws {
        var buffer = EventFrame.crashFrame(signal: 11, requestID: "12.345")
        var encoded: [UInt8] = []
        EventFrame.encode(.crashed(signal: 11, requestID: "12.345"), into: &encoded)
        XCTAssertEqual(buffer, encoded, "C and Swift write the same bytes")
        XCTAssertEqual(try EventFrame.decode(&buffer), [.crashed(signal: 11, requestID: "12.345")])
        XCTAssertEqual(buffer, [], "the whole frame was read")
    }
}

/// Issue 12, section 5: the application cannot silence the event stream or keep the
/// listening socket, and exit() during a request is recorded on it.
final class WorkerDescriptorTests: XCTestCase {
    private var directory: String!

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "devserve-fds-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try """
            import ctypes, os, subprocess
            def application(environ, start_response):
                path = environ["PATH_INFO"]
                body = b"ok"
                if path == "/exit":
                    ctypes.CDLL(None).exit(0)
                if path == "/fd4":
                    # Five bytes announcing a 200 MiB frame, then close: what used to silence capture.
                    try:
                        os.write(4, b"\\x00\\x00\\x00\\x0c\\x04")
                        os.close(4)
                        body = b"wrote to fd 4"
                    except OSError as error:
                        body = ("fd 4: %s" % error.strerror).encode()
                if path == "/spawn":
                    child = subprocess.Popen(["sleep", "30"], close_fds=False)
                    body = str(child.pid).encode()
                start_response("200 OK", [("Content-Type", "text/plain")])
                return [body]

            """.write(toFile: directory + "/fds.py", atomically: false, encoding: .utf8)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    func testExitDuringARequestIsRecordedOnItAndTheNextRequestIsServed() throws {
        let server = try PythonSupport.serve(directory + "/fds.py", python: "python3")
        _ = try PythonSupport.request(server.port, "/exit")
        XCTAssertTrue(server.waitForLog("is exiting (exit() was called) while serving ["), server.log)
        XCTAssertEqual(try PythonSupport.request(server.port, "/").bodyText, "ok")
        let record = try PythonSupport.record(server.port, target: "/exit")
        XCTAssertEqual(record.summary.outcome, "crashed")
        XCTAssertEqual(record.crash?.signal, "exit status 0")
    }

    func testWritingToOrClosingDescriptor4DoesNotSilenceCapture() throws {
        let server = try PythonSupport.serve(directory + "/fds.py", python: "python3")
        XCTAssertEqual(try PythonSupport.request(server.port, "/fd4").bodyText, "wrote to fd 4", "fd 4 is /dev/null now")
        _ = try PythonSupport.request(server.port, "/after")
        XCTAssertEqual(try PythonSupport.record(server.port, target: "/after").summary.status, 200, "capture goes on")
        XCTAssertTrue(server.log.contains("\"GET /after HTTP/1.1\" 200"), "and the access log: \(server.log)")
    }

    func testAChildTheApplicationSpawnsDoesNotKeepTheListeningSocket() throws {
        let server = try PythonSupport.serve(directory + "/fds.py", python: "python3")
        let port = server.port
        // Read by length, not to the close: the child also inherits this connection (NIO accepts
        // without SOCK_CLOEXEC), so the close would wait for it.
        let client = try RawClient(port: port)
        try client.send("GET /spawn HTTP/1.1\r\nHost: t\r\n\r\n")
        let child = try XCTUnwrap(Int32(client.readResponse().bodyText))
        defer { kill(child, SIGKILL) }
        XCTAssertEqual(server.stop(), 0)
        // The port is free again although the child lives on.
        XCTAssertEqual(kill(child, 0), 0, "the child is still running")
        let probe = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(probe) }
        // SO_REUSEADDR passes over the test's own connections in TIME_WAIT, never over a
        // socket still listening on the port.
        var one: Int32 = 1
        setsockopt(probe, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(probe, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        XCTAssertEqual(bound, 0, "port \(port) is free: errno \(errno)")
    }
}
