#if canImport(Glibc)
import Glibc
#endif

/// Watches directories for files being written, with inotify, and falls back to polling
/// modification times when inotify is unavailable.
///
/// Directories, not files: linkers replace the file (gold deletes and rewrites, lld renames
/// into place) and a watch on the file itself dies with it (docs/DESIGN.md, "Reload"). Only
/// IN_CLOSE_WRITE and IN_MOVED_TO mean "a new version is complete"; gold makes the file full
/// size before writing its content, so size and IN_CREATE are never trusted.
final class FileWatcher {
    /// The inotify descriptor, for poll; nil when polling.
    private(set) var descriptor: Int32?
    private var directories: [Int32: String] = [:]
    private let recursive: Bool
    private let isIgnored: (String) -> Bool
    /// Polling fallback: every file's stamp under the watched paths.
    private var stamps: [String: FileStamp] = [:]
    private var roots: [String] = []

    /// - Parameters:
    ///   - recursive: watch subdirectories too (for source trees), adding new ones as they appear.
    ///   - isIgnored: paths whose changes do not count (build output, VCS data, editor swap files).
    ///   - polling: poll even if inotify works (as when it does not: tests use this).
    init(recursive: Bool, isIgnored: @escaping (String) -> Bool = { _ in false }, polling: Bool = false) {
        self.recursive = recursive
        self.isIgnored = isIgnored
        let fd = polling ? -1 : inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        descriptor = fd >= 0 ? fd : nil
    }

    deinit { if let descriptor { close(descriptor) } }

    /// Whether changes are found by polling (inotify unavailable).
    var isPolling: Bool { descriptor == nil }

    /// Starts watching `path`: a directory (and, if recursive, what is below it), or a file
    /// (through its directory).
    func watch(_ path: String) {
        roots.append(path)
        var info = stat()
        let isDirectory = stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
        let directory = isDirectory ? path : Self.directory(of: path)
        addDirectory(directory, descend: isDirectory && recursive)
        if isPolling { stamps = snapshot() }
    }

    /// The paths written since the last call (read from inotify, or found by polling).
    func changes() -> [String] {
        guard let descriptor else { return pollChanges() }
        var changed: [String] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = read(descriptor, &buffer, buffer.count)
            guard count > 0 else { break }
            var offset = 0
            while offset + 16 <= count {
                let (wd, mask, nameLength) = buffer.withUnsafeBytes { raw in
                    (raw.loadUnaligned(fromByteOffset: offset, as: Int32.self),
                     raw.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self),
                     Int(raw.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self)))
                }
                let nameBytes = buffer[(offset + 16)..<(offset + 16 + nameLength)].prefix { $0 != 0 }
                offset += 16 + nameLength
                guard let directory = directories[wd], !nameBytes.isEmpty else { continue }
                let path = directory + "/" + String(decoding: nameBytes, as: UTF8.self)
                if mask & UInt32(IN_ISDIR) != 0 {
                    if recursive && mask & UInt32(IN_CREATE | IN_MOVED_TO) != 0 && !isIgnored(path) { addDirectory(path, descend: true) }
                    continue
                }
                if mask & UInt32(IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM) != 0 && !isIgnored(path) {
                    changed.append(path)
                }
            }
        }
        return changed
    }

    private func addDirectory(_ directory: String, descend: Bool) {
        if let descriptor {
            let mask = UInt32(IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CREATE)
            let wd = inotify_add_watch(descriptor, directory, mask)
            if wd >= 0 { directories[wd] = directory }
        }
        guard descend, let handle = opendir(directory) else { return }
        defer { closedir(handle) }
        while let entry = readdir(handle) {
            let name = CText.name(of: entry)
            guard name != ".", name != "..", entry.pointee.d_type == UInt8(DT_DIR) else { continue }
            let path = directory + "/" + name
            if !isIgnored(path) { addDirectory(path, descend: true) }
        }
    }

    private var lastPoll = 0

    private func pollChanges() -> [String] {
        let now = MonotonicClock.now()
        guard now - lastPoll >= 250_000 else { return [] }
        lastPoll = now
        let current = snapshot()
        var changed = current.filter { stamps[$0.key] != $0.value }.map(\.key)
        changed += stamps.keys.filter { current[$0] == nil }
        stamps = current
        return changed
    }

    private func snapshot() -> [String: FileStamp] {
        var result: [String: FileStamp] = [:]
        func visit(_ path: String, depth: Int) {
            var info = stat()
            guard stat(path, &info) == 0, !isIgnored(path) else { return }
            if (info.st_mode & S_IFMT) == S_IFDIR {
                guard depth == 0 || recursive, let handle = opendir(path) else { return }
                defer { closedir(handle) }
                while let entry = readdir(handle) {
                    let name = CText.name(of: entry)
                    if name != "." && name != ".." { visit(path + "/" + name, depth: depth + 1) }
                }
            } else if let stamp = FileStamp(path: path) {
                result[path] = stamp
            }
        }
        for root in roots { visit(root, depth: 0) }
        return result
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// Paths a source watcher ignores: build output, version control, editor temporaries.
    static func isBuildOrEditorNoise(_ path: String) -> Bool {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        return path.contains("/.build") || path.contains("/.git/") || path.hasSuffix("/.git") || path.contains("/.swiftpm")
            || name.hasSuffix("~") || name.hasSuffix(".swp") || name.hasSuffix(".swx") || name.hasPrefix(".#") || name == "4913"
    }
}
