import DequeModule
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// `--journal FILE`: captured requests appended to a file as they finish (one JSON object per
/// line), and loaded back at start, so the history survives a restart. The file is rewritten
/// with only what the recorder keeps when loaded and whenever it holds twice the capacity, so it
/// stays bounded by the same caps as the recorder.
public final class Journal {
    public let path: String
    private let capacity: Int
    private var descriptor: Int32 = -1
    private var lines = 0
    private let encoder = JSONEncoder()

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public init(path: String, capacity: Int) {
        self.path = path
        self.capacity = capacity
    }

    /// Where damaged lines are kept aside (the rewrite would otherwise drop them unseen).
    public var damagedPath: String { path + ".damaged" }

    /// Reads the file into `recorder`, streaming: only the last `capacity` lines are held and
    /// decoded, however large the file (a 1 GB journal was read whole, 2 GB of memory); a
    /// missing file is an empty journal; damaged lines are appended to ``damagedPath`` and
    /// counted. Then rewrites the file with what was kept. - Returns: entries loaded, lines
    /// damaged.
    @discardableResult
    public func load(into recorder: Recorder) throws -> (loaded: Int, skipped: Int) {
        var kept = Deque<[UInt8]>()
        let input = open(path, O_RDONLY | O_CLOEXEC)
        if input >= 0 {
            defer { close(input) }
            var buffer = [UInt8](repeating: 0, count: 1 << 20)
            var partial: [UInt8] = []
            func keep(_ line: [UInt8]) {
                guard !line.isEmpty else { return }
                kept.append(line)
                if kept.count > capacity { kept.removeFirst() }
            }
            while true {
                let count = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                if count < 0 { throw Failure(description: "--journal \(path): cannot read it (\(CText.errorText(errno)))") }
                if count == 0 { break }
                var start = 0
                while let newline = buffer[start..<count].firstIndex(of: 10) {
                    keep(partial + buffer[start..<newline])
                    partial.removeAll(keepingCapacity: true)
                    start = newline + 1
                }
                partial += buffer[start..<count]
            }
            keep(partial)
        } else if errno != ENOENT {
            throw Failure(description: "--journal \(path): cannot read it (\(CText.errorText(errno)))")
        }
        var records: [RequestRecord] = []
        var damaged: [UInt8] = []
        var skipped = 0
        let decoder = JSONDecoder()
        for line in kept {
            if let entry = try? decoder.decode(Entry.self, from: Data(line)) {
                records.append(entry.record)
            } else {
                skipped += 1
                damaged += line + [10]
            }
        }
        if !damaged.isEmpty {
            let aside = open(damagedPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
            if aside >= 0 {
                FileBytes.write(damaged, to: aside)
                close(aside)
            }
        }
        recorder.restore(records)
        try rewrite(recorder.snapshot().filter { !$0.isInFlight })
        return (min(records.count, recorder.statistics.count), skipped)
    }

    /// Appends a finished record.
    public func append(_ record: RequestRecord, recorder: Recorder) {
        guard descriptor >= 0, let data = try? encoder.encode(Entry(record)) else { return }
        FileBytes.write(Array(data) + [10], to: descriptor)
        lines += 1
        if lines > 2 * capacity { try? rewrite(recorder.snapshot().filter { !$0.isInFlight }) }
    }

    private func rewrite(_ records: [RequestRecord]) throws {
        let temporary = path + ".tmp"
        let out = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard out >= 0 else { throw Failure(description: "--journal \(path): cannot write \(temporary) (\(CText.errorText(errno)))") }
        var buffer: [UInt8] = []
        for record in records {
            if let data = try? encoder.encode(Entry(record)) { buffer += Array(data) + [10] }
        }
        FileBytes.write(buffer, to: out)
        close(out)
        guard rename(temporary, path) == 0 else { throw Failure(description: "--journal \(path): cannot replace it (\(CText.errorText(errno)))") }
        if descriptor >= 0 { close(descriptor) }
        descriptor = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
        lines = records.count
    }

    /// One record on disk: every byte kept exactly (bytes as base64).
    struct Entry: Codable {
        struct Chunk: Codable {
            var offset: Int
            var size: Int
            var bytes: Data
        }

        var id: Int
        var workerID: String
        var generation: Int
        var client: String
        var startedAt: Int
        var method: String
        var target: String
        var version: String
        var requestHeaders: [HeaderField]
        var environ: [[Data]]
        var requestBody: Data
        var requestBodySize: Int
        var applicationStatus: String?
        var applicationHeaders: [HeaderField]
        var headersReplaced: Bool
        var sentHead: Data?
        var status: Int
        var chunks: [Chunk]
        var responseBodySize: Int
        var errors: String
        var violations: [HeaderField]
        var applicationError: HeaderField?
        var applicationEnviron: [HeaderField]?
        var applicationTraceback: [TracebackFrame]?
        var outcome: RequestRecord.Outcome
        var outcomeDetail: String?
        var crash: RequestRecord.Crash?
        var timeout: String?
        var timings: RequestTimings
        var duration: Int?
        var replayOf: Int?

        init(_ record: RequestRecord) {
            id = record.id
            workerID = record.workerID
            generation = record.generation
            client = record.client
            startedAt = record.startedAt
            method = record.method
            target = record.target
            version = record.version
            requestHeaders = record.requestHeaders
            environ = record.environ.map { [Data($0.key), Data($0.value)] }
            requestBody = Data(record.requestBody)
            requestBodySize = record.requestBodySize
            applicationStatus = record.applicationStatus
            applicationHeaders = record.applicationHeaders
            headersReplaced = record.headersReplaced
            sentHead = record.sentHead.map { Data($0) }
            status = record.status
            chunks = record.chunks.map { Chunk(offset: $0.offset, size: $0.size, bytes: Data($0.bytes)) }
            responseBodySize = record.responseBodySize
            errors = record.errors
            violations = record.violations
            applicationError = record.applicationError
            applicationEnviron = record.applicationEnviron
            applicationTraceback = record.applicationTraceback
            outcome = record.outcome
            outcomeDetail = record.outcomeDetail
            crash = record.crash
            timeout = record.timeout
            timings = record.timings
            duration = record.duration
            replayOf = record.replayOf
        }

        var record: RequestRecord {
            let start = RequestStart(
                id: workerID, generation: generation, client: client, time: startedAt, method: method, target: target,
                version: version, headers: requestHeaders,
                environ: CompactEnviron(environ.compactMap { $0.count == 2 ? EnvironEntry(key: Array($0[0]), value: Array($0[1])) : nil }))
            var record = RequestRecord(id: id, start: start)
            record.requestBody = Array(requestBody)
            record.requestBodySize = requestBodySize
            record.applicationStatus = applicationStatus
            record.applicationHeaders = applicationHeaders
            record.headersReplaced = headersReplaced
            record.sentHead = sentHead.map { Array($0) }
            record.status = status
            record.chunks = chunks.map { RequestRecord.Chunk(offset: $0.offset, size: $0.size, bytes: Array($0.bytes)) }
            record.responseBodyKept = record.chunks.reduce(0) { $0 + $1.bytes.count }
            record.responseBodySize = responseBodySize
            record.errors = errors
            record.violations = violations
            record.applicationError = applicationError
            record.applicationEnviron = applicationEnviron
            record.applicationTraceback = applicationTraceback
            record.outcome = outcome == .inFlight ? .aborted : outcome
            record.outcomeDetail = outcomeDetail
            record.crash = crash
            record.timeout = timeout
            record.timings = timings
            record.duration = duration
            record.replayOf = replayOf
            return record
        }
    }
}
