import DevServer
import XCTest

/// docs/GATEWAY.md, "environ": one test per row, against real plugins.
final class EnvironTests: XCTestCase {
    func testRequestMethodIsAlwaysPresent() throws {
        for method in ["GET", "POST", "DELETE", "PATCH"] {
            let served = try serve("\(method) /x HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", plugin: "echo")
            XCTAssertEqual(served.observer.environ["REQUEST_METHOD"]?.text, method)
        }
    }

    func testScriptNameIsEmptyAtTheRootAndPathInfoIsTheWholePath() throws {
        let environ = try serve("GET /a/b HTTP/1.1\r\nHost: a\r\n\r\n", plugin: "echo").observer.environ
        XCTAssertEqual(environ["SCRIPT_NAME"]?.text, "")
        XCTAssertEqual(environ["PATH_INFO"]?.text, "/a/b")
    }

    func testScriptNameIsTheMountPrefixAndPathInfoTheRest() throws {
        let environ = try serve("GET /app/a/b HTTP/1.1\r\nHost: a\r\n\r\n", plugin: "echo", mount: "/app/").observer.environ
        XCTAssertEqual(environ["SCRIPT_NAME"]?.text, "/app")
        XCTAssertEqual(environ["PATH_INFO"]?.text, "/a/b")
    }

    func testPathInfoIsEmptyOnlyWhenScriptNameIsTheWholePath() throws {
        let environ = try serve("GET /app HTTP/1.1\r\nHost: a\r\n\r\n", plugin: "echo", mount: "/app").observer.environ
        XCTAssertEqual(environ["SCRIPT_NAME"]?.text, "/app")
        XCTAssertEqual(environ["PATH_INFO"], [])
        let root = try serve("GET / HTTP/1.1\r\nHost: a\r\n\r\n", plugin: "echo").observer.environ
        XCTAssertEqual(root["PATH_INFO"]?.text, "/", "at the root PATH_INFO is never empty")
    }

    func testARequestOutsideTheMountPrefixIsA404WithoutCallingTheApplication() throws {
        let served = try serve("GET /other HTTP/1.1\r\nHost: a\r\n\r\n", plugin: "echo", mount: "/app")
        XCTAssertEqual(served.response.status, 404)
        XCTAssertEqual(served.outcome, .notMounted)
        XCTAssertTrue(served.observer.environ.isEmpty, "the application was called")
        let sibling = try serve("GET /application HTTP/1.1\r\nHost: a\r\n\r\n", plugin: "echo", mount: "/app")
        XCTAssertEqual(sibling.response.status, 404, "/app must not match /application")
    }

    func testPathInfoIsPercentDecodedWithoutLosingNonUTF8Bytes() throws {
        let environ = try serve("GET /caf%C3%A9/%FF%00x%2Fy HTTP/1.1\r\nHost: a\r\n\r\n", plugin: "echo").observer.environ
        XCTAssertEqual(environ["PATH_INFO"], Array("/caf".utf8) + [0xC3, 0xA9, 0x2F, 0xFF, 0x00] + Array("x/y".utf8))
    }

    func testQueryStringIsTheTextAfterTheQuestionMarkNotDecoded() throws {
        let environ = try serve("GET /p?a=%20b&c=d+e?f HTTP/1.1\r\nHost: a\r\n\r\n", plugin: "echo").observer.environ
        XCTAssertEqual(environ["QUERY_STRING"]?.text, "a=%20b&c=d+e?f")
        let none = try serve("GET /p HTTP/1.1\r\nHost: a\r\n\r\n", plugin: "echo").observer.environ
        XCTAssertEqual(none["QUERY_STRING"]?.text, "", "QUERY_STRING may be empty but is present")
    }

    func testAnAbsoluteFormTargetGivesTheSamePathAndQuery() throws {
        let environ = try serve("GET http://example.test:8000/a/b?x=1 HTTP/1.1\r\nHost: example.test:8000\r\n\r\n", plugin: "echo").observer.environ
        XCTAssertEqual(environ["PATH_INFO"]?.text, "/a/b")
        XCTAssertEqual(environ["QUERY_STRING"]?.text, "x=1")
    }

    func testOptionsAsteriskReachesAnApplicationAtTheRootWithPathInfoAsterisk() throws {
        let environ = try serve("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", plugin: "echo").observer.environ
        XCTAssertEqual(environ["REQUEST_METHOD"]?.text, "OPTIONS")
        XCTAssertEqual(environ["SCRIPT_NAME"]?.text, "")
        XCTAssertEqual(environ["PATH_INFO"]?.text, "*")
        XCTAssertEqual(environ["REQUEST_URI"]?.text, "*")
    }

    func testContentTypeAndContentLengthComeWithoutTheHTTPPrefix() throws {
        let environ = try serve("POST / HTTP/1.1\r\nHost: a\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nabc", plugin: "echo").observer.environ
        XCTAssertEqual(environ["CONTENT_TYPE"]?.text, "text/plain")
        XCTAssertEqual(environ["CONTENT_LENGTH"]?.text, "3")
        XCTAssertNil(environ["HTTP_CONTENT_TYPE"])
        XCTAssertNil(environ["HTTP_CONTENT_LENGTH"])
        let mixed = try serve("POST / HTTP/1.1\r\nHost: a\r\ncOnTeNt-TyPe: text/csv\r\ncontent-LENGTH: 1\r\nx-Trace-id: 7\r\n\r\na", plugin: "echo").observer.environ
        XCTAssertEqual(mixed["CONTENT_TYPE"]?.text, "text/csv", "field names are case-insensitive (RFC 9110 section 5.1)")
        XCTAssertEqual(mixed["CONTENT_LENGTH"]?.text, "1")
        XCTAssertEqual(mixed["HTTP_X_TRACE_ID"]?.text, "7")
    }

