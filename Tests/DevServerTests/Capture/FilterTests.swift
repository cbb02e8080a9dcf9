@testable import DevServer
import XCTest

/// The filter language: every operator, the combinators, and errors with positions.
final class FilterTests: XCTestCase {
    private func record(
        method: String = "GET", target: String = "/", status: Int = 200, requestHeaders: [HeaderField] = [HeaderField("Host", "example.test")],
        responseHead: String? = nil, requestBody: String = "", responseBody: String = "", generation: Int = 1, duration: Int? = 1000,
        outcome: RequestRecord.Outcome = .complete, violations: [HeaderField] = [], appError: HeaderField? = nil, replayOf: Int? = nil
    ) -> RequestRecord {
        var record = RequestRecord(id: 1, start: RequestStart(
            id: "1.1", generation: generation, client: "c", time: 0, method: method, target: target, version: "HTTP/1.1",
            headers: requestHeaders, environ: CompactEnviron()))
        record.status = status
        record.sentHead = Array((responseHead ?? "HTTP/1.1 \(status) X\r\nContent-Type: text/html\r\n\r\n").utf8)
        record.requestBody = Array(requestBody.utf8)
        record.chunks = responseBody.isEmpty ? [] : [.init(offset: 1, size: responseBody.utf8.count, bytes: Array(responseBody.utf8))]
        record.responseBodySize = responseBody.utf8.count
        record.duration = duration
        record.outcome = outcome
        record.violations = violations
        record.applicationError = appError
        record.replayOf = replayOf
        return record
    }

    private func matches(_ filter: String, _ record: RequestRecord, file: StaticString = #filePath, line: UInt = #line) -> Bool {
        do {
            return try FilterParser.parse(filter).matches(record, now: 0)
        } catch {
            XCTFail("\(filter): \(error)", file: file, line: line)
            return false
        }
    }

    func testMethodMatchesARegexIgnoringCase() {
        XCTAssertTrue(matches("~m post", record(method: "POST")))
        XCTAssertFalse(matches("~m ^GET$", record(method: "GETX")))
    }

    func testURLMatchesTheFullURLAndABareWordMeansURL() {
        XCTAssertTrue(matches("~u example.test/api", record(target: "/api/users")))
        XCTAssertTrue(matches("users", record(target: "/api/users?x=1")))
        XCTAssertFalse(matches("orders", record(target: "/api/users")))
    }

    func testStatusTakesACodeAClassOrARange() {
        XCTAssertTrue(matches("~c 404", record(status: 404)))
        XCTAssertTrue(matches("~c 5xx", record(status: 503)))
        XCTAssertFalse(matches("~c 5xx", record(status: 404)))
        XCTAssertTrue(matches("~c 400-403", record(status: 401)))
        XCTAssertFalse(matches("~c 400-403", record(status: 404)))
        XCTAssertFalse(matches("~c 2xx", record(status: 0)), "no status yet matches no class")
    }

    func testHeaderOperatorsLookAtRequestResponseOrBoth() {
        let sample = record(requestHeaders: [HeaderField("Accept", "application/json")], responseHead: "HTTP/1.1 200 OK\r\nX-Cache: hit\r\n\r\n")
        XCTAssertTrue(matches("~h accept", sample))
        XCTAssertTrue(matches("~h x-cache", sample))
        XCTAssertTrue(matches("~hq accept:.*json", sample))
        XCTAssertFalse(matches("~hq x-cache", sample))
        XCTAssertTrue(matches("~hs x-cache", sample))
        XCTAssertFalse(matches("~hs accept", sample))
    }

    func testBodyOperatorsLookAtRequestResponseOrBoth() {
        let sample = record(requestBody: "name=alice", responseBody: "welcome back")
        XCTAssertTrue(matches("~b alice", sample))
        XCTAssertTrue(matches("~b welcome", sample))
        XCTAssertTrue(matches("~bq alice", sample))
        XCTAssertFalse(matches("~bq welcome", sample))
        XCTAssertTrue(matches("~bs welcome", sample))
        XCTAssertFalse(matches("~bs alice", sample))
    }

    func testContentTypeOperatorsLookAtRequestResponseOrBoth() {
        let sample = record(requestHeaders: [HeaderField("Content-Type", "application/json")], responseHead: "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n")
        XCTAssertTrue(matches("~t json", sample))
        XCTAssertTrue(matches("~t html", sample))
        XCTAssertTrue(matches("~tq json", sample))
        XCTAssertFalse(matches("~tq html", sample))
        XCTAssertTrue(matches("~ts html", sample))
        XCTAssertFalse(matches("~ts json", sample))
    }

