import CDevServe

/// The request's environ: PEP 3333, "environ Variables".
///
/// A mutable mapping the application may change freely; changes are visible to the server and
/// to every application further down a middleware stack. Keys and values are bytes underneath
/// (so a PATH_INFO holding non-UTF-8 bytes survives); the `String` subscript is a convenience
/// view that decodes UTF-8, replacing invalid sequences.
///
/// `wsgi.input`, `wsgi.errors` and `wsgi.file_wrapper` are objects, not strings: use
/// ``input``, ``errors`` and ``fileWrapper(path:blockSize:)``. Middleware may replace
/// ``input`` and ``errors`` with streams of its own.
///
/// One environ belongs to one request and is used by one thread at a time.
public final class Environ: @unchecked Sendable {
    let request: OpaquePointer
    let host: UnsafePointer<devserve_host>

    /// wsgi.input: the request body as a stream.
    ///
    /// Made when first used, as ``errors`` is: a request that reads no body and writes no
    /// error pays for neither stream (nor for the weak reference the body stream keeps back
    /// to its environ, a side allocation of its own: three allocations per request; issue 14).
    public lazy var input: any RequestInput = makeInput()
    /// wsgi.errors: a text stream for the application's error output.
    public lazy var errors: any ErrorOutput = HostErrors(request: request, host: host)

    init(request: OpaquePointer, host: UnsafePointer<devserve_host>) {
        self.request = request
        self.host = host
    }

    private func makeInput() -> any RequestInput {
        let input = HostInput(request: request, host: host)
        input.environ = self
        return input
    }

    // MARK: Mapping

    /// The value of `key` as raw bytes, or nil when absent.
    public func bytes(_ key: String) -> [UInt8]? {
        withValue(key) { Array($0) }
    }

    /// `body` applied to the value of `key` where the host keeps it (valid only during the
    /// call), or nil when absent: a read that makes a String or a number needs no array.
    private func withValue<T>(_ key: String, _ body: (UnsafeBufferPointer<UInt8>) -> T) -> T? {
        var key = key
        return key.withUTF8 { keyBytes -> T? in
            var value: UnsafePointer<UInt8>?
            var length = 0
            let result = host.pointee.environ_get(request, keyBytes.baseAddress, keyBytes.count, &value, &length)
            guard result == Int32(DEVSERVE_OK.rawValue) else { return nil }
            return body(UnsafeBufferPointer(start: value, count: length))
        }
    }

    /// Sets `key` to raw bytes.
    public func setBytes(_ key: String, _ value: [UInt8]) {
        var key = key
        key.withUTF8 { keyBytes in
            value.withUnsafeBufferPointer { valueBytes in
                _ = host.pointee.environ_set(request, keyBytes.baseAddress, keyBytes.count, valueBytes.baseAddress, valueBytes.count)
            }
        }
    }

    /// Removes `key`; does nothing when it is absent.
    public func removeValue(forKey key: String) {
        var key = key
        key.withUTF8 { keyBytes in _ = host.pointee.environ_remove(request, keyBytes.baseAddress, keyBytes.count) }
    }

    /// The value of `key` decoded as UTF-8; setting nil removes the key.
    public subscript(key: String) -> String? {
        get { withValue(key) { String(decoding: $0, as: UTF8.self) } }
        set {
            if let newValue { setBytes(key, Array(newValue.utf8)) } else { removeValue(forKey: key) }
        }
    }

    /// Every entry, in the server's order, as raw bytes.
    public var entries: [(key: [UInt8], value: [UInt8])] {
        let count = host.pointee.environ_count(request)
        var result: [(key: [UInt8], value: [UInt8])] = []
        result.reserveCapacity(count)
        for index in 0..<count {
            var key: UnsafePointer<UInt8>?
            var keyLength = 0
            var value: UnsafePointer<UInt8>?
            var valueLength = 0
            guard host.pointee.environ_entry(request, index, &key, &keyLength, &value, &valueLength) == Int32(DEVSERVE_OK.rawValue) else { continue }
            result.append((Array(UnsafeBufferPointer(start: key, count: keyLength)), Array(UnsafeBufferPointer(start: value, count: valueLength))))
        }
        return result
    }

    /// Every key, decoded as UTF-8.
    public var keys: [String] { entries.map { String(decoding: $0.key, as: UTF8.self) } }

    // MARK: Common keys

    /// REQUEST_METHOD, e.g. "GET".
    public var method: String { self["REQUEST_METHOD"] ?? "GET" }
    /// PATH_INFO as raw (percent-decoded) bytes.
    public var pathInfoBytes: [UInt8] { bytes("PATH_INFO") ?? [] }
    /// PATH_INFO decoded as UTF-8.
    public var pathInfo: String { self["PATH_INFO"] ?? "" }
    /// SCRIPT_NAME, the mount prefix.
    public var scriptName: String { self["SCRIPT_NAME"] ?? "" }
    /// QUERY_STRING, not decoded.
    public var queryString: String { self["QUERY_STRING"] ?? "" }
    /// CONTENT_LENGTH as a number, when present and valid.
    public var contentLength: Int? { self["CONTENT_LENGTH"].flatMap { Int($0) } }

