import NIOCore
import XCTest

@testable import DevServer

/// The worker's HTTP/1.1 request parser (RFC 9112), bytes in and events out, without a socket.
/// The real binary's refusals are in BadInputTests; these cover the splits and sequences a
/// socket test cannot aim at.
final class HTTPRequestParserTests: XCTestCase {
    /// What the parser made of `reads`, fed one after the other, as readable lines.
    private func events(_ reads: [[UInt8]], limits: HTTPLimits = HTTPLimits()) -> [String] {
        var parser = HTTPRequestParser(limits: limits)
        var result: [String] = []
        var body: [UInt8] = []
        for read in reads {
            parser.feed(ByteBuffer(bytes: read))
            while let event = parser.next() {
                switch event {
                case .head(let head):
                    let fields = head.headers.map { "\($0.name)=\($0.value)" }.joined(separator: ",")
                    result.append("head \(head.method) \(head.target) \(head.version) [\(fields)]")
                case .body(let buffer):
                    body += buffer.readableBytesView
                case .end:
                    result.append("body \(String(decoding: body, as: UTF8.self))")
                    body = []
                    result.append("end")
                case .refused(let response):
                    result.append("refused \(response.code)")
                }
            }
        }
        return result
    }

    private func events(_ text: String, limits: HTTPLimits = HTTPLimits()) -> [String] { events([Array(text.utf8)], limits: limits) }

    private let chunkedPost = "POST /up?x=1 HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nX-Pad:  spaced  \r\n\r\n5;name=value\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: 1\r\n\r\n"

    func testAChunkedRequestLosesItsFramingExtensionsAndTrailers() {
        XCTAssertEqual(events(chunkedPost), [
            "head POST /up?x=1 HTTP/1.1 [Host=t,Transfer-Encoding=chunked,X-Pad=spaced]", "body hello, world", "end",
        ])
    }

    func testARequestFedOneByteAtATimeParsesExactlyAsWhenItArrivesWhole() {
        let whole = events(chunkedPost)
        XCTAssertEqual(events(Array(chunkedPost.utf8).map { [$0] }), whole)
        // And split at every point into two reads.
        let bytes = Array(chunkedPost.utf8)
        for split in 1..<bytes.count {
            XCTAssertEqual(events([Array(bytes[..<split]), Array(bytes[split...])]), whole, "split at \(split)")
        }
    }

    func testPipelinedRequestsComeOutInOrderEachWithItsOwnBody() {
        let raw = "POST /a HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabcGET /b HTTP/1.0\r\n\r\n\r\nDELETE /c HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n"
        XCTAssertEqual(events(raw), [
            "head POST /a HTTP/1.1 [Host=t,Content-Length=3]", "body abc", "end",
            "head GET /b HTTP/1.0 []", "body ", "end",
            // The empty line between the requests is ignored (RFC 9112 section 2.2).
            "head DELETE /c HTTP/1.1 [Host=t,Content-Length=0]", "body ", "end",
        ])
    }

    func testOneLengthRepeatedIsOneLength() {
        // RFC 9112 section 6.3: a list of identical values may be read as that value.
        XCTAssertEqual(events("POST /a HTTP/1.1\r\nHost: t\r\nContent-Length: 3, 3\r\nContent-Length: 3\r\n\r\nabcGET /b HTTP/1.1\r\nHost: t\r\n\r\n"), [
            "head POST /a HTTP/1.1 [Host=t,Content-Length=3, 3,Content-Length=3]", "body abc", "end",
            "head GET /b HTTP/1.1 [Host=t]", "body ", "end",
        ])
    }

    func testAHeadWaitsForTheEmptyLineThatEndsIt() {
        XCTAssertEqual(events(["GET / HTTP/1.1\r\nHost: t\r\n", "\r"].map { Array($0.utf8) }), [])
        XCTAssertEqual(events(["GET / HTTP/1.1\r\nHost: t\r\n", "\r", "\n"].map { Array($0.utf8) }), ["head GET / HTTP/1.1 [Host=t]", "body ", "end"])
    }

    func testAHeaderValueThatIsNotUTF8KeepsTheClientsBytes() {
        var parser = HTTPRequestParser(limits: HTTPLimits())
        parser.feed(ByteBuffer(bytes: Array("GET / HTTP/1.1\r\nHost: t\r\nX-Name: caf".utf8) + [0xE9] + Array(" \t\r\nX-Ok: café\r\n\r\n".utf8)))
        guard case .head(let head)? = parser.next() else { return XCTFail("no head") }
        XCTAssertEqual(head.valueBytes(1), Array("caf".utf8) + [0xE9], "trailing whitespace trimmed, the byte kept")
        XCTAssertEqual(head.headers[2].value, "café")
        XCTAssertNil(head.rawValues[2], "UTF-8 needs no raw bytes")
    }

