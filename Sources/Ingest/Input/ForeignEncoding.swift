/// Recognises a file written in UTF-16 or UTF-32 instead of UTF-8, so every input reader (cost
/// events, order exports) refuses it whole with `encodingMustBeUTF8`, one error naming the encoding,
/// instead of a NUL-byte or invalid-UTF-8 rejection per line. Excel's "Unicode text" and many
/// Windows tools write UTF-16, with or without a byte order mark.
enum ForeignEncoding {
    /// Byte order marks, longest first: UTF-32 LE starts like UTF-16 LE.
    static let byteOrderMarks: [(bytes: [UInt8], name: String)] = [
        ([0xFF, 0xFE, 0x00, 0x00], "UTF-32 little-endian (byte order mark FF FE 00 00)"),
        ([0x00, 0x00, 0xFE, 0xFF], "UTF-32 big-endian (byte order mark 00 00 FE FF)"),
        ([0xFF, 0xFE], "UTF-16 little-endian (byte order mark FF FE)"),
        ([0xFE, 0xFF], "UTF-16 big-endian (byte order mark FE FF)"),
    ]

    /// Bytes looked at for UTF-16 without a byte order mark.
    static let sniffBytesMax = 256
    /// Fewer bytes than this prove nothing about a mark-less file.
    static let sniffBytesMin = 4

    /// The encoding `head` (a file's first bytes, after inflating) is written in, when it is UTF-16 or
    /// UTF-32; nil otherwise. Without a byte order mark, UTF-16 is recognised by a NUL in every other
    /// byte and in no other: ASCII text in UTF-16 looks exactly so, and UTF-8 text never has a NUL.
    static func detect(_ head: ArraySlice<UInt8>) -> String? {
        for mark in byteOrderMarks where head.starts(with: mark.bytes) { return mark.name }
        let sample = Array(head.prefix(sniffBytesMax))
        let count = sample.count & ~1
        guard count >= sniffBytesMin else { return nil }
        let evens = stride(from: 0, to: count, by: 2).map { sample[$0] }
        let odds = stride(from: 1, to: count, by: 2).map { sample[$0] }
        if odds.allSatisfy({ $0 == 0 }), !evens.contains(0) {
            return "UTF-16 little-endian (no byte order mark: a NUL in every other byte)"
        }
        if evens.allSatisfy({ $0 == 0 }), !odds.contains(0) {
            return "UTF-16 big-endian (no byte order mark: a NUL in every other byte)"
        }
        return nil
    }

    /// The file-level refusal for `head`, or nil when it may be UTF-8.
    static func refusal(_ head: ArraySlice<UInt8>, displayName: String) -> Rejection? {
        detect(head).map {
            Rejection(.encodingMustBeUTF8, file: displayName, detail: "the file is \($0), not UTF-8")
        }
    }
}
