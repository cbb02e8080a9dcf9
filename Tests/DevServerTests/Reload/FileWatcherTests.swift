@testable import DevServer
import Foundation
import XCTest

/// The watcher behind reload and --watch, with inotify and with its polling fallback.
final class FileWatcherTests: XCTestCase {
    private var directory: String!

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "devserve-watch-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory + "/sub", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: directory + "/.build", withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    private func changes(of watcher: FileWatcher, within seconds: Double = 2) -> [String] {
        let deadline = Date().addingTimeInterval(seconds)
        var found: [String] = []
        while Date() < deadline {
            found += watcher.changes()
            if !found.isEmpty { Thread.sleep(forTimeInterval: 0.3); return found + watcher.changes() }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return found
    }

    private func exercise(polling: Bool) throws {
        let watcher = FileWatcher(recursive: true, isIgnored: FileWatcher.isBuildOrEditorNoise, polling: polling)
        if !polling && watcher.isPolling {
            // Containers can run out of inotify instances; the fallback has its own test.
            throw XCTSkip("inotify is unavailable here (inotify_init1 failed)")
        }
        XCTAssertEqual(watcher.isPolling, polling)
        watcher.watch(directory)
        Thread.sleep(forTimeInterval: 0.3)
        try "x".write(toFile: directory + "/sub/app.swift", atomically: false, encoding: .utf8)
        XCTAssertEqual(changes(of: watcher), [directory + "/sub/app.swift"], "a file written in a subdirectory")
        try "y".write(toFile: directory + "/.build/out.o", atomically: false, encoding: .utf8)
        try "z".write(toFile: directory + "/sub/app.swift.swp", atomically: false, encoding: .utf8)
        XCTAssertEqual(changes(of: watcher, within: 0.8), [], "build output and editor swap files do not count")
    }

    func testInotifyReportsAWrittenFileAndIgnoresBuildOutput() throws {
        try exercise(polling: false)
    }

    func testThePollingFallbackReportsTheSameChanges() throws {
        try exercise(polling: true)
    }

    func testAPluginReplacedByRenameIsSeenThroughItsDirectory() throws {
        let plugin = directory + "/app.so"
        try "old".write(toFile: plugin, atomically: false, encoding: .utf8)
        let watcher = FileWatcher(recursive: false)
        watcher.watch(plugin)
        try "new".write(toFile: plugin + ".tmp", atomically: false, encoding: .utf8)
        XCTAssertEqual(rename(plugin + ".tmp", plugin), 0)
        XCTAssertTrue(changes(of: watcher).contains(plugin), "the watch on the directory survives the file being replaced")
    }
}
