import DevServer
import Foundation
import XCTest

/// Issue 11: how a Python application is named and found, reloaded, and refused.
final class PythonLoadingTests: XCTestCase {
    private var directory: String!

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "devserve-python-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory + "/shop", withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    private func write(_ text: String, to name: String) throws {
        try text.write(toFile: "\(directory!)/\(name)", atomically: false, encoding: .utf8)
    }

    private static func app(_ body: String, name: String = "application") -> String {
        """
        def \(name)(environ, start_response):
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [\(body)]

        """
    }

    func testAPackageModuleAndAFactoryWithArgumentsAreFoundAsFlaskFindsThem() throws {
        try write("", to: "shop/__init__.py")
        try write("""
            def create_app(name="default"):
                def app(environ, start_response):
                    start_response("200 OK", [("Content-Type", "text/plain")])
                    return [("%s %s" % (name, __name__)).encode()]
                return app

            """, to: "shop/web.py")
        // A file inside a package is imported as package.module, with the package's parent on sys.path.
        var server = try PythonSupport.serve("\(directory!)/shop/web.py:create_app('staging')", python: "python3")
        XCTAssertEqual(try PythonSupport.request(server.port, "/").bodyText, "staging shop.web")
        server.stop()
        // Without a name: application, then app, then create_app().
        server = try PythonSupport.serve("\(directory!)/shop/web.py", python: "python3")
        XCTAssertEqual(try PythonSupport.request(server.port, "/").bodyText, "default shop.web")
        server.stop()
        try write(Self.app("b\"named\"", name: "site"), to: "standalone.py")
        server = try PythonSupport.serve("\(directory!)/standalone.py:site", python: "python3")
        XCTAssertEqual(try PythonSupport.request(server.port, "/").bodyText, "named")
    }

    func testADottedModuleNameIsImportedFromTheWorkingDirectory() throws {
        try write("", to: "shop/__init__.py")
        try write(Self.app("b\"dotted\"", name: "app"), to: "shop/api.py")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Plugins.directory + "/devserve")
        process.arguments = ["shop.api:app", "--python", "python3", "--port", "0", "--no-tui", "--no-capture"]
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.environment = ProcessInfo.processInfo.environment.merging(["DEVSERVE_DIE_WITH_PARENT": "1"]) { $1 }
        try process.run()
        defer { process.terminate(); process.waitUntilExit() }
        var text = ""
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline && !text.contains("ready:") {
            text += String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
        }
        let port = try XCTUnwrap(text.firstMatch(of: /127\.0\.0\.1:(\d+)\//).map { Int($0.1)! }, text)
        XCTAssertEqual(try PythonSupport.request(port, "/").bodyText, "dotted")
    }

    func testAnApplicationThatCannotBeFoundIsOneLineNamingTheFileAndWhatWasLookedFor() throws {
        try write("x = 1\n", to: "empty.py")
        let (status, output) = try runDevServe(["\(directory!)/empty.py", "--python", "python3", "--port", "0", "--no-tui"])
        XCTAssertEqual(status, 1)
        XCTAssertTrue(output.contains("found no application: name it (\(directory!)/empty.py:NAME), or define `application` or `app`"), output)
        XCTAssertFalse(output.contains("serving http"), "no URL is promised for an application that does not load: \(output)")
        let (missing, missingOutput) = try runDevServe(["\(directory!)/nope.py", "--port", "0", "--no-tui"])
        XCTAssertEqual(missing, 64)
        XCTAssertTrue(missingOutput.contains("nope.py: no such file"), missingOutput)
    }

    func testAWordThatIsNeitherAPluginNorAnImportableModuleSaysSo() throws {
        let (status, output) = try runDevServe(["bogus", "--python", "python3", "--port", "0", "--no-tui"])
        XCTAssertEqual(status, 1)
        XCTAssertTrue(output.contains("bogus: no module named 'bogus'"), output)
        XCTAssertFalse(output.contains("devserve serve --help"), "the README never mentions a serve subcommand: \(output)")
    }

    func testAMissingPackageSaysWhatToInstallAndWhere() throws {
        try write("import flask_that_is_not_installed\n" + Self.app("b\"x\""), to: "needs.py")
        let (status, output) = try runDevServe(["\(directory!)/needs.py", "--python", "python3", "--port", "0", "--no-tui"])
        XCTAssertEqual(status, 1)
        XCTAssertTrue(output.contains("needs the module 'flask_that_is_not_installed'"), output)
        XCTAssertTrue(output.contains("-m pip install flask_that_is_not_installed"), output)
    }

    func testAnInterpreterThatCannotRunIsNamed() throws {
        let (status, output) = try runDevServe([PythonSupport.sample("bare_app.py"), "--python", "/no/such/python", "--port", "0", "--no-tui"])
        XCTAssertEqual(status, 1)
        XCTAssertTrue(output.contains("cannot run the Python interpreter /no/such/python"), output)
    }

    func testAPythonWithoutASharedLibpythonGetsOneLineNamingTheFix() throws {
        var interpreter = try PythonInterpreter.probe("python3")
        interpreter.library = nil
        XCTAssertThrowsError(try interpreter.checkEmbeddable()) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("has no shared libpython") && text.contains("--enable-shared") && text.contains("--python"), text)
            XCTAssertFalse(text.contains("\n"))
        }
    }

    func testSavingAnImportedModuleServesTheNewCodeWithoutAFailedRequest() throws {
        try write("GREETING = b\"one\"\n", to: "settings_module.py")
        try write("from settings_module import GREETING\n" + Self.app("GREETING"), to: "site_app.py")
        let server = try PythonSupport.serve("\(directory!)/site_app.py", python: "python3")
        let traffic = PythonTraffic(port: server.port)
        traffic.waitFor(count: 20)
        // The imported module, not the application file, changes.
        try write("GREETING = b\"two\"\n", to: "settings_module.py")
        XCTAssertTrue(server.waitForLog("reloaded: generation 2 serves"), server.log)
        traffic.waitFor(body: "two")
        let bodies = traffic.stop()
        XCTAssertEqual(traffic.failures, [], "no request failed during the reload")
        XCTAssertEqual(Set(bodies), ["one", "two"])
    }

    func testASyntaxErrorLeavesTheLastGoodGenerationServingWithTheReason() throws {
        try write(Self.app("b\"good\""), to: "editing.py")
        let server = try PythonSupport.serve("\(directory!)/editing.py", python: "python3")
        try write("def application(environ, start_response)\n    pass\n", to: "editing.py")
        XCTAssertTrue(server.waitForLog("STALE BUILD: still serving generation 1"), server.log)
        XCTAssertTrue(server.log.contains("SyntaxError"), server.log)
        XCTAssertTrue(server.log.contains("editing.py:1"), server.log)
        XCTAssertEqual(try PythonSupport.request(server.port, "/").bodyText, "good")
        try write(Self.app("b\"fixed\""), to: "editing.py")
        XCTAssertTrue(server.waitForLog("reloaded: generation 3 serves"), server.log)
        XCTAssertEqual(try PythonSupport.request(server.port, "/").bodyText, "fixed")
    }
}
