import ArgumentParser

/// A size in bytes on the command line: 1048576, 512K, 64M, 1G (binary multiples).
struct ByteSize: ExpressibleByArgument, CustomStringConvertible {
    let bytes: Int

    init(_ bytes: Int) { self.bytes = bytes }

    init?(argument: String) {
        let text = argument.uppercased().replacingSuffix("IB", with: "").replacingSuffix("B", with: "")
        let multipliers: [Character: Int] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30]
        if let last = text.last, let multiplier = multipliers[last], let value = Int(text.dropLast()), value >= 0 {
            bytes = value * multiplier
        } else if let value = Int(text), value >= 0 {
            bytes = value
        } else {
            return nil
        }
    }

    var description: String {
        if bytes % (1 << 30) == 0 && bytes > 0 { return "\(bytes >> 30)G" }
        if bytes % (1 << 20) == 0 && bytes > 0 { return "\(bytes >> 20)M" }
        if bytes % (1 << 10) == 0 && bytes > 0 { return "\(bytes >> 10)K" }
        return String(bytes)
    }

    var defaultValueDescription: String { description }
}

extension String {
    fileprivate func replacingSuffix(_ suffix: String, with replacement: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) + replacement : self
    }
}