    func testContentTypeAndContentLengthAreAbsentWhenTheRequestHasNone() throws {
        let environ = try serve("GET / HTTP/1.1\r\nHost: a\r\n\r\n", plugin: "echo").observer.environ
        XCTAssertNil(environ["CONTENT_TYPE"])
        XCTAssertNil(environ["CONTENT_LENGTH"])
    }

    func testServerNameAndServerPortAreNeverEmptyAndHTTPHostIsKept() throws {
        let connection = ConnectionInfo(remoteAddress: "127.0.0.1", remotePort: 1, serverName: "", serverPort: 8123)
        let environ = try serve("GET / HTTP/1.1\r\nHost: example.test:9\r\n\r\n", plugin: "echo", connection: connection).observer.environ
        XCTAssertEqual(environ["SERVER_NAME"]?.text, "localhost")
        XCTAssertEqual(environ["SERVER_PORT"]?.text, "8123")
        XCTAssertEqual(environ["HTTP_HOST"]?.text, "example.test:9")
    }

    func testServerProtocolIsTheProtocolTheClientUsed() throws {
        XCTAssertEqual(try serve("GET / HTTP/1.0\r\n\r\n", plugin: "echo").observer.environ["SERVER_PROTOCOL"]?.text, "HTTP/1.0")
        XCTAssertEqual(try serve("GET / HTTP/1.1\r\nHost: a\r\n\r\n", plugin: "echo").observer.environ["SERVER_PROTOCOL"]?.text, "HTTP/1.1")
    }

    func testEachHeaderBecomesOneHTTPKeyAndRepeatedHeadersAreJoinedWithCommas() throws {
        let raw = "GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 1.1.1.1\r\nAccept: text/html\r\nx-forwarded-for: 2.2.2.2\r\n\r\n"
        let environ = try serve(raw, plugin: "echo").observer.environ
        XCTAssertEqual(environ["HTTP_X_FORWARDED_FOR"]?.text, "1.1.1.1,2.2.2.2")
        XCTAssertEqual(environ["HTTP_ACCEPT"]?.text, "text/html")
    }

    func testHeaderNamesWithUnderscoresAreDroppedSoTheyCannotSpoofDashedOnes() throws {
        let raw = "GET / HTTP/1.1\r\nHost: a\r\nX-Auth-User: alice\r\nX_Auth_User: mallory\r\n\r\n"
        let environ = try serve(raw, plugin: "echo").observer.environ
        XCTAssertEqual(environ["HTTP_X_AUTH_USER"]?.text, "alice")
    }

    func testRemoteAddrAndRemotePortAreThePeer() throws {
        let connection = ConnectionInfo(remoteAddress: "127.0.0.9", remotePort: 43210)
        let environ = try serve("GET / HTTP/1.1\r\nHost: a\r\n\r\n", plugin: "echo", connection: connection).observer.environ
        XCTAssertEqual(environ["REMOTE_ADDR"]?.text, "127.0.0.9")
        XCTAssertEqual(environ["REMOTE_PORT"]?.text, "43210")
    }

    func testWsgiKeysSayVersionSchemeAndThreadingModel() throws {
        let environ = try serve("GET / HTTP/1.1\r\nHost: a\r\n\r\n", plugin: "echo").observer.environ
        XCTAssertEqual(environ["wsgi.version"]?.text, "1.0")
        XCTAssertEqual(environ["wsgi.url_scheme"]?.text, "http")
        XCTAssertEqual(environ["wsgi.multithread"]?.text, "true")
        XCTAssertEqual(environ["wsgi.multiprocess"]?.text, "true", "two generations serve at once during a reload")
        XCTAssertEqual(environ["wsgi.run_once"]?.text, "false")
        XCTAssertEqual(environ["wsgi.input_terminated"]?.text, "true")
    }

    func testServerExtensionsAreLowerCaseUnderTheDevservePrefix() throws {
        let environ = try serve("GET / HTTP/1.1\r\nHost: a\r\n\r\n", plugin: "echo").observer.environ
        XCTAssertEqual(environ["devserve.request_id"]?.text, "test-1")
        let extensions = environ.keys.filter { !$0.hasPrefix("wsgi.") && $0.contains(".") }
        XCTAssertFalse(extensions.isEmpty)
        XCTAssertTrue(extensions.allSatisfy { $0.hasPrefix("devserve.") && $0 == $0.lowercased() }, "\(extensions)")
    }

    func testTheApplicationSeesEveryKeyWhenItIteratesTheEnviron() throws {
        let served = try serve("GET /p?q=1 HTTP/1.1\r\nHost: a\r\nX-One: 1\r\n\r\n", plugin: "echo")
        let json = try JSONSerialization.jsonObject(with: Data(served.response.body)) as! [String: Any]
        let seen = Set((json["environ"] as! [String: String]).keys)
        XCTAssertEqual(seen, Set(served.observer.environ.keys))
    }

    func testTheApplicationMayChangeTheEnvironFreely() throws {
        let served = try serve("GET /environ-edit?x=1 HTTP/1.1\r\nHost: a\r\n\r\n", plugin: "fixture-conformance")
        XCTAssertEqual(served.response.bodyText, "environ edits visible\n")
    }
}

import Foundation
