/// What one worker event does to its own record, without the recorder around it (which
/// finds the record, counts its bytes and tells the subscribers). The recorder applies events
/// with this as they arrive, and a record kept as its frames (``RecordBox``) with it when it
/// is first read: both ways give the same record.
extension RequestRecord {
    /// Applies a request's event to this record. Events that are not a request's own
    /// (hello, ready, a crash...) and `requestStarted` (which makes the record) change nothing.
    /// - Parameter maxBody: the body bytes kept per direction; beyond it, sizes only.
    mutating func apply(_ event: WorkerEvent, maxBody: Int) {
        switch event {
        case .hello, .ready, .loadFailed, .serving, .stoppedAccepting, .watchFile, .crashed, .heartbeat, .requestStarted, .requestFrame:
            break
        case .requestBody(_, let body):
            body.withUnsafeBytes { appendRequestBody($0, owned: body, maxBody: maxBody) }
        case .requestBodyLent(_, let lent):
            appendRequestBody(lent.bytes, owned: nil, maxBody: maxBody)
        case .responseStarted(_, let status, let headers, let replaced):
            applicationStatus = status
            applicationHeaders = headers
            headersReplaced = headersReplaced || replaced
        case .headSent(_, let head):
            sentHead = head
            status = RequestReporter.status(of: head)
        case .chunk(_, let offset, let size, let body):
            let kept = body.count <= maxBody - responseBodyKept ? body : Array(body.prefix(max(0, maxBody - responseBodyKept)))
            chunks.append(RequestRecord.Chunk(offset: offset, size: size, bytes: kept))
            responseBodyKept += kept.count
            responseBodySize += size
        case .errors(_, let text):
            errors += text
        case .violation(_, let kind, let message):
            violations.append(HeaderField(kind, message))
        case .applicationError(_, let type, let message):
            applicationError = HeaderField(type, message)
        case .applicationEnviron(_, let lines):
            applicationEnvironLines = lines
        case .applicationTraceback(_, let lines):
            applicationTracebackLines = lines
        case .requestFinished(let summary):
            status = summary.status
            duration = summary.durationMicroseconds
            timings = summary.timings
            requestBodySize = max(summary.requestBodySize, requestBody.count)
            if summary.outcome.hasPrefix("bad-request") {
                outcome = .badRequest
                outcomeDetail = String(summary.outcome.dropFirst("bad-request: ".count))
            } else {
                outcome = RequestRecord.Outcome(rawValue: summary.outcome) ?? .complete
            }
        }
    }

    /// Request body bytes, up to `maxBody` (`owned`, when the caller has them as an array, is
    /// kept as it is when it is the whole first part).
    mutating func appendRequestBody(_ body: UnsafeRawBufferPointer, owned: [UInt8]?, maxBody: Int) {
        let keep = min(max(0, maxBody - requestBody.count), body.count)
        if requestBody.isEmpty, keep == body.count, let owned {
            // The first part of the body is kept as it came, without a copy.
            requestBody = owned
        } else if keep > 0 {
            if requestBody.capacity < requestBody.count + keep {
                // Grown once to what the request announced rather than by doubling (a 1 MiB
                // upload arrives in 16 parts: issue 14).
                let announced = Self.contentLength(requestHeaders) ?? 0
                requestBody.reserveCapacity(min(maxBody, max(announced, 2 * (requestBody.count + keep))))
            }
            requestBody.append(contentsOf: body.prefix(keep))
        }
        requestBodySize = max(requestBodySize, requestBody.count)
    }

    /// The Content-Length a request's headers announce, if one is valid.
    private static func contentLength(_ headers: [HeaderField]) -> Int? {
        headers.first { $0.name.equalsIgnoringASCIICase("content-length") }.flatMap { Int($0.value) }.flatMap { $0 >= 0 ? $0 : nil }
    }
}
