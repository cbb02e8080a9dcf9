import ArgumentParser
import FoundationEssentials
import DevServer
import TUI

/// Options every command that talks to a running devserve shares.
struct InstanceOptions: ParsableArguments {
    @Option(help: "The port of the devserve to ask, when several run.")
    var port: Int?

    /// Sends a request, turning failures into a one-line error and exit status 1.
    func send(_ request: ControlSocket.Request) throws -> ControlSocket.Response {
        let response: ControlSocket.Response
        do {
            response = try ControlClient.send(request, port: port)
        } catch {
            printError("\(error)")
            throw ExitCode(1)
        }
        if let error = response.error {
            if let position = response.errorPosition, let filter = request.filter {
                printError("bad filter: " + Sanitize.lines(FilterError(position: position, message: error).renderBelow(filter)))
            } else {
                printError(Sanitize.lines(error))
            }
            throw ExitCode(1)
        }
        return response
    }
}

/// `devserve ls`: the captured requests of a running devserve.
struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ls", abstract: "List the requests a running devserve captured.",
        discussion: """
            Filters (mitmproxy's language where they overlap): ~m METHOD, ~u URL, ~c 404|4xx|400-403, \
            ~h/~hq/~hs HEADER, ~b/~bq/~bs BODY, ~t/~tq/~ts CONTENT-TYPE (all regular expressions, \
            case-insensitive), ~e (application error), ~crash, ~v (violation), ~replay, ~gen N, \
            ~dur >200ms, ~size >10k; combine with !, & (or a space), | and parentheses. A bare \
            word means ~u.
            """)

    @Option(name: .shortAndLong, help: "Only requests matching this filter expression.")
    var filter: String?

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    @Option(help: "Only the newest N requests.")
    var limit: Int?

    @Flag(help: "Keep printing requests as they finish, until Ctrl-C (a table line, or a JSON object per line with --json).")
    var follow = false

    @OptionGroup var instance: InstanceOptions

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
    }

    func run() throws {
        let response = try instance.send(ControlSocket.Request(command: "ls", filter: filter))
        var entries = response.entries ?? []
        if let limit, entries.count > limit { entries = Array(entries.suffix(limit)) }
        if follow { return try followEntries(entries) }
        if json {
            print(try JSONText.encode(entries))
        } else {
            // Sanitized again here: what the server sends is text for a terminal, and escape
            // sequences in it would be obeyed.
            print(Sanitize.lines(RecordText.listing(entries)), terminator: "")
            if let status = response.status, !status.isEmpty { print(Sanitize.lines(status)) }
            if let statistics = response.statistics {
                print("\(entries.count) shown, \(statistics.count) kept of \(statistics.capacity), \(statistics.evictions) evicted\(statistics.paused ? ", capture paused" : "")")
            }
        }
    }
}

extension ListCommand {
    /// `--follow`: what is there (finished), then each request as it finishes, polling the
    /// running devserve twice a second until it stops or the user presses Ctrl-C.
    func followEntries(_ first: [RecordJSON.Summary]) throws {
        var printedThrough = 0
        var headerPrinted = false
        func emit(_ entries: [RecordJSON.Summary]) throws {
            for entry in entries where entry.id > printedThrough {
                // In order: a request still running holds back the ones after it.
                if entry.outcome == "in-flight" { break }
                if json {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                    print(String(decoding: try encoder.encode(entry), as: UTF8.self))
                } else {
                    let table = Sanitize.lines(RecordText.listing([entry])).split(separator: "\n")
                    if !headerPrinted, let header = table.first { print(header) }
                    headerPrinted = true
                    if let line = table.last { print(line) }
                }
                printedThrough = entry.id
            }
            fflush(nil)
        }
        try emit(first)
        while true {
            usleep(500_000)
            let response: ControlSocket.Response
            do {
                response = try ControlClient.send(ControlSocket.Request(command: "ls", filter: filter), port: instance.port)
            } catch {
                printNote("the devserve stopped answering: \(error)")
                return
            }
            try emit(response.entries ?? [])
        }
    }
}

