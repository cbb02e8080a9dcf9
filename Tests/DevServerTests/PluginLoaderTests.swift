@testable import DevServer
import CDevServe
import Foundation
import XCTest

/// docs/GATEWAY.md, "Native ABI": the loader and its refusals, with fixture plugins.
final class PluginLoaderTests: XCTestCase {
    private var loader: PluginLoader!

    override func setUpWithError() throws { loader = try PluginLoader() }
    override func tearDown() { loader.removeCopies() }

    func testGoodPluginsLoadWhetherWrittenInCOrSwift() throws {
        let swift = try loader.load(Plugins.path("hello"))
        XCTAssertEqual(swift.name, "hello")
        XCTAssertEqual(swift.abi, .host)
        XCTAssertEqual(swift.swiftVersion, SwiftVersion.host, "a Swift plugin records its toolchain")
        let c = try loader.load(Plugins.path("hello-c"))
        XCTAssertEqual(c.name, "hello-c")
        XCTAssertEqual(c.swiftVersion, 0, "a C plugin has no Swift toolchain")
    }

    func testAPluginWithAnotherABIMajorIsRefusedNamingBothVersions() {
        XCTAssertThrowsError(try loader.load(Plugins.path("fixture-wrong-major"))) { error in
            let text = String(describing: error)
            XCTAssertTrue(text.contains("libfixture-wrong-major.so"), text)
            XCTAssertTrue(text.contains("ABI 99.0"), text)
            XCTAssertTrue(text.contains("ABI \(ABIVersion.host)"), text)
        }
    }

    func testALibraryWithoutTheEntrySymbolIsRefusedNamingTheSymbol() {
        XCTAssertThrowsError(try loader.load(Plugins.path("fixture-no-entry"))) { error in
            let text = String(describing: error)
            XCTAssertTrue(text.contains("libfixture-no-entry.so"), text)
            XCTAssertTrue(text.contains("devserve_plugin_entry"), text)
        }
    }

    func testAnInitFailureIsReportedWithThePluginsReason() {
        XCTAssertThrowsError(try loader.load(Plugins.path("fixture-init-fails"))) { error in
            let text = String(describing: error)
            XCTAssertTrue(text.contains("libfixture-init-fails.so"), text)
            XCTAssertTrue(text.contains("database at /nonexistent is unreachable"), text)
        }
    }

    func testAPluginBuiltByAnotherSwiftToolchainIsRefusedNamingBoth() {
        XCTAssertThrowsError(try loader.load(Plugins.path("fixture-wrong-toolchain"))) { error in
            let text = String(describing: error)
            XCTAssertTrue(text.contains("Swift 5.9.0"), text)
            XCTAssertTrue(text.contains("Swift \(SwiftVersion.format(SwiftVersion.host))"), text)
        }
    }

    func testAMissingFileIsRefusedNamingThePath() {
        XCTAssertThrowsError(try loader.load("/nonexistent/app.so")) { error in
            XCTAssertEqual(String(describing: error), "/nonexistent/app.so: no such file")
        }
    }

    func testAFileThatIsNotASharedLibraryIsRefusedWithTheDynamicLinkersReason() throws {
        for content in ["not an ELF file", ""] {
            let path = NSTemporaryDirectory() + "devserve-not-a-plugin-\(getpid()).so"
            _ = FileManager.default.createFile(atPath: path, contents: Data(content.utf8))
            defer { try? FileManager.default.removeItem(atPath: path) }
            XCTAssertThrowsError(try loader.load(path)) { error in
                let text = String(describing: error)
                XCTAssertTrue(text.hasPrefix("\(path): not a loadable shared library:"), text)
            }
        }
    }

    func testATruncatedPluginIsRefused() throws {
        let original = try Data(contentsOf: URL(fileURLWithPath: Plugins.path("hello-c")))
        let path = NSTemporaryDirectory() + "devserve-truncated-\(getpid()).so"
        _ = FileManager.default.createFile(atPath: path, contents: original.prefix(original.count / 3))
        defer { try? FileManager.default.removeItem(atPath: path) }
        XCTAssertThrowsError(try loader.load(path)) { error in
            XCTAssertTrue(String(describing: error).contains("not a loadable shared library"), "\(error)")
        }
    }

    func testEachLoadUsesANewPrivateCopySoARebuiltFileIsReallyLoaded() throws {
        let first = try loader.load(Plugins.path("hello-c"))
        let second = try loader.load(Plugins.path("hello-c"))
        XCTAssertNotEqual(first.loadedPath, second.loadedPath)
        XCTAssertTrue(first.loadedPath.hasPrefix(loader.copyDirectory))
        XCTAssertNotEqual(first.descriptor, second.descriptor, "two images, not the same one twice")
    }

    func testTheDescriptorChecksAcceptAnOlderMinorAndRefuseANewerOneOrATooSmallStruct() {
        var descriptor = devserve_plugin()
        descriptor.size = UInt32(MemoryLayout<devserve_plugin>.size)
        descriptor.abi_major = UInt16(DEVSERVE_ABI_MAJOR)
        descriptor.abi_minor = 0
        XCTAssertNoThrow(try PluginLoader.check(&descriptor, path: "p.so"), "an older (or equal) minor keeps loading")
        descriptor.abi_minor = UInt16(DEVSERVE_ABI_MINOR) + 1
        XCTAssertThrowsError(try PluginLoader.check(&descriptor, path: "p.so")) { error in
            XCTAssertTrue(String(describing: error).contains("upgrade devserve"), "\(error)")
        }
        descriptor.abi_minor = 0
        descriptor.size = 8
        XCTAssertThrowsError(try PluginLoader.check(&descriptor, path: "p.so")) { error in
            XCTAssertTrue(String(describing: error).contains("descriptor is 8 bytes"), "\(error)")
        }
    }
}
