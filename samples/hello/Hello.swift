import DevServeSDK

/// The smallest application: "Hello world!" with its Content-Length.
@c public func devserve_plugin_entry() -> UnsafeRawPointer {
    Plugin.export(name: "hello") { _, startResponse in
        let body = Array("Hello world!\n".utf8)
        try startResponse("200 OK", [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", String(body.count))])
        return .bytes(body)
    }
}
