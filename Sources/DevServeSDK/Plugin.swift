import CDevServe
#if canImport(Glibc)
import Glibc
#endif

/// Exports an application as a devserve plugin.
///
/// A plugin is one shared library with one exported C entry point. In Swift, the whole
/// declaration is:
///
/// ```swift
/// import DevServeSDK
///
/// @c public func devserve_plugin_entry() -> UnsafeRawPointer {
///     Plugin.export(name: "hello") { environ, startResponse in
///         try startResponse("200 OK", [("Content-Type", "text/plain")])
///         return .text("Hello world!\n")
///     }
/// }
/// ```
///
/// (`@c` is Swift 6.3's spelling; `@_cdecl("devserve_plugin_entry")` works before it.)
public enum Plugin {
    /// State behind the exported descriptor. One per plugin image: the SDK is linked
    /// statically into each plugin, so each has its own.
    final class State {
        let application: Application
        let setUp: (() throws -> Void)?
        let tearDown: (() -> Void)?

        init(application: @escaping Application, setUp: (() throws -> Void)?, tearDown: (() -> Void)?) {
            self.application = application
            self.setUp = setUp
            self.tearDown = tearDown
        }
    }

    nonisolated(unsafe) private static var descriptor: UnsafeMutablePointer<devserve_plugin>?
    nonisolated(unsafe) private static let lock: UnsafeMutablePointer<pthread_mutex_t> = {
        let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        pthread_mutex_init(lock, nil)
        return lock
    }()

    /// Builds the plugin descriptor for `application` and returns it, for the entry symbol to
    /// return. The first call wins; later calls return the same descriptor.
    ///
    /// - Parameters:
    ///   - name: a short name shown by devserve.
    ///   - setUp: runs once before any request; throwing refuses the plugin with the error as
    ///     the reason.
    ///   - tearDown: runs once when devserve stops serving this plugin.
    ///   - application: the application (PEP 3333's callable).
    public static func export(
        name: String,
        setUp: (() throws -> Void)? = nil,
        tearDown: (() -> Void)? = nil,
        _ application: @escaping Application
    ) -> UnsafeRawPointer {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        if let descriptor { return UnsafeRawPointer(descriptor) }
        let state = State(application: application, setUp: setUp, tearDown: tearDown)
        let plugin = UnsafeMutablePointer<devserve_plugin>.allocate(capacity: 1)
        plugin.initialize(to: devserve_plugin())
        plugin.pointee.size = UInt32(MemoryLayout<devserve_plugin>.size)
        plugin.pointee.abi_major = UInt16(DEVSERVE_ABI_MAJOR)
        plugin.pointee.abi_minor = UInt16(DEVSERVE_ABI_MINOR)
        plugin.pointee.swift_version = devserve_compiled_swift_version()
        plugin.pointee.name = UnsafePointer(strdup(name))
        plugin.pointee.context = Unmanaged.passRetained(state).toOpaque()
        plugin.pointee.`init` = { context, _, reasonBuffer, capacity in
            let state = Unmanaged<State>.fromOpaque(context!).takeUnretainedValue()
            do {
                try state.setUp?()
                return 0
            } catch {
                guard let reasonBuffer, capacity > 0 else { return 1 }
                let reason = Array(String(describing: error).utf8CString.dropLast().prefix(capacity - 1)) + [0]
                reason.withUnsafeBufferPointer { _ = memcpy(reasonBuffer, $0.baseAddress!, $0.count) }
                return 1
            }
        }
        plugin.pointee.shutdown = { context in
            Unmanaged<State>.fromOpaque(context!).takeUnretainedValue().tearDown?()
        }
        plugin.pointee.call = { context, request, host, body in
            let state = Unmanaged<State>.fromOpaque(context!).takeUnretainedValue()
            let environ = Environ(request: request!, host: host!)
            do {
                let responseBody = try state.application(environ, StartResponse.host(environ))
                BodyBridge.install(responseBody, environ: environ, into: body!)
                return Int32(DEVSERVE_APP_OK.rawValue)
            } catch {
                environ.raise(error)
                return Int32(DEVSERVE_APP_ERROR.rawValue)
            }
        }
        descriptor = plugin
        return UnsafeRawPointer(plugin)
    }
}
