/// Why a plugin could not be loaded: always names the file and the reason.
///
/// A struct wrapping a private enum, so that cases can be added.
public struct PluginLoadError: Error, CustomStringConvertible, Sendable {
    enum Reason: Sendable, Equatable {
        case missingFile
        case copyFailed(String)
        case notLoadable(dlerror: String)
        case missingEntry(symbol: String)
        case descriptorTooSmall(found: UInt32, required: UInt32)
        case abiMajorMismatch(plugin: ABIVersion, host: ABIVersion)
        case abiMinorTooNew(plugin: ABIVersion, host: ABIVersion)
        case toolchainMismatch(plugin: UInt32, host: UInt32)
        case initFailed(String)
    }

    /// The plugin file the user named.
    public let path: String
    let reason: Reason

    init(path: String, _ reason: Reason) {
        self.path = path
        self.reason = reason
    }

    public var description: String {
        switch reason {
        case .missingFile:
            return "\(path): no such file"
        case .copyFailed(let detail):
            return "\(path): could not make a private copy to load: \(detail)"
        case .notLoadable(let dlerror):
            return "\(path): not a loadable shared library: \(dlerror)"
        case .missingEntry(let symbol):
            return "\(path): not a devserve plugin: it exports no \(symbol) symbol (in Swift: @c public func \(symbol)() -> UnsafeRawPointer)"
        case .descriptorTooSmall(let found, let required):
            return "\(path): its plugin descriptor is \(found) bytes, smaller than the \(required) of ABI 1.0: it is corrupt or not a devserve plugin"
        case .abiMajorMismatch(let plugin, let host):
            return "\(path): built for devserve plugin ABI \(plugin), but this devserve speaks ABI \(host): rebuild the plugin against this devserve's header or SDK"
        case .abiMinorTooNew(let plugin, let host):
            return "\(path): built for devserve plugin ABI \(plugin), newer than this devserve's ABI \(host): upgrade devserve"
        case .toolchainMismatch(let plugin, let host):
            return "\(path): built with Swift \(SwiftVersion.format(plugin)), but devserve was built with Swift \(SwiftVersion.format(host)): Swift has no stable ABI on Linux, so rebuild the plugin with the same toolchain"
        case .initFailed(let detail):
            return "\(path): the plugin's init failed: \(detail)"
        }
    }
}
