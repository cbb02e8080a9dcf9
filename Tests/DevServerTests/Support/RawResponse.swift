/// An HTTP/1.1 response parsed from raw bytes, for assertions (chunked bodies decoded).
struct RawResponse {
    var interim: [String] = []
    var statusLine = ""
    var headers: [(String, String)] = []
    var body: [UInt8] = []
    /// Whether a chunked body ended with its last-chunk.
    var chunkedComplete = false
    var chunkSizes: [Int] = []

    var status: Int { Int(statusLine.split(separator: " ").dropFirst().first ?? "") ?? 0 }
    var bodyText: String { String(decoding: body, as: UTF8.self) }

    func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    func headers(_ name: String) -> [String] {
        headers.filter { $0.0.lowercased() == name.lowercased() }.map(\.1)
    }

    init(_ bytes: [UInt8], isHead: Bool = false) {
        var rest = bytes[...]
        while true {
            guard let end = rest.firstRange(of: [13, 10, 13, 10]) else { return }
            let head = String(decoding: rest[..<end.lowerBound], as: UTF8.self)
            rest = rest[end.upperBound...]
            var lines = head.components(separatedBy: "\r\n")
            let first = lines.removeFirst()
            if first.hasPrefix("HTTP/1.1 1") {
                interim.append(first)
                continue
            }
            statusLine = first
            headers = lines.map { line in
                let colon = line.firstIndex(of: ":")!
                return (String(line[..<colon]), String(line[line.index(after: colon)...].drop { $0 == " " }))
            }
            break
        }
        if isHead { body = Array(rest); return }
        if header("transfer-encoding") == "chunked" {
            while let lineEnd = rest.firstRange(of: [13, 10]) {
                let size = Int(String(decoding: rest[..<lineEnd.lowerBound], as: UTF8.self), radix: 16) ?? -1
                rest = rest[lineEnd.upperBound...]
                if size == 0 { chunkedComplete = true; break }
                guard size > 0, rest.count >= size + 2 else { break }
                chunkSizes.append(size)
                body += rest.prefix(size)
                rest = rest.dropFirst(size + 2)
            }
        } else {
            body = Array(rest)
        }
    }
}

import Foundation
