import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// The Python a Python application runs on, as that interpreter describes itself.
///
/// devserve embeds the interpreter's own shared libpython in its workers (through the
/// bridge plugin), so the application sees exactly what `python app.py` would: the same
/// version, sys.path, virtual environment and site-packages. Everything here is asked of the
/// interpreter (sys, sysconfig) once, at start, by running it.
public struct PythonInterpreter: Sendable, Equatable, Codable {
    /// "3.11.7"
    public var version: String
    public var major: Int
    public var minor: Int
    /// sys.implementation.name: only "cpython" can be embedded.
    public var implementation: String
    /// sys.executable (a venv's python when run from one).
    public var executable: String
    public var prefix: String
    public var execPrefix: String
    public var basePrefix: String
    public var baseExecPrefix: String
    /// sys.path as the interpreter starts with it (the script directory left out).
    public var path: [String]
    /// The shared libpython, when one exists.
    public var library: String?
    /// Where it was looked for, for the error when it is missing.
    public var searched: [String]

    /// Why an interpreter cannot be used.
    public struct Problem: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// The interpreter chosen by default: `$VIRTUAL_ENV`'s python, else `python3` on PATH.
    public static var defaultCommand: String {
        if let environment = ProcessEnvironment.value("VIRTUAL_ENV"), !environment.isEmpty {
            return "\(environment)/bin/python"
        }
        return "python3"
    }

    /// Runs `command` (a path or a name on PATH) and reads its description.
    /// - Throws: `Problem` when it cannot be run or is not a CPython devserve can embed.
    public static func probe(_ command: String) throws -> PythonInterpreter {
        let output = try run(command)
        guard let data = output.split(separator: 10).last.map({ Data($0) }),
              let interpreter = try? JSONDecoder().decode(PythonInterpreter.self, from: data) else {
            throw Problem(description: "\(command) did not answer as a Python interpreter does: \(String(decoding: output.prefix(300), as: UTF8.self))")
        }
        return interpreter
    }

    /// Checks that this interpreter can serve: CPython 3.9 or newer, with a shared libpython.
    /// - Throws: `Problem` naming the interpreter and the fix.
    public func checkEmbeddable() throws {
        let name = "\(executable) (Python \(version))"
        guard implementation == "cpython" else {
            throw Problem(description: "\(name) is \(implementation), not CPython: devserve embeds CPython's libpython; choose a CPython with --python")
        }
        guard (major, minor) >= (3, 9) else {
            throw Problem(description: "\(name) is too old: devserve serves Python 3.9 to 3.13; choose another with --python")
        }
        guard library != nil else {
            throw Problem(description: """
                \(name) has no shared libpython (it was built without --enable-shared; looked for \(searched.joined(separator: ", "))): \
                rebuild it with PYTHON_CONFIGURE_OPTS=--enable-shared (pyenv install), install libpython\(major).\(minor) (Debian), \
                or choose another interpreter with --python
                """)
        }
    }

    /// A one-line description: "Python 3.11.7 (/usr/bin/python3, libpython /usr/lib/...)".
    public var summary: String {
        "Python \(version) (\(executable)\(library.map { ", \($0)" } ?? ", no shared libpython"))"
    }

    /// What the interpreter is asked. No single quotes: it goes inside '…' on a shell line.
    static let script = """
        import json, os, sys, sysconfig
        v = sysconfig.get_config_var
        names = []
        for name in (v("INSTSONAME"), v("LDLIBRARY"), "libpython%d.%d%s.so.1.0" % (sys.version_info[0], sys.version_info[1], getattr(sys, "abiflags", "")), "libpython%d.%d%s.so" % (sys.version_info[0], sys.version_info[1], getattr(sys, "abiflags", ""))):
            if name and ".so" in name and name not in names:
                names.append(name)
        directories = []
        for directory in (v("LIBDIR"), os.path.join(v("LIBDIR") or "", v("MULTIARCH") or ""), v("LIBPL"), os.path.join(sys.base_prefix, "lib"), os.path.join("/usr/lib", v("MULTIARCH") or "")):
            if directory and directory not in directories:
                directories.append(directory)
        searched = [os.path.join(d, n) for d in directories for n in names]
        found = [p for p in searched if os.path.exists(p)]
        path = list(sys.path[1:]) if sys.path and sys.path[0] in ("", os.getcwd()) else list(sys.path)
        print(json.dumps(dict(version="%d.%d.%d" % sys.version_info[:3], major=sys.version_info[0], minor=sys.version_info[1],
            implementation=sys.implementation.name, executable=sys.executable, prefix=sys.prefix, execPrefix=sys.exec_prefix,
            basePrefix=sys.base_prefix, baseExecPrefix=sys.base_exec_prefix, path=path, library=found[0] if found else None,
            searched=directories)))
        """

    private static func run(_ command: String) throws -> [UInt8] {
        let quoted = "'" + command.replacing("'", with: "'\\''") + "'"
        guard let pipe = popen("exec \(quoted) -c '\(script)' 2>&1", "r") else {
            throw Problem(description: "cannot run \(command): \(CText.errorText(errno))")
        }
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = fread(&buffer, 1, buffer.count, pipe)
            if count <= 0 { break }
            output += buffer[0..<count]
        }
        let status = pclose(pipe)
        let code = (status >> 8) & 0xFF
        if code == 127 || code == 126 {
            throw Problem(description: "cannot run the Python interpreter \(command): not found or not executable (choose one with --python, or activate a virtual environment)")
        }
        guard status == 0 else {
            throw Problem(description: "\(command) failed describing itself (status \(code)): \(String(decoding: output.suffix(300), as: UTF8.self))")
        }
        return output
    }
}
