import DevServer
import Foundation
import XCTest

/// Issue 6: rebuild the plugin, keep serving, lose no request.
final class ReloadTests: XCTestCase {
    private var directory: String!

    override func setUpWithError() throws {
        directory = try makeScratchDirectory("reload")
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    /// Rewrites `path` in place with `source`'s bytes, as gold does (truncate, then write).
    private func rewriteInPlace(_ path: String, from source: String) throws {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: source))
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: path))
        try handle.truncate(atOffset: 0)
        try handle.write(contentsOf: bytes)
        try handle.close()
    }

    /// Writes beside `path` and renames into place, as lld does.
    private func replaceByRename(_ path: String, from source: String) throws {
        let temporary = path + ".tmp"
        try? FileManager.default.removeItem(atPath: temporary)
        try FileManager.default.copyItem(atPath: source, toPath: temporary)
        XCTAssertEqual(rename(temporary, path), 0)
    }

    /// GET /log on a new connection each time until `stop`, from another thread.
    private final class Traffic: @unchecked Sendable {
        let port: Int
        private let lock = NSLock()
        private(set) var bodies: [String] = []
        private(set) var failures: [String] = []
        private var stopped = false
        private let done = DispatchSemaphore(value: 0)

        init(port: Int) {
            self.port = port
            Thread.detachNewThread { [self] in
                while !lock.withLock({ stopped }) {
                    do {
                        let client = try RawClient(port: port)
                        try client.send("GET /log HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
                        let (bytes, _) = client.readUntilClose(timeout: 5)
                        let response = RawResponse(bytes)
                        lock.withLock {
                            if response.status == 200 { bodies.append(response.bodyText) } else { failures.append(bytes.text.isEmpty ? "empty reply" : bytes.text) }
                        }
                    } catch {
                        lock.withLock { failures.append("\(error)") }
                    }
                }
                done.signal()
            }
        }

        func stop() {
            lock.withLock { stopped = true }
            done.wait()
        }

        var count: Int { lock.withLock { bodies.count } }
    }

    private func waitForResponses(_ traffic: Traffic, atLeast count: Int) {
        let deadline = Date().addingTimeInterval(10)
        while traffic.count < count && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
    }

    func testRebuildingThePluginSwapsGenerationsWithoutFailingARequest() throws {
        let plugin = directory + "/app.so"
        try FileManager.default.copyItem(atPath: Plugins.path("hello"), toPath: plugin)
        let server = try DevServeProcess(plugin: "", arguments: ["--capacity", "100000"], pluginPath: plugin)
        let traffic = Traffic(port: server.port)
        waitForResponses(traffic, atLeast: 20)
        try rewriteInPlace(plugin, from: Plugins.path("errors"))
        XCTAssertTrue(server.waitForLog("reloaded: generation 2 serves"), server.log)
        let atSwap = traffic.count
        waitForResponses(traffic, atLeast: atSwap + 20)
        let beforeSecondChange = traffic.count
        try replaceByRename(plugin, from: Plugins.path("hello"))
        XCTAssertTrue(server.waitForLog("reloaded: generation 3 serves"), server.log)
        let atSecondSwap = traffic.count
        waitForResponses(traffic, atLeast: atSecondSwap + 20)
        traffic.stop()
        XCTAssertEqual(traffic.failures, [], "no request failed during the swaps")
        XCTAssertTrue(Set(traffic.bodies).isSubset(of: ["Hello world!\n", "logged\n"]), "\(Set(traffic.bodies))")
        // After a generation reports ready and the old one is told to retire, requests already
        // accepted by the old one may still finish there; shortly after, only the new code answers.
        XCTAssertEqual(Set(traffic.bodies[(atSwap + 5)..<beforeSecondChange]), ["logged\n"])
        XCTAssertEqual(Set(traffic.bodies[(atSecondSwap + 5)...]), ["Hello world!\n"])
        XCTAssertTrue(server.waitForLog("worker gen 1 pid"), server.log)
        let generations = Set(try devserveJSON([RecordJSON.Summary].self, ["ls"], port: server.port).map(\.generation))
        XCTAssertEqual(generations, [1, 2, 3], "every captured request carries the generation that served it")
    }

    func testABrokenPluginLeavesTheOldGenerationServingAndSaysWhy() throws {
        let plugin = directory + "/app.so"
        try FileManager.default.copyItem(atPath: Plugins.path("hello"), toPath: plugin)
        let server = try DevServeProcess(plugin: "", pluginPath: plugin)
        let hello = try Data(contentsOf: URL(fileURLWithPath: Plugins.path("hello")))
        try hello.prefix(hello.count / 2).write(to: URL(fileURLWithPath: plugin))
        XCTAssertTrue(server.waitForLog("STALE BUILD: still serving generation 1"), server.log)
        XCTAssertTrue(server.log.contains("\(plugin): not a loadable shared library: it is truncated"), server.log)
        try rewriteInPlace(plugin, from: Plugins.path("fixture-wrong-major"))
        XCTAssertTrue(server.waitForLog("built for devserve plugin ABI 99.0"), server.log)
        let client = try RawClient(port: server.port)
        try client.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(client.readResponse().bodyText, "Hello world!\n", "the old generation still serves")
        let (_, listing) = try runDevServe(["ls", "--port", String(server.port)])
        XCTAssertTrue(listing.contains("serving generation 1 (STALE: generation 3 failed:"), listing)
        // The next change tries again.
        try rewriteInPlace(plugin, from: Plugins.path("errors"))
        XCTAssertTrue(server.waitForLog("reloaded: generation 4 serves"), server.log)
        let (_, fixed) = try runDevServe(["ls", "--port", String(server.port)])
        XCTAssertTrue(fixed.contains("serving generation 4\n"), fixed)
    }

    func testABuildThatFailsKeepsServingAndTheNextSuccessfulBuildReloads() throws {
        let sources = directory + "/src"
        try FileManager.default.createDirectory(atPath: sources, withIntermediateDirectories: true)
        let plugin = directory + "/app.so"
        try FileManager.default.copyItem(atPath: Plugins.path("hello"), toPath: plugin)
        let script = """
            if [ -e "\(directory!)/FAIL" ]; then echo "app.swift:3: error: cannot find 'x' in scope" >&2; exit 1; fi
            cp "\(Plugins.path("errors"))" "\(plugin).new" && mv "\(plugin).new" "\(plugin)"
            echo built
            """
        try script.write(toFile: directory + "/build.sh", atomically: true, encoding: .utf8)
        let server = try DevServeProcess(plugin: "", arguments: ["--watch", sources, "--build", "sh \(directory!)/build.sh"], pluginPath: plugin)
        _ = FileManager.default.createFile(atPath: directory + "/FAIL", contents: nil)
        try "let x = 1\n".write(toFile: sources + "/app.swift", atomically: false, encoding: .utf8)
        XCTAssertTrue(server.waitForLog("build failed with status 1"), server.log)
        XCTAssertTrue(server.log.contains("build | app.swift:3: error: cannot find 'x' in scope"), "the build's errors are shown")
        let client = try RawClient(port: server.port)
        try client.send("GET /log HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(client.readResponse().bodyText, "Hello world!\n")
        try FileManager.default.removeItem(atPath: directory + "/FAIL")
        try "let x = 2\n".write(toFile: sources + "/app.swift", atomically: false, encoding: .utf8)
        XCTAssertTrue(server.waitForLog("build succeeded"), server.log)
        XCTAssertTrue(server.waitForLog("reloaded: generation 2 serves"), server.log)
        let after = try RawClient(port: server.port)
        try after.send("GET /log HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(after.readResponse().bodyText, "logged\n")
    }

    func testWatchWithoutBuildRestartsTheWorkerOnAChange() throws {
        let sources = directory + "/src"
        try FileManager.default.createDirectory(atPath: sources, withIntermediateDirectories: true)
        let server = try DevServeProcess(plugin: "hello", arguments: ["--watch", sources])
        try "x".write(toFile: sources + "/config.json", atomically: false, encoding: .utf8)
        XCTAssertTrue(server.waitForLog("config.json changed: starting a new worker (generation 2)"), server.log)
        XCTAssertTrue(server.waitForLog("reloaded: generation 2 serves"), server.log)
    }

    func testAKeepAliveResponseStillRunningWhenItsWorkerRetiresLeavesTheConnectionOpenForTheClientsNextRequest() throws {
        let server = try DevServeProcess(plugin: "bench")
        let client = try RawClient(port: server.port)
        // Twenty chunks 100 ms apart: the head says keep-alive, and the response is still
        // going when the next generation takes over and the old worker is told to stop.
        try client.send("GET /stream?n=20&delay_ms=100 HTTP/1.1\r\nHost: t\r\n\r\n")
        var response = client.read(until: { $0.firstRange(of: Array("S1 ".utf8)) != nil })
        XCTAssertFalse(response.text.lowercased().contains("connection: close"), response.text)
        let (status, output) = try runDevServe(["reload", "--port", String(server.port)])
        XCTAssertEqual(status, 0, output)
        XCTAssertTrue(server.waitForLog("reloaded: generation 2 serves"), server.log)
        XCTAssertFalse(RawClient.isCompleteResponse(response), "the stop came while the response was running")
        let soFar = response
        response = soFar + client.read(until: { RawClient.isCompleteResponse(soFar + $0) })
        XCTAssertTrue(RawClient.isCompleteResponse(response))
        // A keep-alive client sends its next request as soon as it has read the last one.
        try client.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
        let next = client.readResponse()
        XCTAssertEqual(next.status, 200, "answered, not reset: \(next)")
        XCTAssertEqual(next.header("connection")?.lowercased(), "close")
        XCTAssertTrue(client.readUntilClose(timeout: 2).closed, "then the retiring worker closes it")
    }

    func testDevserveReloadStartsTheNextGeneration() throws {
        let server = try DevServeProcess(plugin: "hello")
        let (status, output) = try runDevServe(["reload", "--port", String(server.port)])
        XCTAssertEqual(status, 0, output)
        XCTAssertTrue(server.waitForLog("`devserve reload` asked for a reload: starting a new worker (generation 2)"), server.log)
        XCTAssertTrue(server.waitForLog("reloaded: generation 2 serves"), server.log)
    }

    func testSIGHUPReloadsInsteadOfStopping() throws {
        let server = try DevServeProcess(plugin: "hello")
        kill(server.process.processIdentifier, SIGHUP)
        XCTAssertTrue(server.waitForLog("SIGHUP received: starting a new worker (generation 2)"), server.log)
        XCTAssertTrue(server.waitForLog("reloaded: generation 2 serves"), server.log)
        XCTAssertTrue(server.process.isRunning, "gunicorn's habit: SIGHUP reloads, it does not stop")
        let client = try RawClient(port: server.port)
        try client.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(client.readResponse().status, 200)
    }
}

extension NSLock {
    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock()
        defer { unlock() }
        return try body()
    }
}
