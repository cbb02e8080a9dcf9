import DevServer
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// The inspector without a terminal: screens, prompts and models, driven by keys and recorder
/// changes, drawn into a ``ScreenBuffer``. Command handlers change state and say whether to
/// redraw; only ``render(width:height:now:)`` draws. Tests drive this type directly.
public final class InspectorApp {
    /// What the inspector needs from the server.
    public struct Environment {
        public var source: RecordSource
        public var eventLog: EventLog?
        public var server: () -> ServerState
        public var reload: () -> Void
        public var quit: () -> Void
        /// Seconds east of UTC, for times of day.
        public var utcOffset: Int
        /// Sends requests again: each id's captured request, or the edited one. Runs in the
        /// background and calls `done` with a line to show (and whether it failed).
        public var replay: (_ requests: [(id: Int, edited: RawRequest?)], _ done: @escaping @Sendable (String, Bool) -> Void) -> Void
        /// Where exports are written.
        public var exportDirectory: String
        /// Puts text on the terminal's clipboard (OSC 52); by default written to the terminal.
        public var copyToClipboard: (String) -> Void = InspectorApp.osc52

        public init(source: RecordSource, eventLog: EventLog? = nil, server: @escaping () -> ServerState = { ServerState() },
                    reload: @escaping () -> Void = {}, quit: @escaping () -> Void = {}, utcOffset: Int = 0,
                    replay: @escaping (_ requests: [(id: Int, edited: RawRequest?)], _ done: @escaping @Sendable (String, Bool) -> Void) -> Void = { _, done in done("replay is not available here", true) },
                    exportDirectory: String = ".") {
            self.source = source
            self.eventLog = eventLog
            self.server = server
            self.reload = reload
            self.quit = quit
            self.utcOffset = utcOffset
            self.replay = replay
            self.exportDirectory = exportDirectory
        }
    }

    /// The screens, as a stack: the list is always at the bottom.
    public enum Screen {
        case list
        case detail(DetailModel)
        case help
        case events
        /// A text pane: a diff, an exported curl command or raw request.
        case text(title: String, lines: [StyledLine])
    }

    enum Prompt: Equatable {
        case filter
        case search
        case confirmClear
        case confirmQuit
        case export
        /// Where to write an export (h, f, c, w) or a body (b): prefilled, editable, Tab completes.
        case exportPath(Character)
    }

    public let environment: Environment
    public let list: ListModel
    public let bindings = KeyBindings.standard
    public private(set) var screens: [Screen] = [.list]
    private(set) var prompt: Prompt?
    private(set) var promptText = ""
    private var promptError: String?
    /// A one-line message for the bottom row, until the next key.
    private(set) var message: (text: String, role: Role)?
    /// `Q` was pressed: the server is stopping.
    public private(set) var quitting = false
    /// Scroll positions of the help and event log panes (nil: follow the end).
    private var helpScroll = 0
    private var eventsScroll: Int?
    private var seenProblems = 0
    /// Rows the event log took when last drawn (wrapped).
    private var eventLines = 0
    private var rate = RateMeter()
    /// The size of the last frame, for page movement and mouse hits.
    private var size = (width: 80, height: 24)
    private var textScroll = 0
    /// The server state the last frame showed.
    private var drawnServer: ServerState?
    private var drawnPaused = false
    private var textLines = 0
    /// Credentials shown as they are (`S`); masked by default.
    public private(set) var revealSecrets = false
    /// Messages from background work (replays), shown at the next frame.
    public let notices = Notices()
    /// Opens text in the user's editor and returns what was saved, nil if nothing was (set
    /// by the terminal runtime: it suspends the screen meanwhile).
    public var edit: ((String) -> [UInt8]?)?

    public init(environment: Environment) {
        self.environment = environment
        self.list = ListModel(source: environment.source)
    }

    public var screen: Screen { screens[screens.count - 1] }

    var context: KeyBindings.Context {
        switch screen {
        case .list: return .list
        case .detail: return .detail
        case .help: return .help
        case .events, .text: return .events
        }
    }

    /// Whether the server's state (generation, worker, building, stale) differs from what the
    /// last frame showed: the supervisor publishes it (waking the inspector) after the log line
    /// that announced it, so the frame that line caused may show the old state.
    public var serverChanged: Bool {
        guard let drawnServer else { return true }
        var now = environment.server()
        now.served = drawnServer.served
        // Capture paused or resumed from the command line changes no record.
        return now != drawnServer || environment.source.statistics.paused != drawnPaused
    }

