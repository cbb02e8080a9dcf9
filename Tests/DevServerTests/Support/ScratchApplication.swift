import Foundation

/// A one-file Python application written into its own scratch directory, for the tests that
/// serve one through the real binary. The caller removes it (tearDown or defer).
struct ScratchApplication {
    let directory: String
    /// The application file's path, what `devserve` is given.
    let path: String

    init(_ name: String, source: String) throws {
        directory = try makeScratchDirectory(name)
        path = "\(directory)/\(name).py"
        try source.write(toFile: path, atomically: false, encoding: .utf8)
    }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }
}
