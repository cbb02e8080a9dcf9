import Foundation
import XCTest

/// Issue 3, sections 1, 2 and 5: the command, the supervisor and its output.
final class SupervisorTests: XCTestCase {
    func testATrapIsReportedAndTheNextRequestSucceeds() throws {
        let server = try DevServeProcess(plugin: "errors")
        let trapping = try RawClient(port: server.port)
        try trapping.send("GET /trap HTTP/1.1\r\nHost: t\r\n\r\n")
        let (bytes, closed) = trapping.readUntilClose(timeout: 10)
        XCTAssertTrue(closed)
        XCTAssertEqual(RawResponse(bytes).status, 500, "the request in flight dies with its worker, answered by its crash handler")
        let client = try RawClient(port: server.port)
        try client.send("GET /log HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(client.readResponse(timeout: 10).bodyText, "logged\n")
        XCTAssertTrue(server.waitForLog("crashed with SIGILL"), server.log)
        XCTAssertTrue(server.log.contains("Fatal error: Unexpectedly found nil while unwrapping an Optional value"), "the first line of the backtrace is in the crash line")
        XCTAssertTrue(server.waitForLog("GET /trap was in flight when the worker died: crashed"), server.log)
    }

    func testKillingTheWorkerWithAnySignalNeverStopsTheServer() throws {
        let server = try DevServeProcess(plugin: "errors")
        for (round, signal) in [SIGKILL, SIGSEGV, SIGTERM, SIGABRT].enumerated() {
            let busy = try RawClient(port: server.port)
            try busy.send("GET /slow?ms=2000 HTTP/1.1\r\nHost: t\r\n\r\n")
            Thread.sleep(forTimeInterval: 0.2)
            let pid = try XCTUnwrap(server.workerPIDs.last)
            kill(pid, signal)
            XCTAssertTrue(server.waitForLog("ready", timeout: 10))
            let deadline = Date().addingTimeInterval(10)
            while server.workerPIDs.count < round + 2 && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
            let client = try RawClient(port: server.port)
            try client.send("GET /log HTTP/1.1\r\nHost: t\r\n\r\n")
            XCTAssertEqual(client.readResponse(timeout: 10).status, 200, "after signal \(signal)")
        }
        XCTAssertEqual(server.stop(), 0)
    }

    func testAWorkerDyingOnStartUpIsRetriedWithBackoffThenAwaitsANewBuild() throws {
        let directory = NSTemporaryDirectory() + "devserve-backoff-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let plugin = directory + "/app.so"
        try FileManager.default.copyItem(atPath: Plugins.path("fixture-crash-on-start"), toPath: plugin)
        let marker = directory + "/crash"
        let server = try DevServeProcess(plugin: "", environment: ["DEVSERVE_FIXTURE_CRASH_FILE": marker], pluginPath: plugin)
        _ = FileManager.default.createFile(atPath: marker, contents: nil)
        kill(try XCTUnwrap(server.workerPIDs.last), SIGKILL)
        XCTAssertTrue(server.waitForLog("restarting in 100 ms"), server.log)
        XCTAssertTrue(server.waitForLog("restarting in 200 ms"), server.log)
        XCTAssertTrue(server.waitForLog("waiting for \(plugin) to change", timeout: 15), server.log)
        try FileManager.default.removeItem(atPath: marker)
        // A new build: the file changes, and the next worker starts.
        Thread.sleep(forTimeInterval: 0.05)
        try FileManager.default.removeItem(atPath: plugin)
        try FileManager.default.copyItem(atPath: Plugins.path("fixture-crash-on-start"), toPath: plugin)
        XCTAssertTrue(server.waitForLog("changed: starting a new worker (generation 2)", timeout: 5), server.log)
        let deadline = Date().addingTimeInterval(5)
        while server.workerPIDs.count < 2 && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        XCTAssertEqual(server.workerPIDs.count, 2, server.log)
        Thread.sleep(forTimeInterval: 0.1)
        XCTAssertFalse(server.log.contains("generation 3"), "one change starts one new generation: \(server.log)")
        let client = try RawClient(port: server.port)
        try client.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(client.readResponse().status, 200)
    }

    func testSIGTERMLetsARequestInFlightFinishAndLeavesNoProcess() throws {
        let server = try DevServeProcess(plugin: "errors")
        let worker = try XCTUnwrap(server.workerPIDs.last)
        let client = try RawClient(port: server.port)
        try client.send("GET /slow?ms=700 HTTP/1.1\r\nHost: t\r\n\r\n")
        Thread.sleep(forTimeInterval: 0.2)
        kill(server.process.processIdentifier, SIGTERM)
        XCTAssertEqual(client.readResponse(timeout: 10).bodyText, "slept 700 ms\n", "the request in flight finished")
        server.process.waitUntilExit()
        XCTAssertEqual(server.process.terminationStatus, 0)
        XCTAssertEqual(kill(worker, 0), -1, "the worker is gone")
        XCTAssertTrue(server.waitForLog("devserve: stopped", timeout: 2), server.log)
    }

    func testTheWorkerDiesWithItsSupervisorEvenOnSIGKILL() throws {
        let server = try DevServeProcess(plugin: "hello")
        let worker = try XCTUnwrap(server.workerPIDs.last)
        kill(server.process.processIdentifier, SIGKILL)
        server.process.waitUntilExit()
        let deadline = Date().addingTimeInterval(5)
        while kill(worker, 0) == 0 && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        XCTAssertEqual(kill(worker, 0), -1, "no stray worker")
    }

    func testTheAccessLogHasClientMethodTargetStatusBytesDurationAndGeneration() throws {
        let server = try DevServeProcess(plugin: "hello")
        let client = try RawClient(port: server.port)
        try client.send("GET /path?q=1 HTTP/1.1\r\nHost: t\r\n\r\n")
        _ = client.readResponse()
        XCTAssertTrue(server.waitForLog("\"GET /path?q=1 HTTP/1.1\" 200 13 B"), server.log)
        let line = server.log.split(separator: "\n").first { $0.contains("/path?q=1") }!
        XCTAssertTrue(line.hasPrefix("127.0.0.1:"), String(line))
        XCTAssertTrue(line.contains(" gen 1 "), String(line))
        XCTAssertFalse(server.log.contains("\u{1B}["), "no colour when stdout is not a terminal")
    }

    func testWsgiErrorsAndViolationsAreLoggedWithTheRequestID() throws {
        let server = try DevServeProcess(plugin: "errors")
        let client = try RawClient(port: server.port)
        try client.send("GET /log HTTP/1.1\r\nHost: t\r\n\r\nGET /hop HTTP/1.1\r\nHost: t\r\n\r\n")
        _ = client.read(until: { $0.text.contains("set Connection") })
        XCTAssertTrue(server.waitForLog("warning: [1.2] gateway violation hop-by-hop-header"), server.log)
        XCTAssertTrue(server.log.contains("[1.1] a line for wsgi.errors"), server.log)
    }

    func testAPortInUseIsAOneLineError() throws {
        let server = try DevServeProcess(plugin: "hello")
        let (status, output) = try runDevServe([Plugins.path("hello"), "--port", String(server.port), "--no-tui"])
        XCTAssertEqual(status, 1)
        XCTAssertTrue(output.contains("port \(server.port) on 127.0.0.1 is already in use"), output)
    }

    func testAMissingFileIsAOneLineError() throws {
        let (status, output) = try runDevServe(["/nonexistent/app.so", "--port", "0"])
        XCTAssertNotEqual(status, 0)
        XCTAssertTrue(output.contains("/nonexistent/app.so: no such file"), output)
    }

    func testAFileThatIsNotAPluginIsAClearError() throws {
        let (status, output) = try runDevServe([Plugins.path("fixture-no-entry"), "--port", "0", "--no-tui"])
        XCTAssertEqual(status, 1)
        XCTAssertTrue(output.contains("not a devserve plugin: it exports no devserve_plugin_entry"), output)
        let (wrongStatus, wrongOutput) = try runDevServe([Plugins.path("fixture-wrong-major"), "--port", "0", "--no-tui"])
        XCTAssertEqual(wrongStatus, 1)
        XCTAssertTrue(wrongOutput.contains("ABI 99.0"), wrongOutput)
    }

    func testBindingAnythingButLoopbackIsWarnedAbout() throws {
        let loopback = try DevServeProcess(plugin: "hello")
        XCTAssertFalse(loopback.log.contains("not loopback"), loopback.log)
        // 0.0.0.0 listens on every interface; only loopback is used to talk to it here.
        let everywhere = try DevServeProcess(plugin: "hello", arguments: ["--host", "0.0.0.0"])
        XCTAssertTrue(everywhere.log.contains("warning: listening on 0.0.0.0, not loopback"), everywhere.log)
        let client = try RawClient(port: everywhere.port)
        try client.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(client.readResponse().status, 200)
    }

    func testPortZeroPrintsTheRealPortAndTheBannerWarnsAboutProduction() throws {
        let server = try DevServeProcess(plugin: "hello")
        XCTAssertNotEqual(server.port, 0)
        XCTAssertTrue(server.log.contains("development server: do not use in production"))
        XCTAssertTrue(server.log.contains("ready: plugin hello (ABI 1.1, Swift "))
    }

    func testHelpDocumentsTheCommandAndVersionPrintsIt() throws {
        let (status, help) = try runDevServe(["--help"])
        XCTAssertEqual(status, 0)
        for option in ["--host", "--port", "--threads", "--no-tui", "--max-request-body", "--header-timeout", "--idle-timeout", "--python", "--validate"] {
            XCTAssertTrue(help.contains(option), "--help lacks \(option):\n\(help)")
        }
        XCTAssertTrue(help.contains("USAGE: devserve [<options>] <application>"), help)
        XCTAssertTrue(help.contains("Python WSGI application"), help)
        XCTAssertTrue(help.contains("8000 octets"), "the limits are documented")
        XCTAssertFalse(help.contains("Serve one plugin generation"), "the worker subcommand is hidden")
        let (_, version) = try runDevServe(["--version"])
        XCTAssertTrue(version.contains("0.1.0"), version)
        XCTAssertTrue(version.contains("Python 3."), "--version names the Python a Python application would use: \(version)")
    }
}
