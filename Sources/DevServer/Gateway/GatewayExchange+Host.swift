import CDevServe

/// The services behind devserve.h's host function table, for one exchange. The C trampolines
/// in ``HostFunctionTable`` call these.
extension GatewayExchange {
    /// Whether the request is over (its iterable closed): environ access then says so.
    var hasEnded: Bool { phase == .ended }

    /// Refuses use of the request after the iterable's close() began: the "iteration after
    /// close" rule. wsgi.errors stays writable during close() (cleanup code logs).
    func requireRunning(_ operation: String) -> Bool {
        guard phase == .running else {
            report(Violation(.iterationAfterClose, "\(operation) called after the response iterable was closed"))
            return false
        }
        return true
    }

    /// start_response: PEP 3333, "The start_response() Callable".
    func hostStartResponse<Name: Collection<UInt8>, Value: Collection<UInt8>>(
        status: some Collection<UInt8>, headers: some Collection<(name: Name, value: Value)>, excInfo: (type: String, message: String)?,
        badHeader: inout Int?
    ) -> devserve_result {
        guard requireRunning("start_response") else { return DEVSERVE_REQUEST_ENDED }
        let replacing: Bool
        if case .staged = machine.state { replacing = true } else { replacing = false }
        let (result, bad, violations) = machine.startResponse(status: status, headers: headers, hasExcInfo: excInfo != nil)
        for violation in violations { report(violation) }
        badHeader = bad
        switch result {
        case DEVSERVE_OK, DEVSERVE_INVALID_HEADER:
            if let excInfo, replacing {
                observer?.gateway(.errors("start_response replaced the staged response because of \(excInfo.type): \(excInfo.message)\n"))
            }
            if let observer, case .staged(let head) = machine.state {
                let headers = observer.wantsDetail ? head.headers.map { (name: $0.name, value: Latin1.decode($0.value)) } : []
                observer.gateway(.responseStarted(status: observer.wantsDetail ? String(decoding: head.status, as: UTF8.self) : "", headers: headers, replaced: replacing))
            }
        case DEVSERVE_HEADERS_ALREADY_SENT:
            mustReraise = true
        default:
            break
        }
        return result
    }

    /// write(data): PEP 3333, "The write() Callable".
    func hostWrite(_ bytes: UnsafeRawBufferPointer) -> devserve_result {
        guard requireRunning("write()") else { return DEVSERVE_REQUEST_ENDED }
        if case .awaitingStartResponse = machine.state, !bytes.isEmpty {
            perform(machine.chunk(count: bytes.count, fromWrite: true))
            return DEVSERVE_NOT_STARTED
        }
        if isClientGone { return DEVSERVE_CLIENT_GONE }
        let output = send(chunk: bytes, fromWrite: true)
        if output.exceeded { return DEVSERVE_CONTENT_LENGTH_EXCEEDED }
        return isClientGone ? DEVSERVE_CLIENT_GONE : DEVSERVE_OK
    }

    /// wsgi.input read(n) straight into the application's buffer: the count, 0 at end of
    /// stream, or a devserve_result on failure.
    func hostRead(into buffer: UnsafeMutableRawBufferPointer) -> Result<Int, devserve_result> {
        guard requireRunning("wsgi.input.read") else { return .failure(DEVSERVE_REQUEST_ENDED) }
        do { return .success(try input.read(into: buffer)) } catch { return .failure(DEVSERVE_IO_ERROR) }
    }

    /// wsgi.input readline(limit).
    func hostReadLine(limit: Int) -> Result<[UInt8], devserve_result> {
        guard requireRunning("wsgi.input.readline") else { return .failure(DEVSERVE_REQUEST_ENDED) }
        do { return .success(try input.readLine(limit: limit)) } catch { return .failure(DEVSERVE_IO_ERROR) }
    }

    /// wsgi.input readlines(hint).
    func hostReadLines(hint: Int, each: ([UInt8]) -> Void) -> devserve_result {
        guard requireRunning("wsgi.input.readlines") else { return DEVSERVE_REQUEST_ENDED }
        do {
            try input.readLines(hint: hint, each: each)
            return DEVSERVE_OK
        } catch {
            return DEVSERVE_IO_ERROR
        }
    }

    /// wsgi.errors write(text).
    func hostErrorsWrite(_ text: String) -> devserve_result {
        guard phase != .ended else {
            report(Violation(.iterationAfterClose, "wsgi.errors written after the request ended"))
            return DEVSERVE_REQUEST_ENDED
        }
        observer?.gateway(.errors(text))
        return DEVSERVE_OK
    }

    /// Records the exception the application is raising.
    func hostRaise(type: String, message: String) {
        raised = (type, message)
    }
}
