@testable import DevServer
import NIOCore
import NIOEmbedded
import XCTest

/// The result of serving one raw request in memory.
struct Served {
    let response: RawResponse
    let transport: MemoryTransport
    let observer: RecordingObserver
    let outcome: RequestOutcome
    let bodySource: BufferedBodySource
}

/// The date every in-memory response carries, so raw bytes can be compared exactly.
let fixedDate = "Sat, 21 Nov 2026 16:00:00 GMT"

/// Parses `raw` with the worker's request parser, serves it with
/// `plugin` through the gateway core, and parses the bytes the core sent.
func serve(
    _ raw: String, plugin: String, mount: String = "", connection: ConnectionInfo = ConnectionInfo(remoteAddress: "127.0.0.1", remotePort: 50000),
    transport: MemoryTransport = MemoryTransport(), file: StaticString = #filePath, line: UInt = #line
) throws -> Served {
    let (head, body) = try parseRequest(Array(raw.utf8))
    let source = BufferedBodySource(body)
    let observer = RecordingObserver()
    var configuration = GatewayExchange.Configuration()
    configuration.date = { fixedDate }
    configuration.environ = EnvironBuilder(mountPrefix: mount)
    let outcome = GatewayExchange.serve(
        .init(head: head, connection: connection, body: source, id: "test-1"),
        plugin: try Plugins.load(plugin, file: file, line: line), transport: transport, observer: observer, configuration: configuration)
    XCTAssertNotNil(transport.ending, "the core never finished the response", file: file, line: line)
    return Served(response: RawResponse(transport.bytes, isHead: head.method == "HEAD"), transport: transport, observer: observer, outcome: outcome, bodySource: source)
}

/// One request head and its de-chunked body, as the worker's parser reads them.
func parseRequest(_ bytes: [UInt8]) throws -> (RequestHead, [UInt8]) {
    var parser = HTTPRequestParser(limits: HTTPLimits())
    parser.feed(ByteBuffer(bytes: bytes))
    var head: RequestHead?
    var body: [UInt8] = []
    parsing: while let event = parser.next() {
        switch event {
        case .head(let value): head = value
        case .body(let buffer): body += buffer.readableBytesView
        case .end: break parsing
        case .refused: break parsing
        }
    }
    guard let head else { throw ParseError(text: String(decoding: bytes, as: UTF8.self)) }
    return (head, body)
}

struct ParseError: Error { let text: String }

extension Array where Element == UInt8 {
    var text: String { String(decoding: self, as: UTF8.self) }
}
