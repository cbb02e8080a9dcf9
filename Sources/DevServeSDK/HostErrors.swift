import CDevServe

/// The server's wsgi.errors, written through the host function table.
final class HostErrors: ErrorOutput {
    private let request: OpaquePointer
    private let host: UnsafePointer<devserve_host>

    init(request: OpaquePointer, host: UnsafePointer<devserve_host>) {
        self.request = request
        self.host = host
    }

    func write(_ text: String) {
        var text = text
        text.withUTF8 { bytes in
            _ = bytes.withMemoryRebound(to: CChar.self) { host.pointee.errors_write(request, $0.baseAddress, $0.count) }
        }
    }

    func flush() { _ = host.pointee.errors_flush(request) }
}
