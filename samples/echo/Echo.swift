import DevServeSDK

/// A reference application for checking environ: answers JSON
/// `{"environ": {...every key whose value is UTF-8 text...}, "body": "<base64 of wsgi.input>",
/// "body_length": N}`.
@c public func devserve_plugin_entry() -> UnsafeRawPointer {
    Plugin.export(name: "echo") { environ, startResponse in
        let body = try environ.input.readAll()
        var fields: [String] = []
        for (key, value) in environ.entries {
            guard let key = String(validating: key, as: UTF8.self),
                  let value = String(validating: value, as: UTF8.self) else { continue }
            fields.append("\(JSON.quote(key)): \(JSON.quote(value))")
        }
        let json = "{\"environ\": {\(fields.joined(separator: ", "))}, \"body\": \(JSON.quote(Base64.encode(body))), \"body_length\": \(body.count)}\n"
        let bytes = Array(json.utf8)
        try startResponse("200 OK", [("Content-Type", "application/json"), ("Content-Length", String(bytes.count))])
        return .bytes(bytes)
    }
}
