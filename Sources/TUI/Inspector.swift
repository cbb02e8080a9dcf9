/// The inspector: arrives with its own issue.
public enum Inspector {}
