@testable import DevServer
import XCTest

/// Credentials are masked wherever requests are shown or exported.
final class SecretsTests: XCTestCase {
    func testAuthorizationKeepsItsSchemeAndCookiesKeepTheirNames() {
        XCTAssertEqual(Secrets.mask("Authorization", "Bearer abc.def.ghi"), "Bearer •••• (11 chars hidden)")
        XCTAssertEqual(Secrets.mask("Cookie", "session=s3cr3t; theme=dark"), "session=•••• (6 chars hidden); theme=•••• (4 chars hidden)")
        XCTAssertEqual(Secrets.mask("Set-Cookie", "id=42; Path=/; HttpOnly"), "id=•••• (2 chars hidden); Path=/; HttpOnly")
        XCTAssertEqual(Secrets.mask("Proxy-Authorization", "token"), "•••• (5 chars hidden)")
    }

    func testARecordIsMaskedInHeadersEnvironAndTheHeadAsSent() {
        let recorder = Recorder()
        recorder.apply(.requestStarted(RequestStart(
            id: "1.1", generation: 1, client: "c", time: 0, method: "GET", target: "/", version: "HTTP/1.1",
            headers: [HeaderField("Host", "t"), HeaderField("Authorization", "Basic dXNlcjpwYXNz")],
            environ: CompactEnviron([EnvironEntry(key: Array("HTTP_AUTHORIZATION".utf8), value: Array("Basic dXNlcjpwYXNz".utf8)),
                                     EnvironEntry(key: Array("PATH_INFO".utf8), value: Array("/".utf8))]))))
        recorder.apply(.responseStarted(id: "1.1", status: "200 OK", headers: [HeaderField("Set-Cookie", "sid=xyz")], replaced: false))
        recorder.apply(.headSent(id: "1.1", head: Array("HTTP/1.1 200 OK\r\nSet-Cookie: sid=xyz\r\n\r\n".utf8)))
        let masked = Secrets.masked(recorder.record(1)!)
        let everything = "\(masked.requestHeaders) \(masked.environ.map { String(decoding: $0.value, as: UTF8.self) }) \(masked.applicationHeaders) \(String(decoding: masked.sentHead!, as: UTF8.self))"
        XCTAssertFalse(everything.contains("dXNlcjpwYXNz"), everything)
        XCTAssertFalse(everything.contains("xyz"), everything)
        XCTAssertTrue(everything.contains("Basic ••••"))
        XCTAssertEqual(masked.environ.last.map { String(decoding: $0.value, as: UTF8.self) }, "/", "other keys are untouched")
        XCTAssertEqual(recorder.record(1)?.requestHeaders.last?.value, "Basic dXNlcjpwYXNz", "the recorder keeps the real value for replay")
    }
}
