import DevServer
import Foundation
import XCTest

/// Issue 12, section 1: another local user cannot get into devserve through the directories
/// it keeps under /tmp, nor answer `devserve ls` in its place; leftovers of a killed devserve
/// do not get in the way.
final class LocalUserTests: XCTestCase {
    private var directory: String!
    /// The uid of "nobody", the other local user in these tests.
    private let otherUser: uid_t = 65534

    override func setUpWithError() throws {
        directory = try makeScratchDirectory("users")
        chmod(directory, 0o755)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    /// Changing a file's owner to another user needs root; CI runs as root.
    private func requireRoot() throws {
        try XCTSkipUnless(geteuid() == 0, "needs root to act as a second local user")
    }

    private func isolated(_ extra: [String: String] = [:]) -> [String: String] {
        ["XDG_RUNTIME_DIR": directory + "/run", "TMPDIR": directory].merging(extra) { $1 }
    }

    // MARK: The plugin snapshots

    func testPreCreatedSnapshotDirectoriesForUpcomingPidsAreNotUsed() throws {
        // The attack: world-writable directories under the names devserve would choose.
        let last = Int(try String(contentsOfFile: "/proc/sys/kernel/ns_last_pid", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        let traps = (last + 1...last + 400).map { "\(directory!)/devserve-\($0)-plugins" }
        for trap in traps {
            mkdir(trap, 0o777)
            chmod(trap, 0o777)
        }
        try FileManager.default.createDirectory(atPath: directory + "/run", withIntermediateDirectories: true)
        let server = try DevServeProcess(plugin: "hello", environment: isolated())
        let client = try RawClient(port: server.port)
        try client.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(client.readResponse().status, 200)
        for trap in traps {
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: trap), [], "devserve wrote into \(trap), which another user controls")
        }
        let pid = server.process.processIdentifier
        let own = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasPrefix("devserve-\(pid)-") && !$0.hasSuffix("-plugins") }
        XCTAssertEqual(own.count, 1, "\(own)")
        let attributes = try FileManager.default.attributesOfItem(atPath: directory + "/" + own[0])
        XCTAssertEqual((attributes[.posixPermissions] as? Int).map { $0 & 0o777 }, 0o700)
    }

    func testAnExistingCopyDirectoryOpenToOthersIsRefusedByTheLoader() throws {
        let shared = directory + "/copies"
        mkdir(shared, 0o777)
        chmod(shared, 0o777)
        XCTAssertThrowsError(try PluginLoader(copyDirectory: shared)) { error in
            XCTAssertTrue("\(error)".contains("its mode is 777, open to other users"), "\(error)")
        }
        let link = directory + "/link"
        symlink(directory, link)
        XCTAssertThrowsError(try PluginLoader(copyDirectory: link)) { error in
            XCTAssertTrue("\(error)".contains("it is a symbolic link"), "\(error)")
        }
    }

    func testACopyDirectoryOwnedByAnotherUserIsRefused() throws {
        try requireRoot()
        let theirs = directory + "/theirs"
        mkdir(theirs, 0o700)
        chown(theirs, otherUser, otherUser)
        XCTAssertThrowsError(try PrivateDirectory.ensure(theirs)) { error in
            XCTAssertTrue("\(error)".contains("it belongs to uid 65534, not to you"), "\(error)")
        }
    }

    func testSnapshotDirectoriesLeftByAKilledDevserveAreRemovedAtStart() throws {
        // A pid that is certainly gone: a child that has exited and been waited for.
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/true")
        try child.run()
        child.waitUntilExit()
        let leftover = "\(directory!)/devserve-\(child.processIdentifier)-Ab12Cd"
        mkdir(leftover, 0o700)
        _ = FileManager.default.createFile(atPath: leftover + "/generation-1-libhello.so", contents: Data(count: 4096))
        try FileManager.default.createDirectory(atPath: directory + "/run", withIntermediateDirectories: true)
        let server = try DevServeProcess(plugin: "hello", environment: isolated())
        XCTAssertFalse(FileManager.default.fileExists(atPath: leftover), "the dead devserve's snapshots are removed")
        server.stop()
    }

