import DevServer
import Foundation
import XCTest

/// Issue 12, section 5: the application cannot silence the event stream or keep the
/// listening socket, and exit() during a request is recorded on it.
final class WorkerDescriptorTests: XCTestCase {
    private var application: ScratchApplication!

    override func setUpWithError() throws {
        application = try ScratchApplication("fds", source: """
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

            """)
    }

    override func tearDown() { application.remove() }

    func testExitDuringARequestIsRecordedOnItAndTheNextRequestIsServed() throws {
        let server = try PythonSupport.serve(application.path, python: "python3")
        _ = try PythonSupport.request(server.port, "/exit")
        XCTAssertTrue(server.waitForLog("is exiting (exit() was called) while serving ["), server.log)
        XCTAssertEqual(try PythonSupport.request(server.port, "/").bodyText, "ok")
        let record = try PythonSupport.record(server.port, target: "/exit")
        XCTAssertEqual(record.summary.outcome, "crashed")
        XCTAssertEqual(record.crash?.signal, "exit status 0")
    }

    func testWritingToOrClosingDescriptor4DoesNotSilenceCapture() throws {
        let server = try PythonSupport.serve(application.path, python: "python3")
        XCTAssertEqual(try PythonSupport.request(server.port, "/fd4").bodyText, "wrote to fd 4", "fd 4 is /dev/null now")
        _ = try PythonSupport.request(server.port, "/after")
        XCTAssertEqual(try PythonSupport.record(server.port, target: "/after").summary.status, 200, "capture goes on")
        XCTAssertTrue(server.log.contains("\"GET /after HTTP/1.1\" 200"), "and the access log: \(server.log)")
    }

    func testAChildTheApplicationSpawnsDoesNotKeepTheListeningSocket() throws {
        let server = try PythonSupport.serve(application.path, python: "python3")
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
