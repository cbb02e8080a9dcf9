import DevServer
import Foundation
import XCTest

/// The plugins `swift build` made beside the test binary, each loaded once per test process
/// (a plugin image is never unloaded, so loading one per test would only pile up copies).
enum Plugins {
    /// The directory holding lib<name>.so: the test binary's own.
    static let directory: String = {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return (executable as NSString).deletingLastPathComponent
    }()

    static let loader: PluginLoader = try! PluginLoader()
    nonisolated(unsafe) private static var loaded: [String: LoadedPlugin] = [:]
    private static let lock = NSLock()

    /// The path of product `name`'s library.
    static func path(_ name: String) -> String { "\(directory)/lib\(name).so" }

    /// The loaded plugin `name`, failing the test with the loader's reason if it cannot load.
    static func load(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws -> LoadedPlugin {
        lock.lock()
        defer { lock.unlock() }
        if let plugin = loaded[name] { return plugin }
        guard FileManager.default.fileExists(atPath: path(name)) else {
            XCTFail("\(path(name)) is missing: run `swift build` first (swift test builds it too)", file: file, line: line)
            throw CocoaError(.fileNoSuchFile)
        }
        let plugin = try loader.load(path(name))
        loaded[name] = plugin
        return plugin
    }
}
