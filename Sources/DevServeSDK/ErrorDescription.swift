/// How a Swift error is named when it crosses the gateway (exc_info, raise).
enum ErrorDescription {
    /// The error's type, e.g. `MyApp.DatabaseError`.
    static func typeName(of error: any Error) -> String { String(reflecting: type(of: error)) }

    /// The error's message: its description.
    static func message(of error: any Error) -> String { String(describing: error) }
}
