#if canImport(Glibc)
import Glibc
#endif

/// A failed system call: which call, on what, and errno.
public struct SystemCallError: Error, CustomStringConvertible, Sendable {
    /// The call that failed, e.g. "open".
    public let call: String
    /// What it was called on, e.g. a path; may be empty.
    public let subject: String
    public let errno: Int32

    public init(call: String, subject: String = "", errno: Int32) {
        self.call = call
        self.subject = subject
        self.errno = errno
    }

    public var description: String {
        let reason = String(cString: strerror(errno))
        return subject.isEmpty ? "\(call) failed: \(reason) (errno \(errno))" : "\(call) \(subject) failed: \(reason) (errno \(errno))"
    }
}

/// Runs a system call, retrying while it fails with EINTR.
/// - Returns: the call's non-negative result.
/// - Throws: `SystemCallError` naming the call, the subject and errno.
@discardableResult
func systemCall<T: BinaryInteger>(_ name: String, _ subject: @autoclosure () -> String = "", _ body: () -> T) throws -> T {
    while true {
        let result = body()
        if result >= 0 { return result }
        let code = errno
        if code == EINTR { continue }
        throw SystemCallError(call: name, subject: subject(), errno: code)
    }
}