    /// The query string's parameters, percent-decoded, in order (`+` means space).
    public var queryParameters: [(String, String)] { QueryString.parse(queryString) }

    /// The first value of query parameter `name`.
    public func query(_ name: String) -> String? { queryParameters.first { $0.0 == name }?.1 }

    // MARK: wsgi.file_wrapper

    /// wsgi.file_wrapper: a response body that sends the file at `path`, which the server may
    /// send with sendfile. PEP 3333, "Optional Platform-Specific File Handling".
    /// - Throws: `GatewayError.fileUnreadable` when the file cannot be opened.
    public func fileWrapper(path: String, blockSize: Int = 0) throws -> ResponseBody {
        try ResponseBody.file(path: path, blockSize: blockSize)
    }

    // MARK: Host calls behind start_response and write

    func hostStartResponse(status: String, headers: [(String, String)], excInfo: (any Error)?) throws {
        // The status and every header's name and value in one buffer: the C call takes lengths,
        // so no string needs a NUL or an allocation of its own (each was copied twice to be
        // NUL-terminated; issue 14). The final 0 only keeps the buffer from being empty, so that
        // an empty status still reaches the host as a string, to be refused as a status.
        var size = status.utf8.count + 1
        for (name, value) in headers { size += name.utf8.count + value.utf8.count }
        let exc = excInfo.map { (Array(ErrorDescription.typeName(of: $0).utf8CString), Array(ErrorDescription.message(of: $0).utf8CString)) }
        let statusLength = status.utf8.count
        // On the stack when small (withUnsafeTemporaryAllocation): no allocation per response.
        let result: Int32 = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: size) { buffer in
            var filled = 0
            func append(_ text: String) {
                var text = text
                text.withUTF8 { utf8 in
                    UnsafeMutableRawBufferPointer(start: buffer.baseAddress! + filled, count: utf8.count).copyMemory(from: UnsafeRawBufferPointer(utf8))
                    filled += utf8.count
                }
            }
            append(status)
            for (name, value) in headers {
                append(name)
                append(value)
            }
            buffer[filled] = 0
            let base = UnsafeRawPointer(buffer.baseAddress!).assumingMemoryBound(to: CChar.self)
            return withUnsafeTemporaryAllocation(of: devserve_header.self, capacity: max(1, headers.count)) { cHeaders in
                var offset = statusLength
                for (index, (name, value)) in headers.enumerated() {
                    let nameLength = name.utf8.count, valueLength = value.utf8.count
                    cHeaders.initializeElement(at: index, to: devserve_header(
                        name: base + offset, name_length: nameLength, value: base + offset + nameLength, value_length: valueLength))
                    offset += nameLength + valueLength
                }
                var badIndex = 0
                guard let exc else {
                    return host.pointee.start_response(request, base, statusLength, cHeaders.baseAddress, headers.count, nil, &badIndex)
                }
                return exc.0.withUnsafeBufferPointer { typeName in
                    exc.1.withUnsafeBufferPointer { message in
                        var info = devserve_exc_info(type_name: typeName.baseAddress, type_name_length: exc.0.count - 1, message: message.baseAddress, message_length: exc.1.count - 1)
                        return host.pointee.start_response(request, base, statusLength, cHeaders.baseAddress, headers.count, &info, &badIndex)
                    }
                }
            }
        }
        switch UInt32(bitPattern: result) {
        case DEVSERVE_OK.rawValue, DEVSERVE_INVALID_HEADER.rawValue:
            // An invalid header is dropped and reported as a violation by the server; the
            // response goes on without it rather than turning into a 500.
            return
        case DEVSERVE_HEADERS_ALREADY_SENT.rawValue:
            // PEP 3333: "if exc_info is provided, and the HTTP headers have already been sent,
            // start_response must raise an error, and should re-raise using the exc_info tuple."
            throw excInfo ?? GatewayError.alreadyStarted
        case DEVSERVE_INVALID_STATUS.rawValue:
            throw GatewayError.invalidStatus(status)
        default:
            throw GatewayError.from(result: result, operation: "start_response")
        }
    }

    func hostWrite(_ bytes: [UInt8]) throws {
        let result = bytes.withUnsafeBufferPointer { host.pointee.write(request, $0.baseAddress, $0.count) }
        if result != Int32(DEVSERVE_OK.rawValue) { throw GatewayError.from(result: result, operation: "write") }
    }

    /// Records the error the application raised, for the server's 500 page and its log.
    func raise(_ error: any Error) {
        var typeName = ErrorDescription.typeName(of: error)
        var message = ErrorDescription.message(of: error)
        typeName.withUTF8 { type in
            message.withUTF8 { text in
                _ = type.withMemoryRebound(to: CChar.self) { typePointer in
                    text.withMemoryRebound(to: CChar.self) { textPointer in
                        host.pointee.raise(request, typePointer.baseAddress, typePointer.count, textPointer.baseAddress, textPointer.count)
                    }
                }
            }
        }
    }
}

