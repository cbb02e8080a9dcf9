import ArgumentParser
import DevServer

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
                printError("bad filter: " + Sanitize.lines(FilterError(position: position, message: error).render(filter)))
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

    @OptionGroup var instance: InstanceOptions

    func run() throws {
        let response = try instance.send(ControlSocket.Request(command: "ls", filter: filter))
        let entries = response.entries ?? []
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

    @OptionGroup var instance: InstanceOptions

    func run() throws {
        let response = try instance.send(ControlSocket.Request(command: "show", id: id, reveal: showSecrets))
        guard let record = response.record else { throw ExitCode(1) }
        print(json ? try JSONText.encode(record) : Sanitize.lines(RecordText.detail(record)), terminator: json ? "\n" : "")
    }
}

/// `devserve reload`: start the next generation from the plugin file now.
struct ReloadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reload", abstract: "Reload the plugin of a running devserve now (as when its file is rewritten).")

    @OptionGroup var instance: InstanceOptions

    func run() throws {
        _ = try instance.send(ControlSocket.Request(command: "reload"))
        print("reloading; `devserve ls` shows which generation serves")
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

func printWarning(_ text: String) {
    let line = Array("devserve: warning: \(text)\n".utf8)
    _ = line.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
}

func printError(_ text: String) {
    let line = Array("devserve: error: \(text)\n".utf8)
    _ = line.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
}
