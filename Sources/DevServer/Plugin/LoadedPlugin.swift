import CDevServe

/// A plugin that passed every check and was initialised. Never unloaded: dlclose of a Swift
/// image unmaps type metadata the runtime still references (docs/DESIGN.md, "Two processes").
public final class LoadedPlugin: @unchecked Sendable {
    /// The file the user named.
    public let path: String
    /// The private copy that was actually loaded.
    public let loadedPath: String
    /// The name the plugin gives itself.
    public let name: String
    /// The ABI version it was built against.
    public let abi: ABIVersion
    /// DEVSERVE_SWIFT_VERSION it was built with; 0 for a plugin with no Swift.
    public let swiftVersion: UInt32

    let descriptor: UnsafePointer<devserve_plugin>

    init(path: String, loadedPath: String, descriptor: UnsafePointer<devserve_plugin>) {
        self.path = path
        self.loadedPath = loadedPath
        self.descriptor = descriptor
        self.name = descriptor.pointee.name.map { String(cString: $0) } ?? "unnamed"
        self.abi = ABIVersion(major: descriptor.pointee.abi_major, minor: descriptor.pointee.abi_minor)
        self.swiftVersion = descriptor.pointee.swift_version
    }

    /// The application callable: PEP 3333, "The Application/Framework Side".
    func call(request: OpaquePointer, body: UnsafeMutablePointer<devserve_body>) -> Int32 {
        descriptor.pointee.call(descriptor.pointee.context, request, HostFunctionTable.pointer, body)
    }

    /// Runs the plugin's shutdown hook, once, when the host stops serving it.
    public func shutdown() {
        descriptor.pointee.shutdown?(descriptor.pointee.context)
    }
}
