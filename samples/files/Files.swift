import DevServeSDK

/// Serves a file through wsgi.file_wrapper, which the server may send with sendfile.
///
/// `GET /?path=/some/file` serves that file (default: this plugin's own source would not be
/// there at run time, so `/etc/hostname`); `block` sets the block size.
@c public func devserve_plugin_entry() -> UnsafeRawPointer {
    Plugin.export(name: "files") { environ, startResponse in
        let path = environ.query("path") ?? "/etc/hostname"
        let blockSize = environ.query("block").flatMap { Int($0) } ?? 0
        let body: ResponseBody
        do {
            body = try environ.fileWrapper(path: path, blockSize: blockSize)
        } catch {
            let message = Array("\(error)\n".utf8)
            try startResponse("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", String(message.count))])
            return .bytes(message)
        }
        try startResponse("200 OK", [("Content-Type", "application/octet-stream")])
        return body
    }
}
