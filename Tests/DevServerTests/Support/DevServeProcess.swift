import Foundation
import XCTest

/// The real `devserve` binary running a plugin on a free loopback port, for the tests that
/// need real sockets and real processes. Stopped (SIGTERM, then SIGKILL) when the test ends.
final class DevServeProcess: @unchecked Sendable {
    let process = Process()
    private(set) var port = 0
    private let output = Pipe()
    private let lock = NSLock()
    private var text = ""

    /// Starts `devserve PLUGIN --port 0 --no-tui ARGS…` and waits for its URL and its first
    /// worker.
    init(plugin: String, arguments: [String] = [], environment extra: [String: String] = [:], pluginPath: String? = nil, file: StaticString = #filePath, line: UInt = #line) throws {
        process.executableURL = URL(fileURLWithPath: Plugins.directory + "/devserve")
        process.arguments = [pluginPath ?? Plugins.path(plugin), "--port", "0", "--no-tui"] + arguments
        process.standardOutput = output
        process.standardError = output
        var environment = ProcessInfo.processInfo.environment
        environment["NO_COLOR"] = "1"
        // A test process that crashes must not leave this server running.
        environment["DEVSERVE_DIE_WITH_PARENT"] = "1"
        environment.merge(extra) { $1 }
        process.environment = environment
        output.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self, !data.isEmpty else { return }
            self.lock.lock()
            self.text += String(decoding: data, as: UTF8.self)
            self.lock.unlock()
        }
        try process.run()
        var found: Int?
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            let log = self.log
            if let range = log.range(of: #"http://[^/ ]+:(\d+)/"#, options: .regularExpression), log.contains("ready:") {
                found = Int(log[range].split(separator: ":").last!.dropLast())
                break
            }
            if !process.isRunning { break }
            Thread.sleep(forTimeInterval: 0.02)
        }
        guard let found else {
            process.terminate()
            XCTFail("devserve did not start:\n\(log)", file: file, line: line)
            throw CocoaError(.executableLoad)
        }
        port = found
    }

    deinit { stop() }

    /// Everything devserve printed so far.
    var log: String {
        lock.lock()
        defer { lock.unlock() }
        return text
    }

    /// Waits until the log contains `needle` (or `timeout` passes). - Returns: whether it did.
    @discardableResult
    func waitForLog(_ needle: String, timeout: TimeInterval = 10) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if log.contains(needle) { return true }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return false
    }

    /// The pids of the workers that reported ready, in order.
    var workerPIDs: [Int32] {
        log.split(separator: "\n").compactMap { line -> Int32? in
            guard line.contains("ready: plugin"), let range = line.range(of: #"pid (\d+)"#, options: .regularExpression) else { return nil }
            return Int32(line[range].dropFirst(4))
        }
    }

    /// Sends SIGTERM and waits for the exit. - Returns: the exit status.
    @discardableResult
    func stop(timeout: TimeInterval = 15) -> Int32 {
        guard process.isRunning else { return process.terminationStatus }
        kill(process.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        return process.terminationStatus
    }
}

/// Runs `devserve ARGS…` to completion (for start-up errors). - Returns: status and output.
func runDevServe(_ arguments: [String], environment extra: [String: String] = [:], timeout: TimeInterval = 20) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: Plugins.directory + "/devserve")
    process.arguments = arguments
    if !extra.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(extra) { $1 } }
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let deadline = Date().addingTimeInterval(timeout)
    while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
    if process.isRunning { process.terminate() }
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
}

/// Runs a client command (`ls`, `show`, `capture`) against the devserve on `port` and decodes
/// its JSON output.
func devserveJSON<T: Decodable>(_ type: T.Type, _ arguments: [String], port: Int, file: StaticString = #filePath, line: UInt = #line) throws -> T {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: Plugins.directory + "/devserve")
    process.arguments = arguments + ["--json", "--port", String(port)]
    let output = Pipe()
    let errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTFail("devserve \(arguments) failed: \(message)", file: file, line: line)
        throw CocoaError(.executableLoad)
    }
    return try JSONDecoder().decode(T.self, from: data)
}
