/// Which key runs which ``Command`` in which context, with a global fallback (mitmproxy's
/// `defaultkeys.py`). The help screen is generated from this table, so it cannot drift.
public struct KeyBindings: Sendable {
    public enum Context: String, CaseIterable, Sendable {
        case global, list, detail, help, events
    }

    public struct Binding: Sendable {
        public var keys: [Key]
        public var command: Command
        public var context: Context
    }

    public private(set) var bindings: [Binding] = []
    private var table: [Context: [Key: Command]] = [:]

    public init() {}

    public mutating func bind(_ keys: [Key], to command: Command, in context: Context) {
        bindings.append(Binding(keys: keys, command: command, context: context))
        for key in keys { table[context, default: [:]][key] = command }
    }

    /// The command for `key` in `context`, else in the global context.
    public func command(for key: Key, in context: Context) -> Command? {
        table[context]?[key] ?? table[.global]?[key]
    }

    /// The bindings that apply in `context`: its own, then the global ones it does not shadow.
    public func applicable(in context: Context) -> [Binding] {
        let own = bindings.filter { $0.context == context }
        guard context != .global else { return own }
        let shadowed = Set(own.flatMap(\.keys))
        return own + bindings.filter { $0.context == .global && !$0.keys.contains(where: shadowed.contains) }
    }

    /// devserve's keys: htop/less/vi movement, mitmproxy's names for the rest.
    public static let standard: KeyBindings = {
        var keys = KeyBindings()
        let movement: [([Key], Command)] = [
            ([.character("j"), .down, .wheelDown], .moveDown),
            ([.character("k"), .up, .wheelUp], .moveUp),
            ([.character("g"), .home], .top),
            ([.character("G"), .end], .bottom),
            ([.pageDown, .character(" "), .control("f")], .pageDown),
            ([.pageUp, .control("b")], .pageUp),
        ]
        for (list, command) in movement { keys.bind(list, to: command, in: .global) }
        keys.bind([.character("?"), .function(1)], to: .help, in: .global)
        keys.bind([.character("E")], to: .eventLog, in: .global)
        keys.bind([.character("p")], to: .togglePause, in: .global)
        keys.bind([.character("R")], to: .reload, in: .global)
        keys.bind([.character("Q")], to: .quit, in: .global)
        keys.bind([.character("r")], to: .replay, in: .global)
        keys.bind([.character("e")], to: .editReplay, in: .global)
        keys.bind([.character("d")], to: .diff, in: .global)
        keys.bind([.character("D")], to: .diffMarked, in: .global)
        keys.bind([.character("x")], to: .export, in: .global)
        keys.bind([.character("S")], to: .toggleSecrets, in: .global)
        keys.bind([.character("U")], to: .unmarkAll, in: .global)
        keys.bind([.character("q"), .escape], to: .back, in: .global)

        keys.bind([.enter], to: .open, in: .list)
        keys.bind([.character("f")], to: .filter, in: .list)
        keys.bind([.character("F")], to: .toggleFollow, in: .list)
        keys.bind([.character("o")], to: .cycleSort, in: .list)
        keys.bind([.character("O")], to: .reverseSort, in: .list)
        keys.bind([.character("m")], to: .mark, in: .list)
        keys.bind([.character("z")], to: .clear, in: .list)
        keys.bind([.character("q")], to: .confirmQuit, in: .list)

        keys.bind([.tab, .character("l"), .right], to: .nextTab, in: .detail)
        keys.bind([.backTab, .character("h"), .left], to: .previousTab, in: .detail)
        keys.bind([.character("H")], to: .scrollLeft, in: .detail)
        keys.bind([.character("L")], to: .scrollRight, in: .detail)
        keys.bind([.character("b")], to: .cycleBodyMode, in: .detail)
        keys.bind([.character("/")], to: .search, in: .detail)
        keys.bind([.character("n")], to: .searchNext, in: .detail)
        keys.bind([.character("N")], to: .searchPrevious, in: .detail)
        keys.bind([.character("m")], to: .mark, in: .detail)
        return keys
    }()
}
