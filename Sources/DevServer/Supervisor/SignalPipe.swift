import CDevServeShim
#if canImport(Glibc)
import Glibc
#endif

/// Delivers SIGINT, SIGTERM and SIGCHLD to the supervisor's poll loop through a pipe (the
/// self-pipe trick): a signal handler may only do async-signal-safe things, and write(2) is
/// one of them.
enum SignalPipe {
    nonisolated(unsafe) private static var writeEnd: Int32 = -1
    /// The read end, for poll.
    nonisolated(unsafe) private(set) static var readEnd: Int32 = -1

    /// Installs the handlers. Call once, before spawning anything.
    static func install() throws {
        var fds: [Int32] = [0, 0]
        guard devserve_shim_pipe_cloexec(&fds) == 0 else { throw SystemCallError(call: "pipe2", errno: errno) }
        for descriptor in fds { _ = fcntl(descriptor, F_SETFL, O_NONBLOCK) }
        readEnd = fds[0]
        writeEnd = fds[1]
        for signal in [SIGINT, SIGTERM, SIGCHLD, SIGHUP] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { number in
                var byte = UInt8(truncatingIfNeeded: number)
                _ = write(SignalPipe.writeEnd, &byte, 1)
            }
            action.sa_flags = SA_RESTART
            sigemptyset(&action.sa_mask)
            sigaction(signal, &action, nil)
        }
        Glibc.signal(SIGPIPE, SIG_IGN)
    }

    /// A request, not a signal: reload now (from `devserve reload` on the control thread).
    static let reloadRequest: Int32 = 254
    /// The same, from the inspector's R key.
    static let inspectorReloadRequest: Int32 = 253
    /// `devserve restart`: replace the worker (a stuck one is killed after the grace).
    static let restartRequest: Int32 = 252

    /// Wakes the poll loop with `code` (a signal number or ``reloadRequest``).
    static func wake(_ code: Int32) {
        var byte = UInt8(truncatingIfNeeded: code)
        _ = write(writeEnd, &byte, 1)
    }

    /// The signals delivered since the last call.
    static func drain() -> [Int32] {
        var signals: [Int32] = []
        var buffer = [UInt8](repeating: 0, count: 64)
        while true {
            let count = read(readEnd, &buffer, buffer.count)
            if count <= 0 { break }
            signals += buffer[0..<count].map { Int32($0) }
        }
        return signals
    }
}
