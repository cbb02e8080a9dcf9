#if canImport(Glibc)
import Glibc
#endif

/// IMF-fixdate for the Date header (RFC 9110 section 5.6.7), cached per second: formatting
/// on every response would be a measurable cost at tens of thousands of requests a second.
enum HTTPDate {
    private static let cache = Cache()

    /// The current time, e.g. "Sat, 21 Nov 2026 16:00:00 GMT".
    @Sendable static func now() -> String { cache.current() }

    /// Formats seconds since the epoch.
    static func format(_ seconds: Int) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) \(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }

    private final class Cache: @unchecked Sendable {
        private let lock = Lock()
        private var second = -1
        private var text = ""

        func current() -> String {
            let now = Int(time(nil))
            return lock.withLock {
                if now != second {
                    second = now
                    text = HTTPDate.format(now)
                }
                return text
            }
        }
    }
}
