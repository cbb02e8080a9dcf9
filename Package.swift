// swift-tools-version:6.0
import PackageDescription

// The layout, and why:
// - CDevServe: the C ABI header shared by the host and every plugin (the only thing they share).
// - DevServeSDK: Swift over the C ABI, for plugin authors. Linked statically into each plugin
//   and never into the host: a Swift module copied into both sides breaks dynamic casts.
// - DevServer: the host library (loader, gateway core; later worker, supervisor, recorder).
// - DevServeCLI: the `devserve` executable.
// - samples/* and Tests/Fixtures/*: plugins, each a dynamic library product (lib<name>.so).

let samples: [(product: String, target: String, path: String, isC: Bool)] = [
    ("hello", "HelloSample", "samples/hello", false),
    ("hello-c", "HelloCSample", "samples/hello-c", true),
    ("stream", "StreamSample", "samples/stream", false),
    ("echo", "EchoSample", "samples/echo", false),
    ("router", "RouterSample", "samples/router", false),
    ("errors", "ErrorsSample", "samples/errors", false),
    ("files", "FilesSample", "samples/files", false),
    ("bench", "BenchSample", "samples/bench", false),
    // Loader and conformance fixtures (Tests/Fixtures/README.md says what each one is for).
    ("fixture-wrong-major", "FixtureWrongMajor", "Tests/Fixtures/wrong-major", true),
    ("fixture-no-entry", "FixtureNoEntry", "Tests/Fixtures/no-entry", true),
    ("fixture-init-fails", "FixtureInitFails", "Tests/Fixtures/init-fails", true),
    ("fixture-wrong-toolchain", "FixtureWrongToolchain", "Tests/Fixtures/wrong-toolchain", true),
    ("fixture-conformance", "FixtureConformance", "Tests/Fixtures/conformance", true),
    ("fixture-crash-on-start", "FixtureCrashOnStart", "Tests/Fixtures/crash-on-start", true),
]

/// Release builds skip Swift's run-time exclusivity checks on the request path (issue 14:
/// 2.5% of the worker's and 3.5% of the supervisor's time, docs/DECISIONS.md); debug builds,
/// which the tests run, keep them.
let releaseSettings: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

let package = Package(
    name: "devserve",
    products: [
        .executable(name: "devserve", targets: ["DevServeCLI"]),
        .library(name: "DevServeSDK", targets: ["DevServeSDK"]),
        // The Python bridge: `devserve app.py` loads it like any plugin (lib devserve-python.so).
        .library(name: "devserve-python", type: .dynamic, targets: ["DevServePython"]),
    ] + samples.map { .library(name: $0.product, type: .dynamic, targets: [$0.target]) },
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
    ],
    targets: [
        .target(name: "CDevServe"),
        .target(name: "CDevServeShim"),
        .target(name: "DevServeSDK", dependencies: ["CDevServe"]),
        // C++ only for its raw string literal: the Python half (glue.py.inc) is compiled in
        // as one string. No Python header: libpython is loaded at run time (DECISIONS.md).
        .target(name: "DevServePython", dependencies: ["CDevServe"], exclude: ["glue.py.inc"], publicHeadersPath: "."),
        .target(
            name: "DevServer",
            dependencies: [
                "CDevServe", "CDevServeShim",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: releaseSettings),
        .systemLibrary(name: "CNcursesw", providers: [.apt(["libncurses-dev"])]),
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "TUI", dependencies: ["DevServer", "CDevServeShim", "CNcursesw", "CZlib"]),
        .executableTarget(
            name: "DevServeCLI",
            dependencies: [
                "DevServer", "TUI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: releaseSettings),
        // bench/run.sh's "NIO floor" row: a SwiftNIO server that does nothing but answer.
        .executableTarget(
            name: "NIOFloor",
            dependencies: [.product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio")],
            path: "bench/nio-floor",
            swiftSettings: releaseSettings),
        .testTarget(
            name: "DevServerTests",
            dependencies: [
                "DevServer",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            exclude: []),
        .testTarget(
            name: "TUITests",
            dependencies: ["TUI", "DevServer"],
            exclude: ["Screens"]),
    ] + samples.map { sample in
        sample.isC
            ? .target(name: sample.target, dependencies: ["CDevServe"], path: sample.path, exclude: sample.path.hasPrefix("Tests") ? [] : [], publicHeadersPath: ".")
            : .target(name: sample.target, dependencies: ["DevServeSDK"], path: sample.path)
    }
)
