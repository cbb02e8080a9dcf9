/// The environ a request's application is about to be called with, lent to observers for
/// the call (``GatewayEvent/started(environ:)``): the application may change it afterwards, so
/// an observer that keeps it copies it (``compact``). The worker's reporter encodes it straight
/// from the arena into its frame (issue 14: a compact copy first was two arrays and a copy of
/// every byte per request).
public struct EnvironView {
    let store: EnvironStore

    /// A copy, in one blob.
    public var compact: CompactEnviron { store.compact }
}
