import DevServer
import Foundation
import XCTest

/// Issue 11: real Flask and Django from the package index, served through the real binary.
final class PythonFrameworkTests: XCTestCase {
    func testFlaskServesJSONFormsUploadsStreamsRedirectsSessionsAnd404s() throws {
        let python = try PythonSupport.frameworkPython()
        let server = try PythonSupport.serve(PythonSupport.sample("flask_app.py"), python: python)
        XCTAssertEqual(try PythonSupport.request(server.port, "/").bodyText, "Hello from Flask!\n")
        let items = try PythonSupport.request(server.port, "/api/items")
        XCTAssertEqual(items.header("Content-Type"), "application/json")
        XCTAssertTrue(items.bodyText.contains("\"total\":2"), items.bodyText)
        let created = try PythonSupport.request(server.port, "/api/items", method: "POST", headers: ["Content-Type: application/json"], body: Array(#"{"name":"plum"}"#.utf8))
        XCTAssertEqual(created.status, 201)
        let form = try PythonSupport.request(server.port, "/form", method: "POST", headers: ["Content-Type: application/x-www-form-urlencoded"], body: Array("name=Ada&colour=blue".utf8))
        XCTAssertEqual(form.bodyText, "name=Ada colour=blue\n")
        let upload = "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"notes.txt\"\r\nContent-Type: text/plain\r\n\r\nsome uploaded text\r\n--XyZ--\r\n"
        let uploaded = try PythonSupport.request(server.port, "/upload", method: "POST", headers: ["Content-Type: multipart/form-data; boundary=XyZ"], body: Array(upload.utf8))
        XCTAssertTrue(uploaded.bodyText.contains("\"filename\":\"notes.txt\"") && uploaded.bodyText.contains("\"size\":18"), uploaded.bodyText)
        let streamed = try PythonSupport.request(server.port, "/stream?n=3&delay_ms=50")
        XCTAssertEqual(streamed.bodyText, "event 1\nevent 2\nevent 3\n")
        XCTAssertEqual(streamed.chunkSizes.filter { $0 > 0 }.count, 3, "one chunk per event")
        let redirect = try PythonSupport.request(server.port, "/old")
        XCTAssertEqual(redirect.status, 302)
        XCTAssertEqual(redirect.header("Location"), "/")
        let first = try PythonSupport.request(server.port, "/visit")
        let cookie = try XCTUnwrap(first.header("Set-Cookie")?.split(separator: ";").first.map(String.init))
        let second = try PythonSupport.request(server.port, "/visit", headers: ["Cookie: \(cookie)"])
        XCTAssertEqual(second.bodyText, "visits: 2\n", "the cookie session carries over")
        XCTAssertEqual(try PythonSupport.request(server.port, "/nowhere").status, 404)
        let visit = try PythonSupport.record(server.port, target: "/visit")
        XCTAssertEqual(visit.errors, "visit number 2\n", "print() lands on its own request")
        let createdRecord = try PythonSupport.record(server.port, target: "/api/items")
        XCTAssertEqual(createdRecord.summary.status, 201)
        XCTAssertTrue(createdRecord.errors.contains("creating plum"), "logging lands on its request: \(createdRecord.errors)")
        let flaskEnviron = createdRecord.applicationEnviron ?? []
        XCTAssertTrue(flaskEnviron.contains { $0.name == "werkzeug.request" }, "what Flask added to the environ: \(flaskEnviron)")
    }

    func testAFlaskExceptionIsA500WithTheTracebackOnItsRequest() throws {
        let python = try PythonSupport.frameworkPython()
        let server = try PythonSupport.serve(PythonSupport.sample("flask_app.py"), python: python)
        XCTAssertEqual(try PythonSupport.request(server.port, "/fail").status, 500)
        let record = try PythonSupport.record(server.port, target: "/fail")
        XCTAssertTrue(record.errors.contains("RuntimeError: the sample failed on purpose"), record.errors)
        XCTAssertTrue(record.errors.contains("flask_app.py\", line"), record.errors)
    }

    func testDjangoServesAOneFileProject() throws {
        let python = try PythonSupport.frameworkPython()
        let server = try PythonSupport.serve(PythonSupport.sample("django_app.py"), python: python)
        XCTAssertEqual(try PythonSupport.request(server.port, "/").bodyText, "Hello from Django!\n")
        let echo = try PythonSupport.request(server.port, "/echo?q=1", method: "POST", headers: ["Content-Type: text/plain"], body: Array("payload".utf8))
        XCTAssertTrue(echo.bodyText.contains("\"body\": \"payload\"") && echo.bodyText.contains("\"query\": {\"q\": \"1\"}"), echo.bodyText)
        XCTAssertEqual(try PythonSupport.request(server.port, "/stream").bodyText, "line 1\nline 2\nline 3\n")
        XCTAssertEqual(try PythonSupport.request(server.port, "/fail").status, 500)
        let record = try PythonSupport.record(server.port, target: "/fail")
        XCTAssertTrue(record.errors.contains("ValueError: the Django sample failed on purpose"), record.errors)
    }

    func testTheSamplesAreCleanUnderTheValidator() throws {
        let python = try PythonSupport.frameworkPython()
        for (sample, targets) in [("flask_app.py", ["/", "/api/items", "/stream?n=2&delay_ms=1", "/old", "/visit", "/nowhere"]), ("django_app.py", ["/", "/echo", "/stream"])] {
            let server = try PythonSupport.serve(PythonSupport.sample(sample), python: python, arguments: ["--validate"])
            for target in targets {
                _ = try PythonSupport.request(server.port, target)
                let record = try PythonSupport.record(server.port, target: target)
                XCTAssertEqual(record.violations, [], "\(sample) \(target)")
                XCTAssertNil(record.applicationError, "\(sample) \(target)")
            }
        }
    }
}
