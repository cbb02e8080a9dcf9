import CDevServeShim
import NIOCore

/// A connection's place in the table the worker's crash handler answers from
/// (crash_answers.c): when the worker dies by a crash signal or an `exit()` inside a request,
/// every connection whose request has not started its response gets 500 (the request that
/// crashed) or 503 with `Retry-After: 0` (the others) instead of an empty reply.
///
/// Used on the connection's event loop only.
struct CrashAnswerSlot {
    private let index: Int32

    /// Takes a slot for the connection with these addresses; none (and no answer on a crash)
    /// for a unix socket or when the table's 4,096 slots are taken.
    init(local: SocketAddress?, peer: SocketAddress?) {
        guard let local, let peer else {
            index = -1
            return
        }
        index = Self.withBytes(of: local) { localBytes in
            Self.withBytes(of: peer) { peerBytes in
                guard !localBytes.isEmpty, !peerBytes.isEmpty else { return -1 }
                return devserve_shim_connection_open(localBytes.baseAddress, localBytes.count, peerBytes.baseAddress, peerBytes.count)
            }
        }
    }

    /// The connection now waits for the response to request `id`.
    func waiting(for id: String) {
        guard index >= 0 else { return }
        var id = id
        id.withUTF8 { devserve_shim_connection_request(index, $0.baseAddress, $0.count) }
    }

    /// Called before the first bytes of a response go out: false when the crash handler has
    /// already answered this connection (the process is dying; write nothing more).
    func mayStartResponse() -> Bool {
        index < 0 || devserve_shim_connection_head(index) != 0
    }

    /// The response is over; the connection waits for the next request.
    func idle() {
        if index >= 0 { devserve_shim_connection_idle(index) }
    }

    func release() {
        if index >= 0 { devserve_shim_connection_close(index) }
    }

    /// The `sockaddr` bytes getsockname/getpeername return for this address.
    private static func withBytes<T>(of address: SocketAddress, _ body: (UnsafeRawBufferPointer) -> T) -> T {
        switch address {
        case .v4(let v4):
            var raw = v4.address
            return withUnsafeBytes(of: &raw) { body($0) }
        case .v6(let v6):
            var raw = v6.address
            return withUnsafeBytes(of: &raw) { body($0) }
        case .unixDomainSocket:
            return body(UnsafeRawBufferPointer(start: nil, count: 0))
        }
    }
}
