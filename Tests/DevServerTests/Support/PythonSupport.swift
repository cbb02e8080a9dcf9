import DevServer
import Foundation
import XCTest

/// The Python side of the tests: the samples, and interpreters to run them on.
enum PythonSupport {
    /// The package's root directory (this file is Tests/DevServerTests/Support/PythonSupport.swift).
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// A file of samples/python.
    static func sample(_ name: String) -> String { "\(root)/samples/python/\(name)" }

    /// The interpreter with Flask and Django from the package index: `DEVSERVE_TEST_PYTHON`, else
    /// the venv `.ci/run` makes (.build/test-venv). Missing: a skip on a developer's machine,
    /// a failure in CI, where `.ci/run` must have made it.
    static func frameworkPython(file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let candidates = [ProcessInfo.processInfo.environment["DEVSERVE_TEST_PYTHON"], "\(root)/.build/test-venv/bin/python"].compactMap { $0 }
        for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        if ProcessInfo.processInfo.environment["CI"] == "true" {
            XCTFail("no Python with Flask and Django: .ci/run makes .build/test-venv", file: file, line: line)
        }
        throw XCTSkip("no Python with Flask and Django: run .ci/run once, or set DEVSERVE_TEST_PYTHON")
    }

    /// Another CPython minor version than the default one, for the bridge's one-binary promise
    /// (pyenv's 3.9 and 3.13 on this kind of machine).
    static func otherPython() throws -> String {
        let home = ProcessInfo.processInfo.environment["PYENV_ROOT"] ?? "\(NSHomeDirectory())/.pyenv"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "\(home)/versions")) ?? []
        for prefix in ["3.13", "3.9", "3.12", "3.10"] {
            if let version = versions.sorted().last(where: { $0.hasPrefix(prefix + ".") }) {
                let python = "\(home)/versions/\(version)/bin/python3"
                if FileManager.default.isExecutableFile(atPath: python) { return python }
            }
        }
        throw XCTSkip("no second CPython (pyenv's 3.9 or 3.13) on this machine")
    }

    /// Starts devserve on a Python application.
    static func serve(_ application: String, python: String, arguments: [String] = [], file: StaticString = #filePath, line: UInt = #line) throws -> DevServeProcess {
        try DevServeProcess(plugin: "", arguments: ["--python", python] + arguments, pluginPath: application, file: file, line: line)
    }

    /// GET (or another method) on a new connection; the whole response.
    static func request(_ port: Int, _ target: String, method: String = "GET", headers: [String] = [], body: [UInt8] = []) throws -> RawResponse {
        let client = try RawClient(port: port)
        var head = "\(method) \(target) HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
        for header in headers { head += header + "\r\n" }
        if !body.isEmpty || method == "POST" { head += "Content-Length: \(body.count)\r\n" }
        try client.send(Array((head + "\r\n").utf8) + body)
        return RawResponse(client.readUntilClose(timeout: 10).bytes)
    }

    /// The newest captured request whose target is `target`, whole, once it has finished.
    static func record(_ port: Int, target: String, file: StaticString = #filePath, line: UInt = #line) throws -> RecordJSON.Full {
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            let entries = try devserveJSON([RecordJSON.Summary].self, ["ls"], port: port, file: file, line: line)
            if let entry = entries.last(where: { $0.target == target && $0.outcome != "in-flight" }) {
                return try devserveJSON(RecordJSON.Full.self, ["show", String(entry.id)], port: port, file: file, line: line)
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        XCTFail("no finished record of \(target)", file: file, line: line)
        throw CocoaError(.fileNoSuchFile)
    }
}
