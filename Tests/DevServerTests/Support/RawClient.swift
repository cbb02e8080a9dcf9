import Foundation

/// A TCP client on 127.0.0.1 that sends exact bytes and reads what comes back, with a
/// deadline on everything: the tests of bad input need to send what no HTTP library would.
final class RawClient {
    let descriptor: Int32

    struct Failure: Error, CustomStringConvertible { let description: String }

    init(port: Int) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else { throw Failure(description: "connect to port \(port) failed: errno \(errno)") }
    }

    deinit { close(descriptor) }

    func send(_ text: String) throws { try send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { Foundation.send(descriptor, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            guard written > 0 else { throw Failure(description: "send failed: errno \(errno)") }
            offset += written
        }
    }

    /// Reads until the peer closes or `timeout` passes. - Returns: the bytes and whether the
    /// peer closed.
    func readUntilClose(timeout: TimeInterval = 5) -> (bytes: [UInt8], closed: Bool) {
        var result: [UInt8] = []
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            guard let chunk = readSome(timeout: deadline.timeIntervalSinceNow) else { continue }
            if chunk.isEmpty { return (result, true) }
            result += chunk
        }
        return (result, false)
    }

    /// Reads until `predicate` holds for what was read, or `timeout` passes.
    func read(until predicate: ([UInt8]) -> Bool, timeout: TimeInterval = 5) -> [UInt8] {
        var result: [UInt8] = []
        let deadline = Date().addingTimeInterval(timeout)
        while !predicate(result) && Date() < deadline {
            guard let chunk = readSome(timeout: deadline.timeIntervalSinceNow) else { continue }
            if chunk.isEmpty { break }
            result += chunk
        }
        return result
    }

    /// Reads one complete response (head and body by Content-Length or chunked).
    func readResponse(timeout: TimeInterval = 5) -> RawResponse {
        let bytes = read(until: { RawClient.isCompleteResponse($0) }, timeout: timeout)
        return RawResponse(bytes)
    }

    /// Whether nothing arrives for `interval` seconds (nil from readSome means no data yet).
    func isSilent(for interval: TimeInterval) -> Bool {
        readSome(timeout: interval) == nil
    }

    /// Some bytes; empty at end of stream; nil when none arrived in time.
    func readSome(timeout: TimeInterval) -> [UInt8]? {
        var descriptors = [pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)]
        let ready = poll(&descriptors, 1, Int32(max(0, timeout) * 1000))
        guard ready > 0 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 65536)
        let count = recv(descriptor, &buffer, buffer.count, 0)
        if count <= 0 { return [] }
        return Array(buffer[0..<count])
    }

    /// Closes the sending side only.
    func shutdownWrite() { shutdown(descriptor, Int32(SHUT_WR)) }

    static func isCompleteResponse(_ bytes: [UInt8]) -> Bool {
        var rest = bytes[...]
        // Skip interim responses.
        while let end = rest.firstRange(of: [13, 10, 13, 10]) {
            let head = String(decoding: rest[..<end.lowerBound], as: UTF8.self)
            let body = rest[end.upperBound...]
            if head.hasPrefix("HTTP/1.1 1") { rest = body; continue }
            let lower = head.lowercased()
            if let range = lower.range(of: "content-length: ") {
                let length = Int(lower[range.upperBound...].prefix { $0.isNumber }) ?? 0
                return body.count >= length
            }
            if lower.contains("transfer-encoding: chunked") {
                return body.firstRange(of: Array("0\r\n\r\n".utf8)) != nil && RawResponse(Array(bytes)).chunkedComplete
            }
            return false
        }
        return false
    }
}
