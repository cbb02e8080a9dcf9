import ArgumentParser
import FoundationEssentials
import DevServer
#if canImport(Glibc)
import Glibc
#endif

/// `devserve replay`: send captured requests again, or the requests of a HAR file.
struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Send captured requests again to the devserve that captured them, or replay a HAR file to any server.",
        discussion: """
            devserve replay 7 8 9          replays entries 7, 8 and 9 in order: the same method, target, \
            headers and body, byte for byte; each new entry is linked to its original.
            devserve replay --har FILE     sends a HAR file's requests (devserve's or a browser's) to the \
            URLs recorded in it, or with --to to another server, and prints each status and time.
            """)

    @Argument(help: "Ids of captured requests, as `devserve ls` shows them.")
    var ids: [Int] = []

    @Option(help: ArgumentHelp("A HAR file whose requests to send.", valueName: "file"))
    var har: String?

    @Option(help: "With --har: only this entry (1 is the first).")
    var entry: Int?

    @Option(help: ArgumentHelp("With --har: send to this server instead (http://host:port).", valueName: "url"))
    var to: String?

    @Flag(help: "With --har: send requests whose credentials were masked on export (the mask text is sent as the credential).")
    var allowMasked = false

    @OptionGroup var instance: InstanceOptions

    func validate() throws {
        if har == nil && ids.isEmpty { throw ValidationError("give the ids of captured requests, or --har FILE") }
        if har != nil && !ids.isEmpty { throw ValidationError("ids replay captured requests; --har replays a file: not both") }
        if har == nil && (entry != nil || to != nil) { throw ValidationError("--entry and --to go with --har") }
    }

    func run() throws {
        if let har { return try replayFile(har) }
        let response = try instance.send(ControlSocket.Request(command: "replay", ids: ids))
        for line in response.replays ?? [] { print(Sanitize.line(line)) }
        if response.failed == true { throw ExitCode(1) }
    }

    private func replayFile(_ path: String) throws {
        guard let data = FileBytes.read(path) else {
            printError("\(path): cannot read it (\(String(cString: strerror(errno))))")
            throw ExitCode(1)
        }
        var requests: [HAR.ImportedRequest]
        do {
            requests = try HAR.requests(from: data)
        } catch {
            printError("\(path): \(error)")
            throw ExitCode(1)
        }
        if let entry {
            guard requests.indices.contains(entry - 1) else {
                printError("\(path) has \(requests.count) entries: no entry \(entry)")
                throw ExitCode(1)
            }
            requests = [requests[entry - 1]]
        }
        let masked = requests.enumerated().filter { _, imported in
            imported.request.headers.contains { Secrets.isSecret(header: $0.name) && Secrets.isMasked($0.value) }
        }.map { (entry ?? 1) + $0.offset }
        if !masked.isEmpty {
            let which = masked.count == requests.count ? "its requests" : "entries \(masked.map(String.init).joined(separator: ", "))"
            if allowMasked {
                printWarning("\(path): \(which) carry masked credentials; sending the mask text as the credential (--allow-masked)")
            } else {
                printError("\(path): \(which) carry masked credentials (exported without --show-secrets): the server would get the mask text. Export again with --show-secrets, or send them anyway with --allow-masked")
                throw ExitCode(1)
            }
        }
        var failed = false
        for (offset, imported) in requests.enumerated() {
            let number = (entry ?? 1) + offset
            let destination = to ?? imported.url
            guard let client = ReplayClient(url: destination) else {
                print("\(number) \(imported.request.method) \(imported.url): not sent (only http:// URLs; use --to)")
                failed = true
                continue
            }
            var request = imported.request
            if to != nil, let index = request.headers.firstIndex(where: { $0.name.lowercased() == "host" }) {
                request.headers[index].value = "\(client.host.contains(":") ? "[\(client.host)]" : client.host):\(client.port)"
            }
            do {
                let response = try client.send(request)
                print("\(number) \(request.method) \(request.target) -> \(response.status) \(response.reason) in \(RecordText.milliseconds(response.duration)), \(response.body.count) bytes")
            } catch {
                print("\(number) \(request.method) \(request.target) -> failed: \(error)")
                failed = true
            }
        }
        if failed { throw ExitCode(1) }
    }
}

/// `devserve export`: captured requests as HAR, or one as a curl command or raw HTTP.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export captured requests as HAR 1.2 (with devserve's environ, chunks, generation, violations and outcome), or one as a curl command or raw HTTP.",
        discussion: "Authorization, Cookie, Set-Cookie and Proxy-Authorization values are masked unless --show-secrets.")

    enum Format: String, EnumerableFlag {
        case har, curl, raw

        static func help(for value: Format) -> ArgumentHelp? {
            switch value {
            case .har: return "HAR 1.2 of the given ids, else of the filter's matches, else of everything (the default)."
            case .curl: return "A curl command that sends the request again."
            case .raw: return "The request as raw HTTP."
            }
        }
    }

    @Flag var format: Format = .har

    @Argument(help: "Ids of captured requests (one for --curl and --raw).")
    var ids: [Int] = []

    @Option(name: .shortAndLong, help: "Only requests matching this filter expression (see devserve ls --help).")
    var filter: String?

    @Option(name: .shortAndLong, help: ArgumentHelp("Write to this file instead of standard output.", valueName: "file"))
    var output: String?

    @Flag(help: "Do not mask credentials.")
    var showSecrets = false

    @OptionGroup var instance: InstanceOptions

    func run() throws {
        let response = try instance.send(ControlSocket.Request(
            command: "export", filter: filter, ids: ids, format: format.rawValue, reveal: showSecrets))
        let text = response.export ?? ""
        // Raw HTTP comes as base64: written as the bytes, whatever they are.
        let bytes = format == .raw ? Array(Data(base64Encoded: text) ?? Data()) : Array(text.utf8)
        if let output {
            guard FileBytes.write(bytes, to: output) else {
                printError("\(output): cannot write it (\(String(cString: strerror(errno))))")
                throw ExitCode(1)
            }
            printNote("wrote \(output)")
        } else if format == .raw {
            var offset = 0
            while offset < bytes.count {
                let written = bytes.withUnsafeBytes { write(STDOUT_FILENO, $0.baseAddress! + offset, $0.count - offset) }
                if written <= 0 { break }
                offset += written
            }
        } else {
            print(text, terminator: text.hasSuffix("\n") ? "" : "\n")
        }
    }
}
