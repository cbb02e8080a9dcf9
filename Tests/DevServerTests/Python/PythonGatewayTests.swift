import DevServer
import Foundation
import XCTest

/// Issue 11: a bare PEP 3333 application through the real binary and the bridge, each test
/// named after the rule it checks (docs/CONFORMANCE.md, Python column).
final class PythonGatewayTests: XCTestCase {
    private static let bare = PythonSupport.sample("bare_app.py")

    private func serve(_ arguments: [String] = []) throws -> DevServeProcess {
        try PythonSupport.serve(Self.bare, python: "python3", arguments: arguments)
    }

    func testEnvironIsADictOfNativeStringsWithTheWSGIKeysAsPythonValues() throws {
        let server = try serve()
        let response = try PythonSupport.request(server.port, "/environ?a=1&b=%C3%A9", headers: ["X-Name: caf\u{e9}"])
        XCTAssertEqual(response.status, 200)
        let environ = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: String])
        XCTAssertEqual(environ["wsgi.version"], "(1, 0)")
        XCTAssertEqual(environ["wsgi.multithread"], "True")
        XCTAssertEqual(environ["wsgi.multiprocess"], "True", "two generations serve at once during a reload")
        XCTAssertEqual(environ["wsgi.run_once"], "False")
        XCTAssertEqual(environ["wsgi.url_scheme"], "http")
        XCTAssertEqual(environ["wsgi.input"], "<Input>")
        XCTAssertEqual(environ["wsgi.errors"], "<Errors>")
        XCTAssertEqual(environ["wsgi.file_wrapper"], "<type>")
        XCTAssertEqual(environ["QUERY_STRING"], "a=1&b=%C3%A9", "not decoded")
        XCTAssertEqual(environ["PATH_INFO"], "/environ")
        XCTAssertEqual(environ["REQUEST_METHOD"], "GET")
        XCTAssertNil(environ["HTTP_CONTENT_LENGTH"])
    }

    func testTheRecordShowsTheEnvironAsTheApplicationLeftItWithPythonTypes() throws {
        let server = try serve()
        _ = try PythonSupport.request(server.port, "/environ")
        let record = try PythonSupport.record(server.port, target: "/environ")
        let python = Dictionary(try XCTUnwrap(record.applicationEnviron).map { ($0.name, $0.value) }, uniquingKeysWith: { $1 })
        XCTAssertEqual(python["wsgi.version"], "(1, 0) (tuple)")
        XCTAssertEqual(python["wsgi.multithread"], "True (bool)")
        XCTAssertEqual(python["wsgi.input"], "<devserve_bridge.Input object>")
        XCTAssertEqual(python["wsgi.file_wrapper"], "<class devserve_bridge.FileWrapper>")
        XCTAssertEqual(python["REQUEST_URI"], "(removed)")
        XCTAssertNotNil(python["bare_app.keys"].flatMap { $0.hasSuffix(" (int)") ? $0 : nil }, "\(python)")
        XCTAssertNil(python["PATH_INFO"], "what the application left as the server built it is not repeated")
        XCTAssertTrue(record.environ.contains { $0.name == "REQUEST_URI" }, "the server's environ is kept beside it")
        _ = try PythonSupport.request(server.port, "/")
        XCTAssertNil(try PythonSupport.record(server.port, target: "/").applicationEnviron, "an environ left as it was is not repeated")
        let (_, shown) = try runDevServe(["show", String(record.summary.id), "--port", String(server.port)])
        XCTAssertTrue(shown.contains("== Environ as the application left it"), shown)
    }

    func testTheEnvironAsLeftListsReplacedAddedAndRemovedKeysButNotAnEqualValueReassigned() throws {
        let left = try environLeft(by: "environ_changes", target: "/x?a=1", changing: #"""
                environ["QUERY_STRING"] = "".join(list(environ["QUERY_STRING"]))  # equal, a new object
                environ["SCRIPT_NAME"] = "/mounted"
                environ["app.note"] = "tab\there\nnewline \\ slash"
                environ["app.count"] = 3
                del environ["REMOTE_PORT"]
            """#)
        XCTAssertEqual(left["SCRIPT_NAME"], "/mounted")
        XCTAssertEqual(left["app.note"], "tab\there\nnewline \\ slash", "tab, newline and backslash survive the line format")
        XCTAssertEqual(left["app.count"], "3 (int)")
        XCTAssertEqual(left["REMOTE_PORT"], "(removed)")
        XCTAssertNil(left["QUERY_STRING"], "a value reassigned equal is not a change")
        XCTAssertEqual(left["wsgi.input"], "<devserve_bridge.Input object>", "wsgi.* values are listed with their types")
    }

    func testAnEnvironWhoseOnlyChangeIsARemovedKeyIsRecordedAsLeft() throws {
        let left = try environLeft(by: "environ_removed", target: "/gone", changing: """
                del environ["REMOTE_PORT"]
            """)
        XCTAssertEqual(left["REMOTE_PORT"], "(removed)")
        XCTAssertEqual(left["wsgi.errors"], "<devserve_bridge.Errors object>")
    }

    /// The environ as an application whose body starts with `changes` left it, from the record
    /// of a request to `target` (failing when the record has none).
    private func environLeft(by name: String, target: String, changing changes: String, file: StaticString = #filePath, line: UInt = #line) throws -> [String: String] {
        let application = try ScratchApplication(name, source: """
            def application(environ, start_response):
            \(changes)
                start_response("200 OK", [("Content-Type", "text/plain")])
                return [b"ok"]
            """)
        defer { application.remove() }
        let server = try PythonSupport.serve(application.path, python: "python3")
        XCTAssertEqual(try PythonSupport.request(server.port, target).status, 200, file: file, line: line)
        let record = try PythonSupport.record(server.port, target: target)
        let lines = try XCTUnwrap(record.applicationEnviron, "the application changed its environ: the record shows it", file: file, line: line)
        return Dictionary(lines.map { ($0.name, $0.value) }, uniquingKeysWith: { $1 })
    }

    func testHeaderBytesThatAreNotUTF8ReachTheApplicationUnchanged() throws {
        let server = try serve()
        let client = try RawClient(port: server.port)
        try client.send(Array("GET /environ HTTP/1.1\r\nHost: t\r\nConnection: close\r\nX-Name: caf".utf8) + [0xE9, 0xFF] + Array("\r\nX-Ows: \t v \t \r\n\r\n".utf8))
        let response = RawResponse(client.readUntilClose().bytes)
        let environ = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: String])
        XCTAssertEqual(environ["HTTP_X_NAME"], "caf\u{E9}\u{FF}", "PEP 3333: the client's bytes, read as Latin-1")
        XCTAssertEqual(environ["HTTP_X_OWS"], "v", "RFC 9112 section 5.1: whitespace around a value is not part of it")
    }

    func testPathInfoBytesArriveAsLatin1NativeStrings() throws {
        let server = try serve()
        // /caf%C3%A9 decodes to the bytes 63 61 66 C3 A9; PEP 3333 reads them as Latin-1.
        let response = try PythonSupport.request(server.port, "/caf%C3%A9")
        XCTAssertEqual(response.status, 404)
        XCTAssertEqual(response.body, Array("not found: /caf".utf8) + [0xC3, 0xA9, 0x0A], "every byte survives the round trip")
    }


    func testEachRequestSeesItsOwnEnvironValuesThoughTheBridgeKeepsRepeatedOnes() throws {
        // The bridge keeps each key's str and its last short value (issue 11, speed): a value
        // must never outlive the request it came with, whatever its length.
        let server = try serve()
        let long = String(repeating: "v", count: 60)
        let asked: [(query: String, header: String)] = [
            ("a=1", "one"), ("a=2", "one"), ("a=22", "caf\u{e9}"), ("a=1", ""), ("", long), ("a=1", long + "w"), ("a=1", "one"),
        ]
        for (query, header) in asked {
            let response = try PythonSupport.request(server.port, "/environ" + (query.isEmpty ? "" : "?" + query), headers: ["X-Note: \(header)"])
            let environ = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: String])
            XCTAssertEqual(environ["QUERY_STRING"], query)
            let latin1 = String(String.UnicodeScalarView(header.utf8.map { Unicode.Scalar($0) }))
            XCTAssertEqual(environ["HTTP_X_NOTE"], latin1, "PEP 3333: the header's UTF-8 bytes read as Latin-1")
            XCTAssertEqual(environ["PATH_INFO"], "/environ")
        }
    }
    func testInputReadReturnsTheWholeBodyAndNeverReadsPastContentLength() throws {
        let server = try serve()
        let body = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let response = try PythonSupport.request(server.port, "/echo", method: "POST", body: body)
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.body.count, body.count)
        XCTAssertTrue(response.body == body, "the body comes back byte for byte")
    }

    func testAChunkedRequestBodyIsDechunkedForTheApplication() throws {
        let server = try serve()
        let client = try RawClient(port: server.port)
        try client.send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
        XCTAssertEqual(RawResponse(client.readUntilClose().bytes).bodyText, "hello world")
    }

    func testReadlineReadlinesAndIterationSplitTheBodyIntoLines() throws {
        let server = try serve()
        let body = "first line\nsecond\nthird\nfourth\n"
        let response = try PythonSupport.request(server.port, "/lines", method: "POST", body: Array(body.utf8))
        XCTAssertEqual(response.bodyText, "readline 11, readlines 1, iteration 2\n" + body)
    }

    func testWriteOutputPrecedesTheIterablesChunks() throws {
        let server = try serve()
        let response = try PythonSupport.request(server.port, "/write")
        XCTAssertEqual(response.bodyText, "written first\nthen more\nthen the iterable\n")
    }

    func testBytearrayAndMemoryviewAreAcceptedAsBytes() throws {
        let server = try serve()
        XCTAssertEqual(try PythonSupport.request(server.port, "/buffers").bodyText, "a bytearray, a memoryview\n")
    }

    func testReadWithoutASizeReadsToTheEndOfTheBody() throws {
        let server = try serve()
        let body = Array(repeating: UInt8(ascii: "z"), count: 300_000)
        let echoed = try PythonSupport.request(server.port, "/read-all", method: "POST", body: body).body
        XCTAssertEqual(echoed.count, body.count)
        XCTAssertTrue(echoed == body)
    }

    func testEveryChunkOfAGeneratorIsSentAsSoonAsItIsProduced() throws {
        let server = try serve()
        let client = try RawClient(port: server.port)
        try client.send("GET /stream?n=3&delay_ms=600 HTTP/1.1\r\nHost: t\r\n\r\n")
        let started = Date()
        let first = client.read(until: { $0.text.contains("chunk 1 of 3") }, timeout: 5)
        XCTAssertTrue(first.text.contains("chunk 1 of 3"))
        XCTAssertLessThan(Date().timeIntervalSince(started), 0.5, "the first chunk does not wait for the second")
        XCTAssertFalse(first.text.contains("chunk 2"))
        let record = try PythonSupport.record(server.port, target: "/stream?n=3&delay_ms=600")
        XCTAssertEqual(record.chunks.count, 3)
        XCTAssertGreaterThan(record.chunks[2].offsetMs - record.chunks[0].offsetMs, 1000, "two 600 ms gaps, recorded as they happened")
    }

    func testAFileWrapperOfARealFileSendsTheFileWhole() throws {
        let server = try serve()
        let response = try PythonSupport.request(server.port, "/file")
        XCTAssertEqual(response.status, 200)
        let file = Array(try Data(contentsOf: URL(fileURLWithPath: Self.bare)))
        XCTAssertEqual(response.body.count, file.count)
        XCTAssertTrue(response.body == file)
    }

    func testStartResponseWithExcInfoBeforeTheHeadersWentOutReplacesTheResponse() throws {
        let server = try serve()
        let response = try PythonSupport.request(server.port, "/exc-info")
        XCTAssertEqual(response.status, 500)
        XCTAssertEqual(response.bodyText, "the report failed; see wsgi.errors\n")
    }

    func testExcInfoAfterTheHeadersWentOutIsReraisedAndTheResponseAborted() throws {
        let server = try serve()
        let response = try PythonSupport.request(server.port, "/exc-info-late")
        XCTAssertEqual(response.status, 200)
        XCTAssertFalse(response.chunkedComplete, "the client sees a truncated response, not a complete one")
        let record = try PythonSupport.record(server.port, target: "/exc-info-late")
        XCTAssertEqual(record.applicationError?.name, "KeyError")
    }

    func testAnExceptionBeforeStartResponseIsA500WithItsTracebackOnTheRequest() throws {
        let server = try serve()
        XCTAssertEqual(try PythonSupport.request(server.port, "/error").status, 500)
        let record = try PythonSupport.record(server.port, target: "/error")
        XCTAssertEqual(record.applicationError?.name, "KeyError")
        XCTAssertEqual(record.applicationError?.value, "'missing'")
        XCTAssertTrue(record.errors.contains("Traceback (most recent call last):"), record.errors)
        XCTAssertTrue(record.errors.contains("bare_app.py\", line"), "frames name the application's file: \(record.errors)")
        XCTAssertTrue(record.errors.contains("in error"), record.errors)
        XCTAssertFalse(record.errors.contains("devserve python bridge"), "the bridge's own frames are left out")
        let frames = try XCTUnwrap(record.applicationTraceback)
        XCTAssertEqual(frames.map(\.function), ["application", "error"], "the frames, innermost last")
        XCTAssertTrue(frames.allSatisfy { $0.file.hasSuffix("bare_app.py") && $0.line > 0 }, "\(frames)")
    }

    func testPrintOutputDuringARequestIsRecordedOnThatRequest() throws {
        let server = try serve()
        _ = try PythonSupport.request(server.port, "/")
        XCTAssertEqual(try PythonSupport.request(server.port, "/print").status, 200)
        let record = try PythonSupport.record(server.port, target: "/print")
        XCTAssertEqual(record.errors, "printed while serving /print\nwritten to wsgi.errors\n")
        let other = try PythonSupport.record(server.port, target: "/")
        XCTAssertEqual(other.errors, "", "nothing printed lands on another request")
        XCTAssertTrue(server.waitForLog("printed while serving /print"), "still shown in the log")
    }

    func testPrintOutputWhileTheBodyIsIteratedAndClosedBelongsToItsRequestEvenWithoutANewline() throws {
        let application = try ScratchApplication("printing_body", source: """
            import sys
            class Body:
                def __init__(self, name):
                    self.name = name
                    self.parts = [b"a", bytearray(b"b")]
                def __iter__(self):
                    return self
                def __next__(self):
                    if not self.parts:
                        print("end of", self.name, end="")
                        raise StopIteration
                    print("chunk for", self.name)
                    return self.parts.pop(0)
                def close(self):
                    sys.stderr.write("closed " + self.name + "\\n")
            def application(environ, start_response):
                start_response("200 OK", [("Content-Type", "text/plain")])
                return Body(environ["PATH_INFO"])

            """)
        defer { application.remove() }
        let server = try PythonSupport.serve(application.path, python: "python3")
        XCTAssertEqual(try PythonSupport.request(server.port, "/one").bodyText, "ab")
        XCTAssertEqual(try PythonSupport.request(server.port, "/two").bodyText, "ab")
        XCTAssertEqual(try PythonSupport.record(server.port, target: "/one").errors,
                       "chunk for /one\nchunk for /one\nend of /oneclosed /one\n", "the partial line goes out when next() returns")
        XCTAssertEqual(try PythonSupport.record(server.port, target: "/two").errors, "chunk for /two\nchunk for /two\nend of /twoclosed /two\n")
    }

    func testAStrChunkIsAViolationAndATypeError() throws {
        let server = try serve()
        XCTAssertEqual(try PythonSupport.request(server.port, "/str-chunk").status, 500)
        let record = try PythonSupport.record(server.port, target: "/str-chunk")
        XCTAssertEqual(record.violations.map(\.name), ["non-bytes-chunk"])
        XCTAssertEqual(record.applicationError?.name, "TypeError")
    }

    func testTheIterablesCloseIsCalledOnce() throws {
        let server = try serve()
        XCTAssertEqual(try PythonSupport.request(server.port, "/close").bodyText, "one\ntwo\n")
        let record = try PythonSupport.record(server.port, target: "/close")
        XCTAssertEqual(record.errors, "close() called\n")
    }

    func testASingleChunkListGetsAContentLength() throws {
        let server = try serve()
        let response = try PythonSupport.request(server.port, "/print")
        XCTAssertEqual(response.header("Content-Length"), "8", "len() of a one-chunk list lets the host set it")
    }

    func testASegfaultInCCodeIsBlamedOnItsRequestAndTheNextRequestIsServed() throws {
        let server = try serve()
        _ = try PythonSupport.request(server.port, "/crash")
        XCTAssertTrue(server.waitForLog("was in flight when the worker died"), server.log)
        XCTAssertEqual(try PythonSupport.request(server.port, "/").bodyText, "Hello from Python!\n")
        let record = try PythonSupport.record(server.port, target: "/crash")
        XCTAssertEqual(record.summary.outcome, "crashed")
        let crash = try XCTUnwrap(record.crash)
        XCTAssertTrue(crash.signal.hasPrefix("SIGSEGV"), crash.signal)
        XCTAssertTrue(crash.backtrace.contains("Fatal Python error: Segmentation fault"), "faulthandler's Python stack: \(crash.backtrace)")
        XCTAssertTrue(crash.backtrace.contains("in crash"), crash.backtrace)
    }

    func testValidateFindsNothingWrongWithTheBridgeOnEveryGoodRoute() throws {
        let server = try serve(["--validate"])
        for target in ["/", "/environ", "/write", "/stream?n=2&delay_ms=1", "/file", "/exc-info", "/print", "/close"] {
            let status = try PythonSupport.request(server.port, target).status
            XCTAssertEqual(status, target == "/exc-info" ? 500 : 200, target)
            let record = try PythonSupport.record(server.port, target: target)
            XCTAssertEqual(record.violations, [], "\(target): \(record.violations)")
        }
        for target in ["/echo", "/lines"] {
            XCTAssertEqual(try PythonSupport.request(server.port, target, method: "POST", body: Array("a\nb\n".utf8)).status, 200, target)
            let record = try PythonSupport.record(server.port, target: target)
            XCTAssertEqual(record.violations.filter { $0.name == "validator" }.map(\.value), [], target)
        }
    }

    func testWhatTheValidatorAssertsBecomesAViolationNotACrash() throws {
        let server = try serve(["--validate"])
        XCTAssertEqual(try PythonSupport.request(server.port, "/str-chunk").status, 500)
        let record = try PythonSupport.record(server.port, target: "/str-chunk")
        XCTAssertTrue(record.violations.contains { $0.name == "validator" && $0.value.contains("Iterator yielded non-bytestring") }, "\(record.violations)")
        XCTAssertEqual(try PythonSupport.request(server.port, "/").status, 200, "the worker serves on")
    }

    func testAnotherCPythonMinorVersionServesWithTheSameBridge() throws {
        let python = try PythonSupport.otherPython()
        let server = try PythonSupport.serve(Self.bare, python: python)
        XCTAssertEqual(try PythonSupport.request(server.port, "/").bodyText, "Hello from Python!\n")
        XCTAssertEqual(try PythonSupport.request(server.port, "/echo", method: "POST", body: Array("x".utf8)).bodyText, "x")
        let version = python.split(separator: "/").dropLast(2).last.map(String.init) ?? ""
        XCTAssertTrue(server.log.contains("(Python \(version))"), server.log)
    }
}