    func testFlagsMatchErrorsCrashesViolationsAndReplays() {
        XCTAssertTrue(matches("~e", record(outcome: .applicationError)))
        XCTAssertTrue(matches("~e", record(appError: HeaderField("E", "m"))))
        XCTAssertFalse(matches("~e", record()))
        XCTAssertTrue(matches("~crash", record(outcome: .crashed)))
        XCTAssertFalse(matches("~crash", record()))
        XCTAssertTrue(matches("~v", record(violations: [HeaderField("hop-by-hop-header", "x")])))
        XCTAssertFalse(matches("~v", record()))
        XCTAssertTrue(matches("~replay", record(replayOf: 3)))
        XCTAssertFalse(matches("~replay", record()))
    }

    func testGenerationMatchesTheBuildThatServed() {
        XCTAssertTrue(matches("~gen 3", record(generation: 3)))
        XCTAssertFalse(matches("~gen 3", record(generation: 2)))
    }

    func testDurationComparesWithUnits() {
        XCTAssertTrue(matches("~dur >200ms", record(duration: 250_000)))
        XCTAssertFalse(matches("~dur >200ms", record(duration: 150_000)))
        XCTAssertTrue(matches("~dur < 1s", record(duration: 999_999)))
        XCTAssertTrue(matches("~dur >=500us", record(duration: 500)))
        XCTAssertTrue(matches("~dur >100", record(duration: 100_001)), "milliseconds by default")
    }

    func testSizeComparesTheResponseBodyWithUnits() {
        XCTAssertTrue(matches("~size >10k", record(responseBody: String(repeating: "x", count: 10_241))))
        XCTAssertFalse(matches("~size >10k", record(responseBody: String(repeating: "x", count: 10_240))))
        XCTAssertTrue(matches("~size <1m", record(responseBody: "small")))
    }

    func testNotAndOrAndParenthesesCombineWithTheUsualPrecedence() {
        let post500 = record(method: "POST", status: 500)
        XCTAssertTrue(matches("~m POST & ~c 5xx", post500))
        XCTAssertTrue(matches("~m POST ~c 5xx", post500), "juxtaposition is and")
        XCTAssertFalse(matches("~m POST & !~c 5xx", post500))
        XCTAssertTrue(matches("~m GET | ~c 500", post500))
        XCTAssertTrue(matches("~m GET & ~c 200 | ~m POST", post500), "& binds tighter than |")
        XCTAssertFalse(matches("~m GET & (~c 200 | ~m POST)", post500))
        XCTAssertTrue(matches("!(~m GET)", post500))
        XCTAssertTrue(matches("\"/\"", post500), "quoted words")
    }

    func testAnEmptyFilterMatchesEverything() throws {
        XCTAssertTrue(try FilterParser.parse("  ").matches(record()))
    }

    func testErrorsPointAtTheirPosition() {
        func error(_ text: String) -> FilterError? {
            do { _ = try FilterParser.parse(text); return nil } catch { return error as? FilterError }
        }
        XCTAssertEqual(error("~m GET & ~zz"), FilterError(position: 9, message: "unknown operator ~zz; the operators are ~m ~u ~c ~h ~hq ~hs ~b ~bq ~bs ~t ~tq ~ts ~e ~crash ~refused ~v ~replay ~gen ~dur ~size"))
        XCTAssertEqual(error("(~m GET"), FilterError(position: 0, message: "unbalanced '('"))
        XCTAssertEqual(error("~m GET )")?.position, 7)
        XCTAssertEqual(error("~c 99x")?.message, "~c needs a status: 404, 4xx or 400-403")
        XCTAssertEqual(error("~u a[b")?.position, 3)
        XCTAssertEqual(error("~u (x")?.message, "~u needs an argument", "a parenthesis groups; it is not part of a pattern")
        XCTAssertEqual(error("~m")?.message, "~m needs an argument")
        XCTAssertEqual(error("~dur fast")?.position, 5)
        XCTAssertEqual(error("~m GET &")?.message, "expected a filter after this")
        XCTAssertEqual(error("~u \"[\"")?.message, "invalid regular expression \"[\"")
        XCTAssertEqual(FilterError(position: 4, message: "bad").render("~m x"), "~m x\n    ^ bad")
    }
}
