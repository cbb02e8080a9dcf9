import Foundation

/// A new directory under the temporary directory, unique to this test run: `devserve-NAME-PID-XXXXXXXX`.
/// The caller removes it (tearDown or defer).
func makeScratchDirectory(_ name: String) throws -> String {
    let directory = NSTemporaryDirectory() + "devserve-\(name)-\(getpid())-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    return directory
}
