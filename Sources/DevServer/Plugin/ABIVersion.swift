import CDevServe

/// A plugin ABI version, major.minor (devserve.h's DEVSERVE_ABI_MAJOR / MINOR).
public struct ABIVersion: Sendable, Equatable, CustomStringConvertible {
    public let major: UInt16
    public let minor: UInt16

    public init(major: UInt16, minor: UInt16) {
        self.major = major
        self.minor = minor
    }

    /// The version this devserve speaks.
    public static let host = ABIVersion(major: UInt16(DEVSERVE_ABI_MAJOR), minor: UInt16(DEVSERVE_ABI_MINOR))

    public var description: String { "\(major).\(minor)" }
}

/// Swift compiler versions as devserve.h encodes them (major*10000 + minor*100 + patch).
public enum SwiftVersion {
    /// The Swift compiler that built this devserve.
    public static let host = devserve_compiled_swift_version()

    /// 60301 as "6.3.1"; 0 as "none (C)".
    public static func format(_ encoded: UInt32) -> String {
        encoded == 0 ? "none (C)" : "\(encoded / 10000).\(encoded / 100 % 100).\(encoded % 100)"
    }
}
