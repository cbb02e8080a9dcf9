import DevServer

/// The detail view without a screen: which record, which tab, where each tab is scrolled, the
/// body mode and the search. Documents are rebuilt only when the record changed (a chunk
/// arrived), so scrolling a large body costs only the lines drawn.
public final class DetailModel {
    public let recordID: Int
    public private(set) var tab = DetailTab.request
    /// Each tab's body mode (request and response bodies differ in kind): chosen by content
    /// type (`auto`) until the user picks one with `b`.
    private var modes: [DetailTab: BodyMode] = [:]
    public var mode: BodyMode { modes[tab] ?? .auto }
    private var scrolls: [DetailTab: Int] = [:]
    public private(set) var horizontal = 0
    /// The search text and the lines that hold it, in the current tab's document.
    public private(set) var search: (needle: String, lines: [Int])?

    private var cached: (key: CacheKey, document: Document)?
    private var bodyCache: (chunks: Int, bytes: [UInt8])?

    private struct CacheKey: Equatable {
        var tab: DetailTab
        var mode: BodyMode
        var chunks: Int
        var bodyBytes: Int
        var outcome: RequestRecord.Outcome
        var errors: Int
        var violations: Int
        var sent: Bool
        var status: String?
        /// In flight, the chunks tab shows elapsed time: rebuilt every tick.
        var tick: Int
        var reveal: Bool
    }

    /// Credentials shown unmasked (the app's `S`).
    public var revealSecrets = false
    /// Seconds east of UTC, for the request's time of day.
    public var utcOffset = 0

    public init(recordID: Int) { self.recordID = recordID }

    public var scroll: Int { scrolls[tab] ?? 0 }

    /// The current tab's document for `record`.
    public func document(_ record: RequestRecord, now: Int) -> Document {
        let key = CacheKey(
            tab: tab, mode: mode, chunks: record.chunks.count, bodyBytes: record.requestBody.count, outcome: record.outcome,
            errors: record.errors.utf8.count, violations: record.violations.count, sent: record.sentHead != nil,
            status: record.applicationStatus, tick: tab == .chunks && record.isInFlight ? now / 250_000 : 0, reveal: revealSecrets)
        if let cached, cached.key == key { return cached.document }
        // The response body is joined once per chunk that arrives, not once per frame.
        if tab == .response, bodyCache?.chunks != record.chunks.count { bodyCache = (record.chunks.count, record.responseBody) }
        let shown = revealSecrets ? record : Secrets.masked(record)
        let document = RecordDocuments.document(shown, tab: tab, mode: mode, responseBody: bodyCache?.bytes ?? [], now: now, utcOffset: utcOffset)
        cached = (key, document)
        if let search { self.search = (search.needle, document.lines(containing: search.needle)) }
        return document
    }

    // MARK: Commands

    public func switchTab(by delta: Int) {
        tab = tab.moved(by: delta)
        // A tab change starts at the top.
        scrolls[tab] = 0
        focusLine = nil
        horizontal = 0
        search = search.map { ($0.needle, []) }
        cached = nil
    }

    public func select(tab: DetailTab) {
        self.tab = tab
        cached = nil
    }

    public func cycleMode() {
        modes[tab] = mode.next
        // Another view of the body is another document: it starts at the top (a shorter one
        // would otherwise show only its end, or nothing).
        scrolls[tab] = 0
        focusLine = nil
        horizontal = 0
        cached = nil
    }

    /// Scrolls by `delta` lines within a document of `lines` lines shown `height` at a time.
    public func scroll(by delta: Int, lines: Int, height: Int) {
        scrolls[tab] = max(0, min(scroll + delta, max(0, lines - height)))
    }

    public func scrollToTop() { scrolls[tab] = 0 }

    public func scrollToBottom(lines: Int, height: Int) { scrolls[tab] = max(0, lines - height) }

    public func scrollHorizontally(by delta: Int) { horizontal = max(0, horizontal + delta) }

    /// Searches the whole document; jumps to the first match at or below the top line.
    /// - Returns: how many lines match.
    @discardableResult
    public func find(_ needle: String, in document: Document, height: Int) -> Int {
        guard !needle.isEmpty else {
            search = nil
            return 0
        }
        let lines = document.lines(containing: needle)
        search = (needle, lines)
        if let first = lines.first(where: { $0 >= scroll }) ?? lines.first {
            scrolls[tab] = max(0, min(first, max(0, document.lineCount - height)))
            focusLine = first
        }
        return lines.count
    }

    /// The line the last search jump went to (highlighted).
    public private(set) var focusLine: Int?

    /// "match k of N" for the status line: which matching line the search is on.
    public var matchPosition: (index: Int, count: Int)? {
        guard let search, !search.lines.isEmpty, let focusLine, let index = search.lines.firstIndex(of: focusLine) else { return nil }
        return (index + 1, search.lines.count)
    }

    /// Moves to the next (or previous) match after the focused line, wrapping around.
    /// - Returns: false when there is no match.
    @discardableResult
    public func findNext(forward: Bool, document: Document, height: Int) -> Bool {
        guard let search, !search.lines.isEmpty else { return false }
        let from = focusLine ?? scroll
        let target: Int
        if forward {
            target = search.lines.first { $0 > from } ?? search.lines[0]
        } else {
            target = search.lines.last { $0 < from } ?? search.lines[search.lines.count - 1]
        }
        focusLine = target
        // Keep the match a few lines below the top, as less does.
        scrolls[tab] = max(0, min(target - min(3, height / 4), max(0, document.lineCount - height)))
        return true
    }
}
