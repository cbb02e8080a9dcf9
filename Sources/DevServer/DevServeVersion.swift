/// devserve's own version, shown by `--version` and in SERVER_SOFTWARE and the Server header.
public enum DevServeVersion {
    public static let current = "0.1.0"
}
