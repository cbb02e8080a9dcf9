#if canImport(Glibc)
import Glibc
#endif

/// Copies files with plain system calls (no Foundation in the host's hot paths).
enum FileCopy {
    /// Copies `source` to a new file `destination` (which must not exist), mode 0700.
    /// - Throws: `SystemCallError` naming the call and the path.
    static func copy(from source: String, to destination: String) throws {
        let input = try systemCall("open", source) { open(source, O_RDONLY | O_CLOEXEC) }
        defer { close(input) }
        let output = try systemCall("open", destination) { open(destination, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o700) }
        defer { close(output) }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = try buffer.withUnsafeMutableBytes { raw in
                try systemCall("read", source) { read(input, raw.baseAddress, raw.count) }
            }
            if count == 0 { return }
            var offset = 0
            while offset < count {
                let written = try buffer.withUnsafeBytes { raw in
                    try systemCall("write", destination) { write(output, raw.baseAddress! + offset, count - offset) }
                }
                offset += written
            }
        }
    }
}
