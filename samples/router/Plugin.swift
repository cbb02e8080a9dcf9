import DevServeSDK

/// The router sample: a routing table in front of several small apps, under a footer
/// middleware; `/shout` is the hello app under a chunk-transforming middleware.
///
///     /hello        hello text
///     /where/...    shows SCRIPT_NAME and PATH_INFO as the router set them
///     /count?n=N    N chunks
///     /shout        hello, upper-cased chunk by chunk
@c public func devserve_plugin_entry() -> UnsafeRawPointer {
    let router = Router([
        ("/hello", Apps.hello),
        ("/where", Apps.whereAmI),
        ("/count", Apps.count),
        ("/shout", MiddlewareStack([Uppercase()], application: Apps.hello).composed),
    ])
    let stack = MiddlewareStack([Footer(line: "-- served by the router sample\n")], application: { try router($0, $1) })
    return Plugin.export(name: "router", stack.composed)
}
