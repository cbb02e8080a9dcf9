import CDevServe

/// devserve.h's `devserve_host`: the function table every plugin receives. Built once; each
/// entry is a C trampoline that finds the ``GatewayExchange`` behind `devserve_request *` and
/// calls its host service.
enum HostFunctionTable {
    /// The table, valid for the life of the process.
    nonisolated(unsafe) static let pointer: UnsafePointer<devserve_host> = {
        let table = UnsafeMutablePointer<devserve_host>.allocate(capacity: 1)
        table.initialize(to: devserve_host())
        table.pointee.size = UInt32(MemoryLayout<devserve_host>.size)
        table.pointee.abi_major = UInt16(DEVSERVE_ABI_MAJOR)
        table.pointee.abi_minor = UInt16(DEVSERVE_ABI_MINOR)

        table.pointee.environ_get = { request, key, keyLength, value, valueLength in
            guard let key, let value, let valueLength else { return code(DEVSERVE_INVALID_ARGUMENT) }
            guard !exchange(request).hasEnded else { return code(DEVSERVE_REQUEST_ENDED) }
            guard let stored = exchange(request).environ.value(forKey: UnsafeBufferPointer(start: key, count: keyLength)) else {
                return code(DEVSERVE_NOT_FOUND)
            }
            value.pointee = UnsafePointer(stored.buffer.baseAddress)
            valueLength.pointee = stored.count
            return code(DEVSERVE_OK)
        }
        table.pointee.environ_set = { request, key, keyLength, value, valueLength in
            guard let key, value != nil || valueLength == 0 else { return code(DEVSERVE_INVALID_ARGUMENT) }
            guard !exchange(request).hasEnded else { return code(DEVSERVE_REQUEST_ENDED) }
            exchange(request).environ.set(UnsafeBufferPointer(start: key, count: keyLength), UnsafeBufferPointer(start: value, count: valueLength))
            return code(DEVSERVE_OK)
        }
        table.pointee.environ_remove = { request, key, keyLength in
            guard let key else { return code(DEVSERVE_INVALID_ARGUMENT) }
            guard !exchange(request).hasEnded else { return code(DEVSERVE_REQUEST_ENDED) }
            return code(exchange(request).environ.remove(UnsafeBufferPointer(start: key, count: keyLength)) ? DEVSERVE_OK : DEVSERVE_NOT_FOUND)
        }
        table.pointee.environ_count = { request in exchange(request).environ.count }
        table.pointee.environ_entry = { request, index, key, keyLength, value, valueLength in
            let environ = exchange(request).environ
            guard index < environ.count, let key, let keyLength, let value, let valueLength else { return code(DEVSERVE_INVALID_ARGUMENT) }
            let entryKey = environ.key(at: index), entryValue = environ.value(at: index)
            key.pointee = entryKey.start
            keyLength.pointee = entryKey.count
            value.pointee = entryValue.start
            valueLength.pointee = entryValue.count
            return code(DEVSERVE_OK)
        }

        table.pointee.input_read = { request, buffer, capacity in
            // Capacity 0 would return 0, which means end of stream: refuse it instead.
            guard let buffer, capacity > 0 else { return -Int(DEVSERVE_INVALID_ARGUMENT.rawValue) }
            switch exchange(request).hostRead(into: UnsafeMutableRawBufferPointer(start: buffer, count: capacity)) {
            case .success(let count): return count
            case .failure(let result): return -Int(result.rawValue)
            }
        }
        table.pointee.input_readline = { request, buffer, capacity in
            guard let buffer else { return -Int(DEVSERVE_INVALID_ARGUMENT.rawValue) }
            return copyOut(exchange(request).hostReadLine(limit: capacity), into: buffer)
        }
        table.pointee.input_readlines = { request, hint, each, context in
            guard let each else { return code(DEVSERVE_INVALID_ARGUMENT) }
            return code(exchange(request).hostReadLines(hint: hint) { line in
                line.withUnsafeBufferPointer { each(context, $0.baseAddress, $0.count) }
            })
        }

        table.pointee.errors_write = { request, text, length in
            guard let text else { return code(DEVSERVE_INVALID_ARGUMENT) }
            return code(exchange(request).hostErrorsWrite(utf8Text(text, length)))
        }
        table.pointee.errors_flush = { _ in code(DEVSERVE_OK) }

        table.pointee.start_response = { request, status, statusLength, headers, headerCount, excInfo, badIndex in
            guard let status, headers != nil || headerCount == 0 else { return code(DEVSERVE_INVALID_ARGUMENT) }
            // Borrowed for the call: only the headers kept are copied (an array per name and
            // value first was five allocations per hello request; issue 14).
            let pairs = (0..<headerCount).lazy.map { index in
                let header = headers![index]
                return (name: borrowed(header.name, header.name_length), value: borrowed(header.value, header.value_length))
            }
            let exc = excInfo.map { info in
                (type: utf8Text(info.pointee.type_name, info.pointee.type_name_length),
                 message: utf8Text(info.pointee.message, info.pointee.message_length))
            }
            var bad: Int?
            let result = exchange(request).hostStartResponse(status: borrowed(status, statusLength), headers: pairs, excInfo: exc, badHeader: &bad)
            if let bad, let badIndex { badIndex.pointee = bad }
            return code(result)
        }
        table.pointee.write = { request, data, length in
            guard data != nil || length == 0 else { return code(DEVSERVE_INVALID_ARGUMENT) }
            return code(exchange(request).hostWrite(UnsafeRawBufferPointer(start: data, count: length)))
        }
        table.pointee.raise = { request, type, typeLength, message, messageLength in
            exchange(request).hostRaise(
                type: utf8Text(type, typeLength),
                message: utf8Text(message, messageLength))
            return code(DEVSERVE_OK)
        }
        table.pointee.violation = { request, rule, ruleLength, message, messageLength in
            let name = utf8Text(rule, ruleLength)
            let text = utf8Text(message, messageLength)
            let kind = Violation.Kind(rawValue: name) ?? .reportedByPlugin
            exchange(request).report(Violation(kind, kind == .reportedByPlugin ? "\(name): \(text)" : text))
            return code(DEVSERVE_OK)
        }
        table.pointee.application_environ = { request, text, length in
            guard text != nil || length == 0 else { return code(DEVSERVE_INVALID_ARGUMENT) }
            let lines = utf8Text(text, length)
            exchange(request).observer?.gateway(.applicationEnviron(lines))
            return code(DEVSERVE_OK)
        }
        table.pointee.application_traceback = { request, text, length in
            guard text != nil || length == 0 else { return code(DEVSERVE_INVALID_ARGUMENT) }
            let lines = utf8Text(text, length)
            exchange(request).observer?.gateway(.applicationTraceback(lines))
            return code(DEVSERVE_OK)
        }
        table.pointee.watch_file = { path, length in
            guard let path, length > 0 else { return code(DEVSERVE_INVALID_ARGUMENT) }
            FileWatchRequests.request(utf8Text(path, length))
            return code(DEVSERVE_OK)
        }
        return UnsafePointer(table)
    }()
}

