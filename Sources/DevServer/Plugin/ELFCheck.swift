#if canImport(Glibc)
import Glibc
#endif

/// A cheap look at a plugin file before dlopen maps it.
///
/// dlopen of a truncated ELF (a linker still writing it, an interrupted copy) maps segments
/// past the end of the file, and the first touch of those pages is SIGBUS, which no error
/// handling can catch. So before dlopen we check that the file is a 64-bit little-endian ELF
/// shared object whose bytes cover every segment and the section header table.
enum ELFCheck {
    /// - Returns: nil when the file looks whole, else the reason it cannot be loaded.
    static func problem(path: String) -> String? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return "cannot open it: \(CText.errorText(errno))" }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return "cannot stat it: \(CText.errorText(errno))" }
        let size = UInt64(info.st_size)
        guard size >= 64 else { return "it is \(size) bytes, too small to be an ELF shared object" }
        var header = [UInt8](repeating: 0, count: 64)
        guard read(descriptor, &header, 64) == 64 else { return "cannot read its ELF header" }
        guard header[0...3] == [0x7F, 0x45, 0x4C, 0x46] else { return "it is not an ELF file" }
        guard header[4] == 2, header[5] == 1 else { return "it is not a 64-bit little-endian ELF file" }
        let type = little(header, 16, 2)
        guard type == 3 else { return "it is an ELF file but not a shared object (e_type \(type))" }
        let programOffset = little(header, 0x20, 8)
        let sectionOffset = little(header, 0x28, 8)
        let programEntrySize = little(header, 0x36, 2)
        let programCount = little(header, 0x38, 2)
        let sectionEntrySize = little(header, 0x3A, 2)
        let sectionCount = little(header, 0x3C, 2)

        var needed = sectionOffset + sectionEntrySize * sectionCount
        let tableSize = programEntrySize * programCount
        guard programEntrySize >= 56, programOffset + tableSize <= size else {
            return truncated(size: size, needed: programOffset + tableSize)
        }
        var table = [UInt8](repeating: 0, count: Int(tableSize))
        guard pread(descriptor, &table, Int(tableSize), off_t(programOffset)) == Int(tableSize) else { return "cannot read its program headers" }
        for index in 0..<Int(programCount) {
            let base = index * Int(programEntrySize)
            let fileOffset = little(table, base + 8, 8)
            let fileSize = little(table, base + 32, 8)
            needed = max(needed, fileOffset + fileSize)
        }
        return needed > size ? truncated(size: size, needed: needed) : nil
    }

    private static func truncated(size: UInt64, needed: UInt64) -> String {
        "it is truncated: \(size) bytes where its ELF headers need \(needed) (is the linker still writing it?)"
    }

    private static func little(_ bytes: [UInt8], _ offset: Int, _ count: Int) -> UInt64 {
        (0..<count).reduce(0) { $0 | UInt64(bytes[offset + $1]) << (8 * UInt64($1)) }
    }
}