/// `devserve show ID`: one captured request, whole.
struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print one captured request: environ, request headers and body, status and headers (given and sent), chunks with their time offsets, errors, violations, outcome.")

    @Argument(help: "The request's id, as `devserve ls` shows it.")
    var id: Int

    @Flag(help: "Print JSON.")
    var json = false

    @Flag(help: "Do not mask Authorization, Cookie, Set-Cookie and Proxy-Authorization values.")
    var showSecrets = false

    @Flag(help: "Write the response body alone, raw, to stdout (e.g. `devserve show 7 --body | jq`).")
    var body = false

    @Flag(help: "Write the request body alone, raw, to stdout.")
    var requestBody = false

    @Flag(help: "With --body or --request-body: undo a gzip or deflate Content-Encoding.")
    var decode = false

    @OptionGroup var instance: InstanceOptions

    func validate() throws {
        if body && requestBody { throw ValidationError("--body or --request-body: one body at a time") }
        if decode && !(body || requestBody) { throw ValidationError("--decode goes with --body or --request-body") }
        if json && (body || requestBody) { throw ValidationError("--json prints the whole record; --body the body alone: not both") }
    }

    func run() throws {
        let response = try instance.send(ControlSocket.Request(command: "show", id: id, reveal: showSecrets))
        guard let record = response.record else { throw ExitCode(1) }
        if body || requestBody {
            try writeBody(of: record)
            return
        }
        print(json ? try JSONText.encode(record) : Sanitize.lines(RecordText.detail(record)), terminator: json ? "\n" : "")
    }

    /// The body's bytes as kept, to stdout; a note on stderr when some were not kept.
    private func writeBody(of record: RecordJSON.Full) throws {
        let chosen = requestBody ? record.requestBody : record.responseBody
        var bytes = chosen.bytes
        if decode {
            let headers = requestBody ? record.requestHeaders : record.applicationHeaders
            if let coding = headers.last(where: { $0.name.lowercased() == "content-encoding" })?.value.trimmingWhitespace(), coding.lowercased() != "identity" {
                guard chosen.notKept == 0, let decoded = Inflate.decode(bytes, coding: coding) else {
                    printError(chosen.notKept > 0 ? "cannot decode: \(chosen.notKept) bytes of the body were not kept (--max-body)" : "cannot decode Content-Encoding \(coding)")
                    throw ExitCode(1)
                }
                bytes = decoded
            }
        }
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { write(STDOUT_FILENO, $0.baseAddress! + offset, $0.count - offset) }
            if written <= 0 { break }
            offset += written
        }
        if chosen.notKept > 0 { printNote("\(chosen.notKept) more bytes were not kept (--max-body)") }
    }
}

/// `devserve reload`: start the next generation from the plugin file now.
struct ReloadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reload", abstract: "Reload the application of a running devserve now (as when its code changes).")

    @OptionGroup var instance: InstanceOptions

    func run() throws {
        _ = try instance.send(ControlSocket.Request(command: "reload"))
        print("reloading; `devserve ls` shows which generation serves")
    }
}

/// `devserve restart`: replace the worker, stuck or not.
struct RestartCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restart",
        abstract: "Replace the worker of a running devserve: a new one takes over, the old one gets --shutdown-grace to finish, then is killed (for a worker stuck in a loop or stopped).")

    @OptionGroup var instance: InstanceOptions

    func run() throws {
        _ = try instance.send(ControlSocket.Request(command: "restart"))
        print("restarting; `devserve ls` shows which generation serves")
    }
}

/// `devserve pause`, `resume`, `clear`: control capture (serving goes on).
struct CaptureControlCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "capture", abstract: "Pause or resume capture, or clear what was captured, in a running devserve.")

    enum Action: String, ExpressibleByArgument, CaseIterable { case pause, resume, clear }

    @Argument(help: "pause, resume or clear.")
    var action: Action

    @OptionGroup var instance: InstanceOptions

    func run() throws {
        let response = try instance.send(ControlSocket.Request(command: action.rawValue))
        let statistics = response.statistics
        switch action {
        case .pause: print("capture paused (serving goes on)")
        case .resume: print("capture resumed")
        case .clear: print("cleared; \(statistics?.count ?? 0) kept")
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// A message that is neither the output nor an error (on stderr, so stdout stays the data).
func printNote(_ text: String) {
    let line = Array("devserve: \(text)\n".utf8)
    _ = line.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
}

func printWarning(_ text: String) {
    let line = Array("devserve: warning: \(text)\n".utf8)
    _ = line.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
}

func printError(_ text: String) {
    let line = Array("devserve: error: \(text)\n".utf8)
    _ = line.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
}
