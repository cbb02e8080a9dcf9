#if canImport(Glibc)
import Glibc
#endif

/// The devserve executable itself: workers are this binary's hidden `worker` subcommand, and
/// the Python bridge is looked for beside it.
public enum WorkerExecutable {
    /// The running binary's path (/proc/self/exe), else argv[0].
    public static var path: String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard count > 0 else { return CommandLine.arguments[0] }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