/// Where devserve.h's `watch_file` goes: the worker forwards each path once to the supervisor,
/// which watches it as it watches the plugin file.
public enum FileWatchRequests {
    private static let lock = Lock()
    nonisolated(unsafe) private static var handler: (@Sendable (String) -> Void)?
    nonisolated(unsafe) private static var seen: Set<String> = []

    /// Sets what receives new paths (the worker's event stream); paths asked for before are
    /// passed on at once.
    public static func setHandler(_ handler: @escaping @Sendable (String) -> Void) {
        let pending = lock.withLock { () -> Set<String> in
            self.handler = handler
            return seen
        }
        for path in pending.sorted() { handler(path) }
    }

    /// A plugin asked for `path` to be watched; repeated paths are dropped here.
    static func request(_ path: String) {
        let handler = lock.withLock { () -> (@Sendable (String) -> Void)? in
            guard seen.insert(path).inserted else { return nil }
            return self.handler
        }
        handler?(path)
    }
}
private func exchange(_ request: OpaquePointer?) -> GatewayExchange {
    Unmanaged<GatewayExchange>.fromOpaque(UnsafeRawPointer(request!)).takeUnretainedValue()
}

private func code(_ result: devserve_result) -> Int32 { Int32(bitPattern: result.rawValue) }

/// The bytes at `pointer`, borrowed for the call (empty for a null pointer).
private func borrowed(_ pointer: UnsafePointer<CChar>?, _ length: Int) -> UnsafeRawBufferPointer {
    guard let pointer, length > 0 else { return UnsafeRawBufferPointer(start: nil, count: 0) }
    return UnsafeRawBufferPointer(start: pointer, count: length)
}

/// The bytes at `pointer` as UTF-8 text (invalid sequences repaired), read where they lie.
private func utf8Text(_ pointer: UnsafePointer<CChar>?, _ length: Int) -> String {
    String(decoding: borrowed(pointer, length), as: UTF8.self)
}

private func copyOut(_ result: Result<[UInt8], devserve_result>, into buffer: UnsafeMutablePointer<UInt8>) -> Int {
    switch result {
    case .success(let bytes):
        bytes.withUnsafeBufferPointer { buffer.update(from: $0.baseAddress!, count: $0.count) }
        return bytes.count
    case .failure(let error):
        return -Int(error.rawValue)
    }
}

/// Lets host services return `Result<_, devserve_result>`.
extension devserve_result: @retroactive Error {}