    /// Whether something on screen moves by itself (a spinner, elapsed times, the rate).
    public var needsTicks: Bool { environment.source.statistics.inFlight > 0 || rate.isActive }

    // MARK: Input

    /// Applies the recorder's changes since the last frame.
    public func apply(_ changes: [RecorderChange], now: Int = WallClock.microseconds()) {
        guard !changes.isEmpty else { return }
        list.apply(changes, now: now)
    }

    /// Handles a key. - Returns: whether the screen must be redrawn.
    @discardableResult
    public func handle(_ key: Key, now: Int = WallClock.microseconds()) -> Bool {
        if key == .resize { return true }
        message = nil
        if prompt != nil { return handlePrompt(key, now: now) }
        if case .click(let row, let column) = key { return click(row: row, column: column, now: now) }
        guard let command = bindings.command(for: key, in: context) else {
            message = ("\(key.label): no such key here; ? lists them", .dim)
            return true
        }
        let repeats = key == .wheelUp || key == .wheelDown ? 3 : 1
        for _ in 0..<repeats { run(command, now: now) }
        return true
    }

    func run(_ command: Command, now: Int) {
        let page = max(1, pageHeight - 1)
        switch command {
        case .moveDown: move(by: 1, now: now)
        case .moveUp: move(by: -1, now: now)
        case .pageDown: move(by: page, now: now)
        case .pageUp: move(by: -page, now: now)
        case .top: moveToEnd(bottom: false, now: now)
        case .bottom: moveToEnd(bottom: true, now: now)
        case .scrollLeft: if case .detail(let detail) = screen { detail.scrollHorizontally(by: -8) }
        case .scrollRight: if case .detail(let detail) = screen { detail.scrollHorizontally(by: 8) }
        case .open:
            if let id = list.selectedID { screens.append(.detail(DetailModel(recordID: id))) }
        case .back:
            if screens.count > 1 { screens.removeLast() }
        case .nextTab, .previousTab:
            if case .detail(let detail) = screen { detail.switchTab(by: command == .nextTab ? 1 : -1) }
        case .help:
            if case .help = screen { screens.removeLast() } else {
                helpScroll = 0
                screens.append(.help)
            }
        case .eventLog:
            if case .events = screen { screens.removeLast() } else {
                eventsScroll = nil
                screens.append(.events)
            }
        case .filter: startPrompt(.filter, text: list.filterText)
        case .search: startPrompt(.search, text: "")
        case .toggleFollow:
            if list.follow { list.follow = false } else { list.moveToBottom() }
            message = (list.follow ? "following new requests" : "not following", .dim)
        case .cycleSort:
            list.cycleSort()
            message = ("sorted by \(list.sort.rawValue)\(list.sort == .time ? "" : list.descending ? ", largest first (O reverses)" : ", smallest first")", .dim)
        case .reverseSort:
            if list.reverseSort() {
                message = ("sorted by \(list.sort.rawValue), \(list.descending ? "largest" : "smallest") first", .dim)
            } else {
                message = ("time order is arrival order: o sorts by duration, size or status", .dim)
            }
        case .unmarkAll:
            let count = list.marks.count
            list.unmarkAll()
            message = (count == 0 ? "nothing was marked" : "\(count) mark\(count == 1 ? "" : "s") cleared", .dim)
        case .mark:
            if case .detail(let detail) = screen {
                let saved = list.selectedID
                list.selectForMark(detail.recordID)
                list.toggleMark()
                list.selectForMark(saved)
            } else {
                list.toggleMark()
            }
        case .togglePause:
            if environment.source.statistics.paused {
                environment.source.resume()
                message = ("capture resumed", .dim)
            } else {
                environment.source.pause()
                message = ("capture paused: requests are served, not recorded (p resumes)", .warning)
            }
        case .clear:
            startPrompt(.confirmClear, text: "")
        case .reload:
            environment.reload()
            message = ("reload requested: the next generation starts, the current one serves until it is ready", .dim)
        case .cycleBodyMode:
            if case .detail(let detail) = screen { detail.cycleMode() }
        case .searchNext, .searchPrevious:
            guard case .detail(let detail) = screen, let record = environment.source.record(detail.recordID) else { return }
            let document = detail.document(record, now: now)
            if detail.search == nil {
                message = ("no search yet: / searches", .dim)
            } else if !detail.findNext(forward: command == .searchNext, document: document, height: pageHeight) {
                message = ("no match for \(detail.search?.needle ?? "")", .warning)
            } else if let position = detail.matchPosition {
                message = ("match \(position.index) of \(position.count) (lines with \(detail.search?.needle ?? ""))", .dim)
            }
        case .confirmQuit:
            startPrompt(.confirmQuit, text: "")
        case .quit:
            quit()
        case .replay:
            let ids = targets()
            guard !ids.isEmpty else { return message = ("nothing to replay", .dim) }
            let which = list.marks.isEmpty ? "#\(ids[0])" : "\(ids.count) marked request\(ids.count == 1 ? "" : "s") (\(ids.map { "#\($0)" }.joined(separator: ", ")); U unmarks)"
            message = ("replaying \(which)…", .dim)
            environment.replay(ids.map { ($0, nil) }) { [notices] text, failed in notices.post(text, failed ? .error : .dim) }
        case .editReplay:
            editAndReplay()
        case .diff:
            diffReplay()
        case .diffMarked:
            let marked = list.marks.sorted()
            guard marked.count == 2, let left = environment.source.record(marked[0]), let right = environment.source.record(marked[1]) else {
                return message = ("D compares two marked requests (m marks); \(marked.count) marked", .warning)
            }
            showDiff(left, right)
        case .export:
            startPrompt(.export, text: "")
        case .toggleSecrets:
            revealSecrets.toggle()
            message = revealSecrets ? ("credentials shown (S masks them again)", .warning) : ("credentials masked", .dim)
        }
    }

