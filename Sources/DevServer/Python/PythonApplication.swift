#if canImport(Glibc)
import Glibc
#endif

/// A Python WSGI application to serve: what the user typed, and the interpreter to run it on.
///
/// The forms are gunicorn's and `flask --app`'s: `app.py`, `app.py:NAME`, `package.module`,
/// `package.module:NAME`, and `NAME()` or `NAME(args)` for a factory. Without NAME the bridge
/// looks for `application`, then `app`, then a `create_app()` or `make_app()` factory.
public struct PythonApplication: Sendable {
    /// As typed, e.g. "samples/python/flask_app.py:app".
    public var spec: String
    public var interpreter: PythonInterpreter
    /// Wrap the application in wsgiref.validate.validator.
    public var validate = false
    /// Directories whose modules also reload the application (installed packages and the
    /// standard library are otherwise not watched).
    public var watch: [String] = []
    /// Capture is on: the bridge reports the environ as the application left it.
    public var capture = true

    public init(spec: String, interpreter: PythonInterpreter) {
        self.spec = spec
        self.interpreter = interpreter
    }

    /// Whether the command line's application argument names a Python application rather
    /// than a native plugin: anything that is not a shared library (`.so`).
    public static func isPython(_ argument: String) -> Bool {
        let file = argument.split(separator: "/").last.map(String.init) ?? argument
        return !(file.hasSuffix(".so") || file.contains(".so."))
    }

    /// The file part of the spec when it names a file (`app.py`, `dir/app.py:app`), else nil
    /// (a module name).
    public static func file(of spec: String) -> String? {
        var part = spec
        if let colon = spec.lastIndex(of: ":"), !spec[spec.index(after: colon)...].hasPrefix("/") {
            part = String(spec[..<colon])
        }
        return part.hasSuffix(".py") || part.contains("/") ? part : nil
    }

    /// The bridge plugin that embeds CPython: `DEVSERVE_PYTHON_BRIDGE`, else beside the
    /// devserve executable (`swift build` puts both in .build/debug), else in ../lib/devserve.
    public static func bridgePath(executable: String) -> String? {
        if let path = ProcessEnvironment.value("DEVSERVE_PYTHON_BRIDGE"), !path.isEmpty { return path }
        let directory = FileWatcher.directory(of: executable)
        for candidate in ["\(directory)/libdevserve-python.so", "\(directory)/../lib/devserve/libdevserve-python.so"] where access(candidate, R_OK) == 0 {
            return candidate
        }
        return nil
    }

    /// What the bridge reads at init (bridge.cpp lists them), as `NAME=value` lines.
    public var workerEnvironment: [String] {
        let separator = "\u{1F}"
        return [
            "DEVSERVE_PYTHON_LIBRARY=\(interpreter.library ?? "")",
            "DEVSERVE_PYTHON_HOME=\(interpreter.basePrefix):\(interpreter.baseExecPrefix)",
            "DEVSERVE_PYTHON_EXECUTABLE=\(interpreter.executable)",
            "DEVSERVE_PYTHON_PREFIX=\(interpreter.prefix)",
            "DEVSERVE_PYTHON_EXEC_PREFIX=\(interpreter.execPrefix)",
            "DEVSERVE_PYTHON_PATH=\(interpreter.path.joined(separator: separator))",
            "DEVSERVE_PYTHON_APP=\(spec)",
            "DEVSERVE_PYTHON_VALIDATE=\(validate ? "1" : "0")",
            "DEVSERVE_PYTHON_WATCH=\(watch.map(Self.absolute).joined(separator: separator))",
            "DEVSERVE_PYTHON_CAPTURE=\(capture ? "1" : "0")",
        ]
    }

    static func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getcwd(&buffer, buffer.count) != nil else { return path }
        return CText.string(buffer) + "/" + path
    }
}
