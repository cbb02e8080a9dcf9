import DevServer

/// A transport that keeps what the gateway core sends, in memory: wsgiref's run_amock.
final class MemoryTransport: GatewayTransport {
    /// What each flush sent, in order (head and chunk go out together when they can).
    private(set) var writes: [[UInt8]] = []
    /// Written since the last flush.
    private var pending: [UInt8] = []
    private(set) var flushes = 0
    private(set) var ending: ResponseEnding?
    /// Throw on flushed write number N (1-based), as if the client had gone.
    var failOnWrite: Int?
    /// Called on each flushed write, with its index: lets a test see what the app had done by then.
    var onWrite: ((Int) -> Void)?

    struct ClientGone: Error {}

    var bytes: [UInt8] { writes.flatMap { $0 } }
    var text: String { String(decoding: bytes, as: UTF8.self) }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        pending += bytes
    }

    func flush() throws {
        flushes += 1
        guard !pending.isEmpty else { return }
        defer { pending = [] }
        if let failOnWrite, writes.count + 1 >= failOnWrite { throw ClientGone() }
        writes.append(pending)
        onWrite?(writes.count - 1)
    }

    func finish(_ ending: ResponseEnding) {
        precondition(self.ending == nil, "finish called twice")
        self.ending = ending
    }
}

/// A memory transport that also takes files whole, as sendfile would: the core must use it for
/// regular files and never read them through Swift (beyond capture's prefix).
final class FileMemoryTransport: FileSendingTransport {
    let inner = MemoryTransport()
    private(set) var files: [(offset: Int, count: Int)] = []

    func write(_ bytes: UnsafeRawBufferPointer) throws { try inner.write(bytes) }
    func flush() throws { try inner.flush() }
    func finish(_ ending: ResponseEnding) { inner.finish(ending) }

    func sendFile(descriptor: Int32, offset: Int, count: Int) throws {
        files.append((offset, count))
        var bytes = [UInt8](repeating: 0, count: count)
        let read = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, count, off_t(offset)) }
        try inner.write(Array(bytes.prefix(max(0, read))))
        try inner.flush()
    }
}

import Foundation