    /// The requests a command acts on: the marked ones in order, else the one in view.
    private func targets() -> [Int] {
        if !list.marks.isEmpty { return list.marks.sorted() }
        return focusedID.map { [$0] } ?? []
    }

    private var focusedID: Int? {
        if case .detail(let detail) = screen { return detail.recordID }
        return list.selectedID
    }

    private func editAndReplay() {
        guard let id = focusedID, let record = environment.source.record(id) else { return message = ("nothing to edit", .dim) }
        let original: RawRequest
        do {
            original = try RawRequest(record: record)
        } catch {
            return message = ("\(error)", .error)
        }
        guard let edit else { return message = ("no editor: set $VISUAL or $EDITOR", .error) }
        guard let saved = edit(original.editableText) else { return message = ("edit cancelled: nothing sent", .dim) }
        do {
            let (request, adjusted) = try RawRequest.parse(editedText: saved)
            message = ("sending the edited #\(id)\(adjusted ? " (Content-Length set to the edited body's length)" : "")…", .dim)
            environment.replay([(id, request)]) { [notices] text, failed in notices.post(text, failed ? .error : .dim) }
        } catch {
            message = ("the edited request is malformed, nothing was sent: \(error)", .error)
        }
    }

    private func diffReplay() {
        guard let id = focusedID, let record = environment.source.record(id) else { return }
        if let original = record.replayOf {
            guard let left = environment.source.record(original) else { return message = ("#\(original), the original, is no longer kept", .warning) }
            return showDiff(left, record)
        }
        // On an original: compare it with its newest replay.
        let replays = environment.source.ids { $0.replayOf == id }
        guard let newest = replays.last, let right = environment.source.record(newest) else {
            return message = ("#\(id) is not a replay and has none: r replays it, D compares two marked requests", .warning)
        }
        showDiff(record, right)
    }

    private func showDiff(_ left: RequestRecord, _ right: RequestRecord) {
        let masked = revealSecrets ? (left, right) : (Secrets.masked(left), Secrets.masked(right))
        textScroll = 0
        screens.append(.text(title: "diff #\(left.id) → #\(right.id)", lines: RecordDiff(left: masked.0, right: masked.1).lines()))
    }

    /// The first step of `x`: which export; then its path is asked for, prefilled.
    private func export(_ choice: Character) {
        let stamp = ListView.clock(WallClock.microseconds(), utcOffset: environment.utcOffset).replacing(":", with: "").replacing(".", with: "-")
        let id = focusedID.map(String.init) ?? "none"
        let name: String
        switch choice {
        case "h": name = "devserve-\(stamp).har"
        case "f": name = "devserve-\(id)-\(stamp).har"
        case "c": name = "devserve-\(id)-\(stamp).sh"
        case "w": name = "devserve-\(id)-\(stamp).http"
        case "b": name = "devserve-\(id)-body-\(stamp)\(bodyExtension())"
        case "y":
            // Straight to the clipboard: no file, no path to ask for.
            guard let focused = focusedID, let record = environment.source.record(focused) else { return message = ("nothing selected to copy", .dim) }
            var request: RawRequest
            do { request = try RawRequest(record: record) } catch { return message = ("\(error)", .error) }
            if !revealSecrets { request = Secrets.masked(request) }
            let base = environment.server().url.isEmpty ? "http://127.0.0.1:8000/" : environment.server().url
            environment.copyToClipboard(request.curl(base: base))
            return message = ("copied #\(focused) as a curl command to the clipboard (OSC 52: the terminal must allow it; tmux: set -g set-clipboard on)", .dim)
        default:
            return message = ("export: h (HAR of the marked or listed), f (HAR of the selected), c (curl), w (raw HTTP), b (the body in view), y (copy as curl)", .dim)
        }
        if choice != "h" && focusedID == nil { return message = ("nothing selected to export", .dim) }
        startPrompt(.exportPath(choice), text: "\(environment.exportDirectory)/\(name)")
    }

    /// Writes export `choice` to `path` (the prompt's answer).
    private func export(_ choice: Character, to path: String) {
        switch choice {
        case "h", "f":
            let ids = choice == "f" ? (focusedID.map { [$0] } ?? []) : !list.marks.isEmpty ? list.marks.sorted() : list.ids
            let records = ids.compactMap(environment.source.record)
            write(HAR.export(records, revealSecrets: revealSecrets), to: path, what: "\(records.count) request\(records.count == 1 ? "" : "s") as HAR")
        case "c", "w":
            guard let id = focusedID, let record = environment.source.record(id) else { return }
            var request: RawRequest
            do { request = try RawRequest(record: record) } catch { return message = ("\(error)", .error) }
            if !revealSecrets { request = Secrets.masked(request) }
            let base = environment.server().url.isEmpty ? "http://127.0.0.1:8000/" : environment.server().url
            let bytes = choice == "c" ? Array((request.curl(base: base) + "\n").utf8) : request.bytes
            guard write(bytes, to: path, what: choice == "c" ? "#\(id) as a curl command" : "#\(id) as raw HTTP") else { return }
            // Shown as lines: CR LF ends a line, it is not drawn as ^M^J.
            textScroll = 0
            let text = String(decoding: bytes, as: UTF8.self)
            let lines = TerminalText.lines(of: text).map { StyledLine(String($0)) }
            screens.append(.text(title: "#\(id) \(choice == "c" ? "curl" : "raw HTTP") (\(path))", lines: lines))
        case "b":
            guard case .detail(let detail) = screen, let record = environment.source.record(detail.recordID) else {
                return message = ("b saves the body of the request or response in view: open one first", .dim)
            }
            let request = detail.tab == .request
            let bytes = request ? record.requestBody : record.responseBody
            let dropped = request ? record.requestBodyDropped : record.responseBodyDropped
            write(bytes, to: path, what: "the \(request ? "request" : "response") body of #\(record.id) (\(bytes.count) bytes\(dropped > 0 ? "; \(dropped) more were not kept" : ""))")
        default:
            break
        }
    }

    /// The body in view's usual file extension, from its content type.
    private func bodyExtension() -> String {
        guard case .detail(let detail) = screen, let record = environment.source.record(detail.recordID) else { return ".bin" }
        let type = ((detail.tab == .request ? record.requestContentType : record.responseContentType) ?? "").lowercased()
        for (part, ext) in [("json", ".json"), ("html", ".html"), ("xml", ".xml"), ("javascript", ".js"), ("css", ".css"), ("text", ".txt"), ("png", ".png"), ("jpeg", ".jpg"), ("gif", ".gif"), ("pdf", ".pdf")] where type.contains(part) {
            return ext
        }
        return ".bin"
    }

    /// OSC 52 (xterm's clipboard escape): the terminal, not devserve, puts `text` on the
    /// clipboard, which also works over ssh. Written to the controlling terminal.
    public static func osc52(_ text: String) {
        let sequence = Array("\u{1B}]52;c;\(Data(text.utf8).base64EncodedString())\u{07}".utf8)
        let terminal = open("/dev/tty", O_WRONLY | O_CLOEXEC | O_NOCTTY)
        guard terminal >= 0 else { return }
        _ = sequence.withUnsafeBytes { Glibc.write(terminal, $0.baseAddress, $0.count) }
        close(terminal)
    }

    /// Tab in a path prompt: completes the last component from the directory, as a shell does
    /// (the longest common prefix; a directory gets its "/").
    static func completePath(_ text: String) -> String {
        let slash = text.lastIndex(of: "/")
        let directory = slash.map { String(text[...$0]) } ?? "./"
        let stem = slash.map { String(text[text.index(after: $0)...]) } ?? text
        guard let handle = opendir(directory) else { return text }
        defer { closedir(handle) }
        var matches: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." && name.hasPrefix(stem) && (stem.hasPrefix(".") || !name.hasPrefix(".")) { matches.append(name) }
        }
        guard var common = matches.first else { return text }
        for match in matches.dropFirst() {
            while !match.hasPrefix(common) { common.removeLast() }
        }
        var completed = (slash == nil ? "" : directory) + common
        if matches.count == 1 {
            var info = stat()
            if stat(completed, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR { completed += "/" }
        }
        return completed
    }

    @discardableResult
    private func write(_ bytes: [UInt8], to path: String, what: String) -> Bool {
        guard FileBytes.write(bytes, to: path) else {
            message = ("cannot write \(path): \(String(cString: strerror(errno)))", .error)
            return false
        }
        message = ("wrote \(what) to \(path)\(revealSecrets ? "" : " (credentials masked; S shows them)")", .dim)
        return true
    }

    private func quit() {
        guard !quitting else { return }
        quitting = true
        environment.quit()
        message = ("stopping: requests in flight get to finish…", .warning)
    }

    private var pageHeight: Int {
        switch screen {
        case .list: return max(1, size.height - 4)
        case .detail: return DetailView.documentHeight(size.height)
        case .help, .events, .text: return max(1, size.height - 3)
        }
    }

    private func move(by delta: Int, now: Int) {
        switch screen {
        case .list: list.move(by: delta)
        case .detail(let detail):
            guard let record = environment.source.record(detail.recordID) else { return }
            detail.scroll(by: delta, lines: detail.document(record, now: now).lineCount, height: pageHeight)
        case .help: helpScroll = max(0, min(helpScroll + delta, HelpView(bindings: bindings).lines().count - pageHeight))
        case .text:
            textScroll = max(0, min(textScroll + delta, textLines - pageHeight))
        case .events:
            let count = eventLines
            let bottom = max(0, count - pageHeight)
            let next = max(0, min((eventsScroll ?? bottom) + delta, bottom))
            eventsScroll = next == bottom ? nil : next
        }
    }

    private func moveToEnd(bottom: Bool, now: Int) {
        switch screen {
        case .list: bottom ? list.moveToBottom() : list.moveToTop()
        case .detail(let detail):
            guard let record = environment.source.record(detail.recordID) else { return }
            if bottom { detail.scrollToBottom(lines: detail.document(record, now: now).lineCount, height: pageHeight) } else { detail.scrollToTop() }
        case .help: helpScroll = bottom ? max(0, HelpView(bindings: bindings).lines().count - pageHeight) : 0
        case .events: eventsScroll = bottom ? nil : 0
        case .text: textScroll = bottom ? max(0, textLines - pageHeight) : 0
        }
    }

    private func click(row: Int, column: Int, now: Int) -> Bool {
        switch screen {
        case .list:
            let index = row - 2
            guard index >= 0 && row < size.height - 2 else { return false }
            let before = list.selectedID
            list.select(row: index)
            if before == list.selectedID, list.selectedID != nil { run(.open, now: now) }
        case .detail(let detail):
            guard row == 2 else { return false }
            var start = 0
            for tab in DetailTab.allCases {
                let width = TerminalText.width(tab.rawValue) + 4
                if column >= start && column < start + width {
                    detail.select(tab: tab)
                    break
                }
                start += width
            }
        case .help, .events, .text:
            return false
        }
        return true
    }

    // MARK: Prompts

    private func startPrompt(_ kind: Prompt, text: String) {
        prompt = kind
        promptText = text
        promptError = nil
    }

    private func handlePrompt(_ key: Key, now: Int) -> Bool {
        guard let prompt else { return false }
        switch prompt {
        case .export:
            self.prompt = nil
            if case .character(let choice) = key { export(choice) }
            return true
        case .exportPath(let choice):
            switch key {
            case .escape:
                self.prompt = nil
                message = ("export cancelled", .dim)
            case .enter:
                self.prompt = nil
                let path = promptText.trimmingWhitespace()
                if path.isEmpty { message = ("export cancelled: no path", .dim) } else { export(choice, to: path) }
            case .tab:
                promptText = Self.completePath(promptText)
            case .backspace, .delete:
                if !promptText.isEmpty { promptText.removeLast() }
            case .control("u"):
                promptText = ""
            case .character(let character):
                promptText.append(character)
            default:
                break
            }
            return true
        case .confirmClear, .confirmQuit:
            self.prompt = nil
            guard key == .character("y") || key == .character("Y") else { return true }
            if prompt == .confirmQuit { quit() } else {
                let count = environment.source.statistics.count
                environment.source.clear()
                list.apply([.cleared], now: now)
                message = ("cleared \(count) request\(count == 1 ? "" : "s")", .dim)
            }
            return true
        case .filter, .search:
            switch key {
            case .escape:
                self.prompt = nil
            case .enter:
                submit(prompt, now: now)
            case .backspace, .delete:
                if !promptText.isEmpty { promptText.removeLast() }
                promptError = nil
            case .control("u"):
                promptText = ""
            case .character(let character):
                promptText.append(character)
                promptError = nil
            default:
                break
            }
            return true
        }
    }

    private func submit(_ kind: Prompt, now: Int) {
        if kind == .filter {
            do {
                try list.setFilter(promptText)
                prompt = nil
                message = list.filterText.isEmpty ? ("filter cleared", .dim) : (list.ids.count == 1 ? "1 request matches" : "\(list.ids.count) requests match", .dim)
            } catch let error as FilterError {
                // The old filter stays; the prompt stays open to fix the expression.
                promptError = "\(error.description) (the filter in use is unchanged)"
            } catch {
                promptError = "\(error)"
            }
            return
        }
        prompt = nil
        guard case .detail(let detail) = screen, let record = environment.source.record(detail.recordID) else { return }
        let document = detail.document(record, now: now)
        let count = detail.find(promptText, in: document, height: pageHeight)
        if promptText.isEmpty {
            message = ("search cleared", .dim)
        } else {
            message = count == 0 ? ("no match for \(promptText) in \(detail.tab.rawValue)", .warning)
                : ("match \(detail.matchPosition?.index ?? 1) of \(count) line\(count == 1 ? "" : "s") with \(promptText): n next, N previous", .dim)
        }
    }

    // MARK: Drawing

    /// Draws the whole screen.
    public func render(width: Int, height: Int, now: Int = WallClock.microseconds()) -> ScreenBuffer {
        size = (width, height)
        var buffer = ScreenBuffer(width: width, height: height)
        guard width >= 20 && height >= 6 else {
            buffer.write("devserve: window too small", row: 0, column: 0)
            return buffer
        }
        if let notice = notices.take() { message = notice }
        let server = environment.server()
        drawnServer = server
        drawnPaused = environment.source.statistics.paused
        rate.sample(served: server.served, now: now)
        let problems = environment.eventLog?.problemCount ?? 0
        if case .events = screen { seenProblems = problems }
        let status = StatusBar(
            server: server, statistics: environment.source.statistics, requestsPerSecond: rate.perSecond,
            filter: list.filterText, follow: list.follow, sort: list.sort, descending: list.descending, marked: list.marks.count,
            unreadProblems: problems - seenProblems)
        status.drawTop(into: &buffer, row: 0, title: title)
        let contentHeight = height - 3
        switch screen {
        case .list:
            ListView(model: list, now: now, utcOffset: environment.utcOffset).draw(into: &buffer, top: 1, height: contentHeight)
        case .detail(let detail):
            detail.revealSecrets = revealSecrets
            detail.utcOffset = environment.utcOffset
            DetailView(model: detail, now: now).draw(environment.source.record(detail.recordID), into: &buffer, top: 1, height: contentHeight)
        case .help:
            let lines = HelpView(bindings: bindings).lines()
            drawPane(lines, from: helpScroll, into: &buffer, top: 1, height: contentHeight)
        case .text(_, let lines):
            // Wrapped at the width of this frame: long header values and curl commands matter whole.
            let wrapped = lines.flatMap { $0.wrapped(width: width - 2, indent: 4) }
            textLines = wrapped.count
            drawPane(wrapped, from: min(textScroll, max(0, wrapped.count - contentHeight)), into: &buffer, top: 1, height: contentHeight)
        case .events:
            // Wrapped: backtraces and build errors are long, and every column of them matters.
            let lines = EventLogView(utcOffset: environment.utcOffset).lines(environment.eventLog?.snapshot() ?? [])
                .flatMap { $0.wrapped(width: width - 2, indent: 15) }
            eventLines = lines.count
            drawPane(lines, from: min(eventsScroll ?? .max, max(0, lines.count - contentHeight)), into: &buffer, top: 1, height: contentHeight)
        }
        status.drawBottom(into: &buffer, row: height - 2)
        drawMessageLine(into: &buffer, row: height - 1)
        return buffer
    }

    private var title: String {
        switch screen {
        case .list: return "requests"
        case .detail(let detail): return "request #\(detail.recordID)"
        case .help: return "help"
        case .events: return "event log"
        case .text(let title, _): return title
        }
    }

    private func drawPane(_ lines: [StyledLine], from first: Int, into buffer: inout ScreenBuffer, top: Int, height: Int) {
        for offset in 0..<max(0, min(height, lines.count - first)) {
            buffer.write(lines[first + offset], row: top + offset, column: 1)
        }
    }

    private func drawMessageLine(into buffer: inout ScreenBuffer, row: Int) {
        if let prompt {
            let label: String
            switch prompt {
            case .filter: label = "filter: "
            case .search: label = "search: /"
            case .confirmClear: label = "Clear all \(environment.source.statistics.count) captured requests? (y/n) "
            case .confirmQuit: label = "Quit devserve? (y/n) "
            case .export: label = "Export: h HAR of the \(list.marks.isEmpty ? "\(list.ids.count) listed" : "\(list.marks.count) marked"); f HAR, c curl, w raw HTTP of the selected; b the body in view; y copy as curl: "
            case .exportPath: label = "save to (Tab completes, Esc cancels): "
            }
            var column = buffer.write(label, row: row, column: 0, role: .prompt)
            column = buffer.write(promptText, row: row, column: column)
            buffer.write(" ", row: row, column: column, role: .selection)
            if let promptError {
                buffer.clear(row: row - 1, role: .crashed)
                buffer.write(" " + promptError, row: row - 1, column: 0, role: .crashed)
            }
            return
        }
        if let message {
            buffer.write(message.text, row: row, column: 0, role: message.role)
            return
        }
        let hints: [(String, String)]
        switch screen {
        case .list: hints = [("Enter", "open"), ("f", "filter"), ("o", "sort"), ("F", "follow"), ("p", "pause"), ("E", "events"), ("?", "help"), ("Q", "quit")]
        case .detail: hints = [("Tab", "next tab"), ("b", "body mode"), ("/", "search"), ("q", "back"), ("?", "help")]
        case .help, .events, .text: hints = [("j/k", "scroll"), ("q", "back")]
        }
        var column = 0
        for (key, action) in hints {
            column = buffer.write(key, row: row, column: column, role: .key)
            column = buffer.write(" \(action)  ", row: row, column: column, role: .dim)
        }
    }
}

/// Requests per second over the last second or two, from the server's running count.
struct RateMeter {
    private var samples: [(time: Int, served: Int)] = []

    mutating func sample(served: Int, now: Int) {
        if let last = samples.last, now - last.time < 100_000 { return }
        samples.append((now, served))
        samples.removeAll { now - $0.time > 2_000_000 }
    }

    var perSecond: Double {
        guard let first = samples.first, let last = samples.last, last.time - first.time >= 500_000 else { return 0 }
        return Double(last.served - first.served) * 1_000_000 / Double(last.time - first.time)
    }

    var isActive: Bool { perSecond > 0 }
}

/// Messages posted from other threads (a replay finished), shown at the next frame.
public final class Notices: @unchecked Sendable {
    private let lock = Lock()
    private var pending: (text: String, role: Role)?
    /// Wakes the inspector's loop (set by ``Inspector``).
    var wake: @Sendable () -> Void = {}

    public func post(_ text: String, _ role: Role) {
        lock.withLock { pending = (text, role) }
        wake()
    }

    func take() -> (text: String, role: Role)? {
        lock.withLock {
            defer { pending = nil }
            return pending
        }
    }

    var hasPending: Bool { lock.withLock { pending != nil } }
}
