import CDevServe
import CDevServeShim
#if canImport(Glibc)
import Glibc
#endif

/// Loads plugin files: copies each to a never-reused private path, dlopens the copy, checks
/// the descriptor and runs the plugin's init.
///
/// Why a copy: re-dlopen of the same path returns the image already loaded, and linkers
/// rewrite the file in place while we may still be mapping it (docs/DESIGN.md, "Reload"). The copy
/// stays on disk while the process runs, so a Swift backtrace can still read its symbols;
/// ``removeCopies()`` deletes them when the process is done with them.
public final class PluginLoader: @unchecked Sendable {
    /// Where copies go; created on first use, mode 0700.
    public let copyDirectory: String
    private var counter = 0
    private var copies: [String] = []
    private let lock = Lock()

    /// - Parameter copyDirectory: the directory for private copies; by default a new
    ///   directory under `$TMPDIR` (or /tmp) for this loader alone.
    /// - Throws: `PrivateDirectory.Unsafe` when `copyDirectory` exists and is not this user's
    ///   private directory; `SystemCallError` when it cannot be made.
    public init(copyDirectory: String? = nil) throws {
        if let copyDirectory {
            // Checked even when it exists: a directory someone else made is one they can
            // write our copies into (PrivateDirectory).
            try PrivateDirectory.ensure(copyDirectory)
            self.copyDirectory = copyDirectory
        } else {
            self.copyDirectory = try PrivateDirectory.makeUnique(in: ProcessEnvironment.value("TMPDIR") ?? "/tmp", prefix: "devserve-plugins")
        }
    }

    /// Loads the plugin at `path`.
    /// - Throws: `PluginLoadError` naming the file and the reason (missing file, dlerror text,
    ///   missing entry symbol, ABI or toolchain mismatch with both versions, init failure).
    public func load(_ path: String) throws -> LoadedPlugin {
        guard access(path, R_OK) == 0 else { throw PluginLoadError(path: path, .missingFile) }
        let copy = try makeCopy(of: path)
        // Checked on the copy: the original may change under us, the copy cannot.
        if let problem = ELFCheck.problem(path: copy) {
            throw PluginLoadError(path: path, .notLoadable(dlerror: problem))
        }
        guard let handle = devserve_shim_dlopen_now_local(copy) else {
            throw PluginLoadError(path: path, .notLoadable(dlerror: Self.lastDLError()))
        }
        // Never dlclose: see LoadedPlugin.
        guard let symbol = dlsym(handle, DEVSERVE_ENTRY_SYMBOL) else {
            throw PluginLoadError(path: path, .missingEntry(symbol: DEVSERVE_ENTRY_SYMBOL))
        }
        let entry = unsafeBitCast(symbol, to: devserve_entry_function.self)
        guard let descriptor = entry() else {
            throw PluginLoadError(path: path, .notLoadable(dlerror: "\(DEVSERVE_ENTRY_SYMBOL) returned NULL"))
        }
        try Self.check(descriptor, path: path)
        let plugin = LoadedPlugin(path: path, loadedPath: copy, descriptor: descriptor)
        if let initialise = descriptor.pointee.`init` {
            var reason = [CChar](repeating: 0, count: 1024)
            let failed = reason.withUnsafeMutableBufferPointer {
                initialise(descriptor.pointee.context, HostFunctionTable.pointer, $0.baseAddress, $0.count)
            }
            if failed != 0 {
                let text = CText.string(reason)
                throw PluginLoadError(path: path, .initFailed(text.isEmpty ? "init returned \(failed) without a reason" : text))
            }
        }
        return plugin
    }

    /// Deletes every private copy this loader made (the images stay mapped).
    public func removeCopies() {
        lock.withLock {
            for copy in copies { unlink(copy) }
            copies.removeAll()
            rmdir(copyDirectory)
        }
    }

    /// Checks size, ABI and toolchain, in that order: a descriptor too small to hold the
    /// fields is not read further.
    static func check(_ descriptor: UnsafePointer<devserve_plugin>, path: String) throws {
        let minimum = UInt32(MemoryLayout<devserve_plugin>.size)
        guard descriptor.pointee.size >= minimum else {
            throw PluginLoadError(path: path, .descriptorTooSmall(found: descriptor.pointee.size, required: minimum))
        }
        let version = ABIVersion(major: descriptor.pointee.abi_major, minor: descriptor.pointee.abi_minor)
        guard version.major == ABIVersion.host.major else {
            throw PluginLoadError(path: path, .abiMajorMismatch(plugin: version, host: .host))
        }
        guard version.minor <= ABIVersion.host.minor else {
            throw PluginLoadError(path: path, .abiMinorTooNew(plugin: version, host: .host))
        }
        let toolchain = descriptor.pointee.swift_version
        guard toolchain == 0 || toolchain == SwiftVersion.host else {
            throw PluginLoadError(path: path, .toolchainMismatch(plugin: toolchain, host: SwiftVersion.host))
        }
    }

    private func makeCopy(of path: String) throws -> String {
        let name = lock.withLock { () -> String in
            counter += 1
            let stem = path.split(separator: "/").last.map(String.init) ?? "plugin.so"
            return "\(copyDirectory)/\(getpid())-\(counter)-\(stem)"
        }
        do {
            try FileCopy.copy(from: path, to: name)
        } catch {
            throw PluginLoadError(path: path, .copyFailed(String(describing: error)))
        }
        lock.withLock { copies.append(name) }
        return name
    }

    private static func lastDLError() -> String {
        guard let text = dlerror() else { return "unknown dlopen error" }
        return String(cString: text)
    }
}