    func testARetiredGenerationsPluginCopiesAreRemovedWhenItsWorkerExits() throws {
        try FileManager.default.createDirectory(atPath: directory + "/run", withIntermediateDirectories: true)
        let server = try DevServeProcess(plugin: "hello", environment: isolated())
        for generation in 2...6 {
            let (status, output) = try runDevServe(["reload", "--port", String(server.port)], environment: isolated())
            XCTAssertEqual(status, 0, output)
            XCTAssertTrue(server.waitForLog("reloaded: generation \(generation) serves"), server.log)
            XCTAssertTrue(server.waitForLog("gen \(generation - 1) pid"), server.log)
        }
        XCTAssertTrue(server.waitForLog("worker gen 5 pid"), server.log)
        Thread.sleep(forTimeInterval: 0.3)
        let pid = server.process.processIdentifier
        let snapshots = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: directory).first { $0.hasPrefix("devserve-\(pid)-") })
        let files = try FileManager.default.contentsOfDirectory(atPath: directory + "/" + snapshots).sorted()
        // The serving generation's snapshot and its worker's private copy; nothing older.
        XCTAssertEqual(files.count, 2, "\(files)")
        XCTAssertTrue(files.contains("generation-6-libhello.so"), "\(files)")
    }

    // MARK: The control socket

    func testAControlDirectoryOpenToOtherUsersMakesDevserveRefuseToStart() throws {
        let run = directory + "/run"
        mkdir(run, 0o755)
        mkdir(run + "/devserve", 0o777)
        chmod(run + "/devserve", 0o777)
        let (status, output) = try runDevServe([Plugins.path("hello"), "--port", "0", "--no-tui"], environment: isolated())
        XCTAssertEqual(status, 1, output)
        XCTAssertTrue(output.contains("refusing to use \(run)/devserve: its mode is 777"), output)
        let (lsStatus, lsOutput) = try runDevServe(["ls"], environment: isolated())
        XCTAssertEqual(lsStatus, 1)
        XCTAssertTrue(lsOutput.contains("refusing to use \(run)/devserve"), lsOutput)
    }

    func testTheClientRefusesASocketServedByAnotherUser() throws {
        try requireRoot()
        let run = directory + "/run"
        mkdir(run, 0o700)
        mkdir(run + "/devserve", 0o700)
        // The socket file is ours (bound as root), but the process listening on it runs as
        // another user: exactly what SO_PEERCRED tells apart. It answers with escape sequences.
        let script = """
            import os, socket, sys
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.bind(sys.argv[1])
            os.chmod(sys.argv[1], 0o600)
            os.setgid(65534); os.setuid(65534)
            s.listen(4)
            print("listening", flush=True)
            s.settimeout(20)
            while True:
                c, _ = s.accept()
                try:
                    c.recv(65536)
                    c.sendall(b'{"status":"\\\\u001b]0;owned\\\\u0007\\\\u001b[2J pwned","entries":[]}')
                except OSError:
                    pass
                c.close()
            """
        let impostor = Process()
        impostor.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        impostor.arguments = ["python3", "-c", script, run + "/devserve/8123.sock"]
        let output = Pipe()
        impostor.standardOutput = output
        try impostor.run()
        defer { impostor.terminate() }
        _ = output.fileHandleForReading.availableData
        let (status, text) = try runDevServe(["ls", "--port", "8123"], environment: isolated())
        XCTAssertEqual(status, 1, text)
        XCTAssertTrue(text.contains("it is served by uid 65534"), text)
        XCTAssertFalse(text.contains("\u{1B}"), "no escape sequence reaches the terminal")
        XCTAssertFalse(text.contains("pwned"), text)
    }

    func testAStaleSocketIsIgnoredAndRemoved() throws {
        let run = directory + "/run"
        mkdir(run, 0o700)
        mkdir(run + "/devserve", 0o700)
        // What a kill -9 leaves: a socket file nobody listens on.
        let stale = run + "/devserve/9.sock"
        try makeStaleSocket(stale)
        let (alone, aloneOutput) = try runDevServe(["ls"], environment: isolated())
        XCTAssertEqual(alone, 1)
        XCTAssertTrue(aloneOutput.contains("no devserve is running for this user"), aloneOutput)
        XCTAssertFalse(FileManager.default.fileExists(atPath: stale), "the stale socket is removed")
        try makeStaleSocket(stale)
        let server = try DevServeProcess(plugin: "hello", environment: isolated())
        let (status, output) = try runDevServe(["ls"], environment: isolated())
        XCTAssertEqual(status, 0, output)
        XCTAssertTrue(output.contains("serving generation 1"), output)
        server.stop()
    }

    /// Binds a unix socket at `path` and closes it without listening: a file that refuses.
    private func makeStaleSocket(_ path: String) throws {
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8) + [0]) }
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        XCTAssertEqual(bound, 0, "bind \(path)")
    }
}
