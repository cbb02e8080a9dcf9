#if canImport(Glibc)
import Glibc
#endif

/// Directories only this user can enter: the plugin snapshots and the control sockets.
///
/// Both live under world-writable places (/tmp), where another local user can create a
/// directory first under a name we would use, then swap the plugin we are about to load or
/// the socket `devserve ls` talks to. So a directory is either new (`mkdtemp`, unpredictable)
/// or, when its name must be known in advance, checked after `mkdir` with `lstat`: a real
/// directory (not a symlink), owned by this user, with no access for group or others.
public enum PrivateDirectory {
    /// Why a directory is not safe to use.
    public struct Unsafe: Error, CustomStringConvertible, Sendable {
        public let path: String
        public let reason: String

        public var description: String {
            "refusing to use \(path): \(reason); another user may have created it to take over devserve. Remove it (or set TMPDIR to a directory of your own) and start again"
        }
    }

    /// Creates a new private directory `base/prefix-XXXXXX` with `mkdtemp` (mode 0700).
    /// - Throws: `SystemCallError` from mkdtemp.
    public static func makeUnique(in base: String, prefix: String) throws -> String {
        var template = Array("\(base)/\(prefix)-XXXXXX".utf8CString)
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
            throw SystemCallError(call: "mkdtemp", subject: base, errno: errno)
        }
        return CText.string(template)
    }

    /// Creates `path` mode 0700, or accepts it when it already exists and ``check(_:)`` passes.
    /// - Throws: `SystemCallError` when mkdir fails otherwise, `Unsafe` when the existing
    ///   directory is not this user's private one.
    public static func ensure(_ path: String) throws {
        if mkdir(path, 0o700) != 0 && errno != EEXIST {
            throw SystemCallError(call: "mkdir", subject: path, errno: errno)
        }
        try check(path)
    }

    /// Checks that `path` is a directory, not a symlink, owned by the effective user, and
    /// closed to group and others.
    /// - Throws: `Unsafe` saying which of these fails, `SystemCallError` when lstat fails.
    public static func check(_ path: String) throws {
        var info = stat()
        guard lstat(path, &info) == 0 else { throw SystemCallError(call: "lstat", subject: path, errno: errno) }
        let type = info.st_mode & S_IFMT
        if type == S_IFLNK { throw Unsafe(path: path, reason: "it is a symbolic link") }
        guard type == S_IFDIR else { throw Unsafe(path: path, reason: "it is not a directory") }
        guard info.st_uid == geteuid() else {
            throw Unsafe(path: path, reason: "it belongs to uid \(info.st_uid), not to you (uid \(geteuid()))")
        }
        guard info.st_mode & 0o077 == 0 else {
            throw Unsafe(path: path, reason: "its mode is \(String(info.st_mode & 0o777, radix: 8)), open to other users (0700 expected)")
        }
    }

    /// Removes `path` and the files directly in it (no recursion: we never make subdirectories).
    public static func remove(_ path: String) {
        if let directory = opendir(path) {
            while let entry = readdir(directory) {
                let name = CText.name(of: entry)
                if name != "." && name != ".." { unlink("\(path)/\(name)") }
            }
            closedir(directory)
        }
        rmdir(path)
    }

    /// The names in `path` (without "." and ".."); empty when it cannot be read.
    public static func names(in path: String) -> [String] {
        guard let directory = opendir(path) else { return [] }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = CText.name(of: entry)
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}