    func testMalformedRequestsAreRefusedWithTheStatusTheyDeserve() {
        let cases: [(String, Int, String)] = [
            ("GET / HTTP/1.1\nHost: t\r\n\r\n", 400, "a request line ending in a bare LF"),
            ("GET / HTTP/1.1\r\nHost: t\n\r\n", 400, "a header line ending in a bare LF"),
            ("GET /\r\n", 400, "HTTP/0.9"),
            ("GET / HTTP/2.0\r\nHost: t\r\n\r\n", 505, "HTTP/2.0 in an HTTP/1 request line"),
            ("GET / HTTP/1.10\r\nHost: t\r\n\r\n", 400, "a malformed version"),
            ("GET  / HTTP/1.1\r\nHost: t\r\n\r\n", 400, "two spaces"),
            ("G@T / HTTP/1.1\r\nHost: t\r\n\r\n", 400, "a method that is not a token"),
            ("GET / HTTP/1.1\r\nHost: t\r\nX-F: a\r\n b\r\n\r\n", 400, "obs-fold"),
            ("GET / HTTP/1.1\r\n Host: t\r\n\r\n", 400, "whitespace before the first field"),
            ("GET / HTTP/1.1\r\nHost : t\r\n\r\n", 400, "whitespace before the colon"),
            ("GET / HTTP/1.1\r\n: t\r\n\r\n", 400, "an empty field name"),
            ("GET / HTTP/1.1\r\nHost: t\r\nX: a\u{0}b\r\n\r\n", 400, "NUL in a value"),
            ("GET / HTTP/1.1\r\nHost: t\r\nX: a\rb\r\n\r\n", 400, "a bare CR in a value"),
            ("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400, "both lengths"),
            ("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", 400, "differing lengths"),
            ("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3, 4\r\n\r\n", 400, "differing lengths in one field"),
            ("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: -3\r\n\r\n", 400, "a negative length"),
            ("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: +3\r\n\r\n", 400, "a signed length"),
            ("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 99999999999999999999\r\n\r\n", 400, "a length that overflows"),
            ("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400, "a chunk size that is not hex"),
            ("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n", 400, "chunk data longer than its size"),
            ("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n1000000000000000\r\n", 400, "a chunk size that overflows"),
            ("\u{16}\u{03}\u{01}\u{02}\u{00}", 400, "a TLS hello, refused before any line end"),
        ]
        for (raw, status, what) in cases {
            XCTAssertEqual(events(raw).last, "refused \(status)", what)
        }
    }

    func testTheSizeLimitsAreRefusedAsSoonAsTheyAreCrossed() {
        var limits = HTTPLimits()
        limits.maxRequestLine = 100
        limits.maxHeaderField = 200
        limits.maxHeaderCount = 3
        limits.maxHeaderBlock = 500
        // No line end yet: a long request line is refused while it is still arriving.
        XCTAssertEqual(events("GET /\(String(repeating: "a", count: 120))", limits: limits), ["refused 414"])
        XCTAssertEqual(events("GET /\(String(repeating: "a", count: 80)) HTTP/1.1\r\nHost: t\r\n\r\n", limits: limits).first, "head GET /\(String(repeating: "a", count: 80)) HTTP/1.1 [Host=t]")
        XCTAssertEqual(events("GET / HTTP/1.1\r\nX: \(String(repeating: "b", count: 250))", limits: limits), ["refused 431"])
        XCTAssertEqual(events("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", limits: limits), ["refused 431"])
        let fields = (0..<3).map { "X\($0): \(String(repeating: "c", count: 190))\r\n" }.joined()
        XCTAssertEqual(events("GET / HTTP/1.1\r\n\(fields)\r\n", limits: limits), ["refused 431"])
    }

    func testNothingAfterARefusalIsReadAsARequest() {
        XCTAssertEqual(events(["GET / HTTP/1.1\r\nHost : t\r\n\r\n", "GET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n"].map { Array($0.utf8) }), ["refused 400"])
    }

    func testARefusedHeadKeepsItsBytesForTheRecord() {
        var parser = HTTPRequestParser(limits: HTTPLimits())
        parser.feed(ByteBuffer(string: "GET / HTTP/2.0\r\nHost: t\r\n\r\n"))
        guard case .refused? = parser.next() else { return XCTFail("not refused") }
        XCTAssertEqual(String(decoding: parser.headBytes(limit: 14), as: UTF8.self), "GET / HTTP/2.0")
    }
}

/// Random requests, pipelined and cut into random reads, come out of the parser exactly as
/// they were made: what a request smuggler needs (two parsers disagreeing on where a request
/// ends) starts with a parser that loses track of a boundary.
final class HTTPRequestParserRoundTripTests: XCTestCase {
    /// A small deterministic generator (SplitMix64), so a failure names a seed that reproduces it.
    private struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    private struct Made {
        var method: String
        var target: String
        var headers: [(String, String)]
        var body: [UInt8]
        var wire: [UInt8]
    }

    private func makeRequest(_ random: inout Generator) -> Made {
        let tokenCharacters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-.^_`|~")
        func token(_ length: ClosedRange<Int>) -> String { String((0..<Int.random(in: length, using: &random)).map { _ in tokenCharacters.randomElement(using: &random)! }) }
        let valueCharacters = Array(" \tabcXYZ019:;,=\"/?#[]@!$&'()*+-._~")
        func value() -> String {
            let raw = String((0..<Int.random(in: 0...40, using: &random)).map { _ in valueCharacters.randomElement(using: &random)! })
            return raw.trimmingWhitespace()
        }
        let method = ["GET", "POST", "PUT", "DELETE", "PATCH", token(1...8)].randomElement(using: &random)!
        let target = "/" + token(0...30) + (Bool.random(using: &random) ? "?" + token(0...20) : "")
        var headers: [(String, String)] = [("Host", "t")]
        for _ in 0..<Int.random(in: 0...12, using: &random) {
            var name = token(1...20)
            if ["content-length", "transfer-encoding", "host"].contains(name.lowercased()) { name = "X-" + name }
            headers.append((name, value()))
        }
        let body = (0..<[0, 1, 7, 100, 5000].randomElement(using: &random)!).map { _ in UInt8.random(in: 0...255, using: &random) }
        let chunked = Bool.random(using: &random)
        var bodyWire: [UInt8] = []
        if chunked {
            headers.append(("Transfer-Encoding", "chunked"))
            var rest = body[...]
            while !rest.isEmpty {
                let size = min(rest.count, Int.random(in: 1...2000, using: &random))
                let extensions = Bool.random(using: &random) ? ";a=b;c" : ""
                bodyWire += Array("\(String(size, radix: 16, uppercase: Bool.random(using: &random)))\(extensions)\r\n".utf8) + rest.prefix(size) + [13, 10]
                rest = rest.dropFirst(size)
            }
            bodyWire += Array("0\r\n".utf8) + (Bool.random(using: &random) ? Array("X-Trailer: \(value())\r\n".utf8) : []) + [13, 10]
        } else if !body.isEmpty || Bool.random(using: &random) {
            headers.append(("Content-Length", String(body.count)))
            bodyWire = body
        }
        var wire = Array("\(method) \(target) HTTP/1.1\r\n".utf8)
        for (name, value) in headers {
            let padding = [" ", "", "\t", "  "].randomElement(using: &random)!
            wire += Array("\(name):\(padding)\(value)\(padding)\r\n".utf8)
        }
        wire += [13, 10] + bodyWire
        return Made(method: method, target: target, headers: headers, body: body, wire: wire)
    }

    func testRandomPipelinedRequestsInRandomReadsComeOutExactlyAsMade() {
        for seed in UInt64(1)...300 {
            var random = Generator(state: seed)
            let made = (0..<Int.random(in: 1...5, using: &random)).map { _ in makeRequest(&random) }
            let stream = made.flatMap(\.wire)
            var parser = HTTPRequestParser(limits: HTTPLimits())
            var heads: [RequestHead] = []
            var bodies: [[UInt8]] = []
            var offset = 0
            while offset < stream.count {
                let size = min(stream.count - offset, [1, 2, 3, 7, 17, 64, 100, 512, 1000, 4096].randomElement(using: &random)!)
                parser.feed(ByteBuffer(bytes: stream[offset..<(offset + size)]))
                offset += size
                while let event = parser.next() {
                    switch event {
                    case .head(let head):
                        heads.append(head)
                        bodies.append([])
                    case .body(let part): bodies[bodies.count - 1] += part.readableBytesView
                    case .end: break
                    case .refused(let response): return XCTFail("seed \(seed): refused \(response.code): \(response.detail)")
                    }
                }
            }
            XCTAssertEqual(heads.count, made.count, "seed \(seed)")
            for (head, request) in zip(heads, made) {
                XCTAssertEqual(head.method, request.method, "seed \(seed)")
                XCTAssertEqual(head.target, request.target, "seed \(seed)")
                XCTAssertEqual(head.headers.map { "\($0.name): \($0.value)" }, request.headers.map { "\($0.0): \($0.1)" }, "seed \(seed)")
            }
            XCTAssertEqual(bodies, made.map(\.body), "seed \(seed)")
        }
    }
}
