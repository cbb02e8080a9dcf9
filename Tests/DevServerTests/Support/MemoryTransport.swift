import DevServer

/// A transport that keeps what the gateway core sends, in memory: wsgiref's run_amock.
final class MemoryTransport: GatewayTransport {
    /// Every write, in order (head and chunk arrive together in one write when they can).
    private(set) var writes: [[UInt8]] = []
    private(set) var flushes = 0
    private(set) var ending: ResponseEnding?
    /// Throw on write number N (1-based), as if the client had gone.
    var failOnWrite: Int?
    /// Called on each write, with its index: lets a test see what the app had done by then.
    var onWrite: ((Int) -> Void)?

    struct ClientGone: Error {}

    var bytes: [UInt8] { writes.flatMap { $0 } }
    var text: String { String(decoding: bytes, as: UTF8.self) }

    func write(_ bytes: [UInt8]) throws {
        if let failOnWrite, writes.count + 1 >= failOnWrite { throw ClientGone() }
        writes.append(bytes)
        onWrite?(writes.count - 1)
    }

    func flush() throws { flushes += 1 }

    func finish(_ ending: ResponseEnding) {
        precondition(self.ending == nil, "finish called twice")
        self.ending = ending
    }
}
