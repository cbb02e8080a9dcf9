/// wsgi.errors: a text stream for the application's error output. PEP 3333, "Input and Error
/// Streams". The application must not close it.
public protocol ErrorOutput: AnyObject {
    /// write(text)
    func write(_ text: String)
    /// flush()
    func flush()
}

extension ErrorOutput {
    /// writelines(lines): writes each string as it is (no newlines are added).
    public func writeLines<S: Sequence>(_ lines: S) where S.Element == String {
        for line in lines { write(line) }
    }
}
